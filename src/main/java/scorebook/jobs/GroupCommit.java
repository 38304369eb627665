package scorebook.jobs;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.locks.ReentrantLock;

import org.jdbi.v3.core.Handle;

import scorebook.store.Database;

/**
 * A group commit: concurrent writers of the same kind share transactions. The first caller to come while no
 * batch is being written leads: it writes its own item and every item that arrived meanwhile, up to {@code max}
 * per transaction, batch after batch until none is left, and each caller gets its own answer. The leader's
 * thread does the writing, so there is no hand-off to another thread and nothing waits on a timer. When a batch
 * fails, its items are written again one per transaction, so that one bad item (a user deleted meanwhile) fails
 * alone.
 *
 * @param <T> what a caller writes
 * @param <R> what it gets back
 */
final class GroupCommit<T, R> {
    /** Writes a batch inside the transaction, answering one result per item, in order. */
    @FunctionalInterface
    interface Writer<T, R> {
        List<R> write(Handle h, List<T> items);
    }

    private record Pending<T, R>(T item, CompletableFuture<R> done) {
    }

    private final Database db;
    private final int max;
    private final Writer<T, R> writer;
    private final ReentrantLock lock = new ReentrantLock();
    private final ArrayDeque<Pending<T, R>> waiting = new ArrayDeque<>();
    private boolean flushing;

    GroupCommit(Database db, int max, Writer<T, R> writer) {
        this.db = db;
        this.max = max;
        this.writer = writer;
    }

    /** Writes the item in the next shared transaction and answers what the writer made of it. */
    R write(T item) {
        Pending<T, R> mine = new Pending<>(item, new CompletableFuture<>());
        boolean lead;
        lock.lock();
        try {
            waiting.add(mine);
            lead = !flushing;
            flushing = true;
        } finally {
            lock.unlock();
        }
        if (lead) {
            while (true) {
                List<Pending<T, R>> batch = new ArrayList<>();
                lock.lock();
                try {
                    while (!waiting.isEmpty() && batch.size() < max) {
                        batch.add(waiting.poll());
                    }
                    if (batch.isEmpty()) {
                        flushing = false;
                        break;
                    }
                } finally {
                    lock.unlock();
                }
                flush(batch);
            }
        }
        try {
            return mine.done().join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    private void flush(List<Pending<T, R>> batch) {
        List<R> out;
        try {
            out = db.write(h -> writer.write(h, batch.stream().map(Pending::item).toList()));
        } catch (RuntimeException | Error e) {
            if (batch.size() == 1) {
                batch.getFirst().done().completeExceptionally(e);
                return;
            }
            for (Pending<T, R> p : batch) {
                try {
                    p.done().complete(db.write(h -> writer.write(h, List.of(p.item())).getFirst()));
                } catch (RuntimeException | Error one) {
                    p.done().completeExceptionally(one);
                }
            }
            return;
        }
        for (int i = 0; i < batch.size(); i++) {
            batch.get(i).done().complete(out.get(i));
        }
    }
}
