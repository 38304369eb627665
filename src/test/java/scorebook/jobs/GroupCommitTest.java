package scorebook.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import scorebook.store.Database;
import scorebook.testing.TestServer;
import scorebook.testing.Wait;

/** The group commit on a real database file: answers per caller, failures alone, the lead handed on. */
class GroupCommitTest {
    private Path dir;
    private Database db;
    /** Batches in the order written, each with the name of the thread that wrote it. */
    private final List<String> batches = Collections.synchronizedList(new ArrayList<>());

    @BeforeEach
    void open() {
        dir = TestServer.tempDir();
        db = Database.open(dir);
        db.write(h -> h.execute("CREATE TABLE items (name TEXT PRIMARY KEY)"));
    }

    @AfterEach
    void close() {
        db.close();
        TestServer.deleteTree(dir);
    }

    /** Stores each item (a repeated name fails the whole batch) and answers its rowid. */
    private GroupCommit<String, Long> commit(CountDownLatch inFirstBatch, CountDownLatch release) {
        return new GroupCommit<>(db, 100, (h, items) -> {
            batches.add(Thread.currentThread().getName() + ":" + String.join(",", items));
            if (inFirstBatch != null && inFirstBatch.getCount() > 0) {
                inFirstBatch.countDown();
                await(release);
            }
            List<Long> out = new ArrayList<>();
            for (String item : items) {
                out.add(h.createQuery("INSERT INTO items (name) VALUES (?) RETURNING rowid").bind(0, item)
                        .mapTo(Long.class).one());
            }
            return out;
        });
    }

    @Test
    void concurrentCallersEachGetTheirOwnAnswerAndEveryItemIsStoredOnce() throws Exception {
        GroupCommit<String, Long> c = commit(null, null);
        List<Future<Long>> answers = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(16)) {
            for (int i = 0; i < 400; i++) {
                String name = "item" + i;
                answers.add(pool.submit(() -> c.write(name)));
            }
        }
        Set<Long> ids = new HashSet<>();
        for (int i = 0; i < answers.size(); i++) {
            long id = answers.get(i).get();
            assertTrue(ids.add(id), "one row per caller");
            String stored = db.read(h -> h.createQuery("SELECT name FROM items WHERE rowid = ?").bind(0, id)
                    .mapTo(String.class).one());
            assertEquals("item" + i, stored, "each caller's answer is its own item's");
        }
        assertEquals(400, (int) db.read(h -> h.createQuery("SELECT count(*) FROM items").mapTo(Integer.class).one()));
    }

    @Test
    void aFailingItemFailsAloneAndLeavesNothingOfItself() throws Exception {
        db.write(h -> h.execute("INSERT INTO items (name) VALUES ('taken')"));
        CountDownLatch inFirst = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        GroupCommit<String, Long> c = commit(inFirst, release);
        AtomicReference<Object> first = new AtomicReference<>();
        AtomicReference<Object> fine = new AtomicReference<>();
        AtomicReference<Object> taken = new AtomicReference<>();
        Thread t1 = caller("first", c, first);
        await(inFirst);
        Thread t2 = waitingCaller("fine", c, fine);
        Thread t3 = waitingCaller("taken", c, taken);
        release.countDown();
        t1.join();
        t2.join();
        t3.join();
        assertTrue(first.get() instanceof Long, String.valueOf(first.get()));
        assertTrue(fine.get() instanceof Long, "the good item of the failed batch is written again on its own: " + fine.get());
        assertTrue(String.valueOf(taken.get()).contains("UNIQUE"), String.valueOf(taken.get()));
        assertEquals(List.of("first:first", "fine:fine,taken", "fine:fine", "fine:taken"), batches);
        assertEquals(List.of("fine", "first", "taken"), db.read(h -> h.createQuery("SELECT name FROM items ORDER BY name")
                .mapTo(String.class).list()));
    }

    /** A platform thread named {@code item} that writes it and leaves its answer or exception in {@code out}. */
    private static Thread caller(String item, GroupCommit<String, Long> c, AtomicReference<Object> out) {
        return Thread.ofPlatform().name(item).start(() -> {
            try {
                out.set(c.write(item));
            } catch (RuntimeException e) {
                out.set(e);
            }
        });
    }

    /** A {@link #caller} that is waiting for its answer (behind a leader that is writing) when this returns. */
    private static Thread waitingCaller(String item, GroupCommit<String, Long> c, AtomicReference<Object> out) {
        Thread t = caller(item, c, out);
        Wait.until(item + " waits", () -> t.getState() == Thread.State.WAITING);
        return t;
    }

    @Test
    void theLeaderReturnsOnceItsOwnItemIsWrittenAndTheNextCallerWritesTheRest() throws Exception {
        CountDownLatch inFirst = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        GroupCommit<String, Long> c = commit(inFirst, release);
        AtomicReference<Object> leaderAnswer = new AtomicReference<>();
        Thread leader = caller("a", c, leaderAnswer);
        await(inFirst);
        Thread second = waitingCaller("b", c, new AtomicReference<>());
        Thread third = waitingCaller("c", c, new AtomicReference<>());
        release.countDown();
        leader.join();
        second.join();
        third.join();
        assertTrue(leaderAnswer.get() instanceof Long, String.valueOf(leaderAnswer.get()));
        assertEquals(List.of("a:a", "b:b,c"), batches,
                "the leader wrote only its own batch; the oldest waiting caller led the next one");
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
