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
 * A group commit: concurrent writers share transactions. The first caller to come while no batch is being written
 * leads: it writes its own item and every item that arrived meanwhile, up to {@code max} per transaction, and each
 * caller gets its own answer. Once its own item is written the leader hands the lead to the oldest waiting caller
 * and returns: a leader that wrote batch after batch until none was left kept its own request waiting for other
 * requests' commits (under the jobs benchmark's steady load, two or three of them). The writing happens on callers'
 * threads, so nothing waits on a timer. When a batch fails, its items are written again one per transaction, so
 * that one bad item (a user deleted meanwhile) fails alone.
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

    /** What a waiting caller's future gets instead of its answer when it is handed the lead. */
    private static final Object LEAD = new Object();

    /** A caller's item and the future of its answer, which a hand-off completes with {@link #LEAD} instead. */
    private static final class Pending<T> {
        final T item;
        /** Replaced by the new leader (before it writes anything), so that it can wait for its answer again. */
        volatile CompletableFuture<Object> done = new CompletableFuture<>();

        Pending(T item) {
            this.item = item;
        }

        T item() {
            return item;
        }

        CompletableFuture<Object> done() {
            return done;
        }
    }

    private final Database db;
    private final int max;
    private final Writer<T, R> writer;
    private final ReentrantLock lock = new ReentrantLock();
    private final ArrayDeque<Pending<T>> waiting = new ArrayDeque<>();
    private boolean flushing;

    GroupCommit(Database db, int max, Writer<T, R> writer) {
        this.db = db;
        this.max = max;
        this.writer = writer;
    }

    /** Writes the item in the next shared transaction and answers what the writer made of it. */
    @SuppressWarnings("unchecked")
    R write(T item) {
        Pending<T> mine = new Pending<>(item);
        boolean lead;
        lock.lock();
        try {
            waiting.add(mine);
            lead = !flushing;
            flushing = true;
        } finally {
            lock.unlock();
        }
        Object answer = lead ? LEAD : join(mine);
        if (answer == LEAD) {
            mine.done = new CompletableFuture<>();
            lead(mine);
            answer = join(mine);
        }
        return (R) answer;
    }

    /** Writes batches from the oldest waiting item on until {@code mine} is written, then hands the lead on. */
    private void lead(Pending<T> mine) {
        Pending<T> next = null;
        try {
            while (!mine.done().isDone()) {
                List<Pending<T>> batch = new ArrayList<>();
                lock.lock();
                try {
                    while (!waiting.isEmpty() && batch.size() < max) {
                        batch.add(waiting.poll());
                    }
                } finally {
                    lock.unlock();
                }
                if (batch.isEmpty()) {
                    break; // cannot happen while mine waits; never spin
                }
                flush(batch);
            }
        } finally {
            lock.lock();
            try {
                next = waiting.peek();
                flushing = next != null;
            } finally {
                lock.unlock();
            }
            if (next != null) {
                next.done().complete(LEAD);
            }
        }
    }

    private static Object join(Pending<?> p) {
        try {
            return p.done().join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    private void flush(List<Pending<T>> batch) {
        List<R> out;
        try {
            out = db.write(h -> writer.write(h, batch.stream().map(Pending::item).toList()));
        } catch (RuntimeException | Error e) {
            if (batch.size() == 1) {
                batch.getFirst().done().completeExceptionally(e);
                return;
            }
            for (Pending<T> p : batch) {
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
