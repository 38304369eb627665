package scorebook.jobs;

import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A background thread that runs one step whenever its {@link Wakeup} signals, and at least every tick
 * (for work that comes due by the clock). A failing step is logged and tried again.
 */
final class Loop implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Loop.class.getName());

    private final String name;
    private final Wakeup wakeup;
    private final Duration tick;
    private final Runnable step;
    private volatile boolean stopping;
    private Thread thread;

    Loop(String name, Wakeup wakeup, Duration tick, Runnable step) {
        this.name = name;
        this.wakeup = wakeup;
        this.tick = tick;
        this.step = step;
    }

    synchronized void start() {
        if (thread == null) {
            stopping = false;
            thread = Thread.ofPlatform().daemon().name(name).start(this::run);
        }
    }

    boolean stopping() {
        return stopping;
    }

    private void run() {
        while (!stopping) {
            long seen = wakeup.generation();
            try {
                step.run();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, name + " failed; trying again", e);
            }
            wakeup.await(seen, tick);
        }
    }

    /** Stops the thread after its current step (waiting up to 5 s). */
    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            stopping = true;
            t = thread;
            thread = null;
        }
        if (t != null) {
            wakeup.signal();
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
