package scorebook.runner;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Live changes of runs, for server-sent events: publishers post an event per changed row, each
 * subscriber of that run gets its own queue. Nothing is kept for runs nobody watches.
 */
public final class RunEvents {
    /** One change: {@code type} is "row" (with its index), "totals" (after rows) or "done"; data is the JSON to send. */
    public record Event(String type, String data) {
    }

    /** The event type that wakes every watcher when the server stops. */
    public static final String CLOSING = "closing";

    private final Map<String, Set<BlockingQueue<Event>>> watchers = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /** Starts watching {@code runKey}; close the subscription when the client goes away. */
    public Subscription subscribe(String runKey) {
        BlockingQueue<Event> queue = new LinkedBlockingQueue<>(10_000);
        watchers.computeIfAbsent(runKey, k -> new CopyOnWriteArraySet<>()).add(queue);
        return new Subscription(runKey, queue);
    }

    /** Whether anyone watches {@code runKey} (so publishers can skip building events nobody reads). */
    public boolean watched(String runKey) {
        return watchers.containsKey(runKey);
    }

    public void publish(String runKey, Event event) {
        Set<BlockingQueue<Event>> set = watchers.get(runKey);
        if (set != null) {
            // a client too slow to keep 10,000 events behind loses the oldest; it reloads on "done"
            set.forEach(q -> {
                while (!q.offer(event)) {
                    q.poll();
                }
            });
        }
    }

    /** Ends every stream: the server is stopping. */
    public void close() {
        closed = true;
        watchers.keySet().forEach(k -> publish(k, new Event(CLOSING, "")));
    }

    public boolean closed() {
        return closed;
    }

    /** A subscriber's queue. */
    public final class Subscription implements AutoCloseable {
        private final String runKey;
        private final BlockingQueue<Event> queue;

        private Subscription(String runKey, BlockingQueue<Event> queue) {
            this.runKey = runKey;
            this.queue = queue;
        }

        /** The next event, or null after {@code millis} without one. */
        public Event next(long millis) throws InterruptedException {
            return queue.poll(millis, java.util.concurrent.TimeUnit.MILLISECONDS);
        }

        @Override
        public void close() {
            watchers.computeIfPresent(runKey, (k, set) -> {
                set.remove(queue);
                return set.isEmpty() ? null : set;
            });
        }
    }
}
