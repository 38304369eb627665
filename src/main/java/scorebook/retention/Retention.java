package scorebook.retention;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

import scorebook.datasets.DatasetStore;
import scorebook.jobs.JobStore;
import scorebook.usage.UsageStore;

/**
 * The retention task: on the server's scheduler, drops each user's raw usage rows, dataset rows and finished jobs
 * older than their settings say, in batches of {@link #BATCH} rows, each its own short write transaction, so a
 * gateway call's usage write waits at most one batch; then gives the freed pages back to the file system a few
 * megabytes at a time. Cutoffs fall on the start of a UTC day (the usage rollups' coarsest cell), so an answer
 * over whole days reads the same from the rollups before and after the rows behind them go.
 */
public final class Retention implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Retention.class.getName());
    static final int BATCH = 500;
    /** Pages (4 KiB) given back per write: about 8 MiB. */
    static final int VACUUM_PAGES = 2_000;
    /** At most this many batches per kind and user per pass, so a pass over a huge backlog still ends soon. */
    private static final int MAX_BATCHES = 200;
    private static final Duration FIRST = Duration.ofMinutes(1);
    private static final Duration EVERY = Duration.ofMinutes(10);
    /** How often the scheduler looks at the clock for a due pass (a comparison; the pass itself runs every EVERY). */
    private static final long TICK_MS = 1_000;

    private final RetentionStore store;
    private final UsageStore usage;
    private final DatasetStore datasets;
    private final JobStore jobs;
    private final Clock clock;
    private ScheduledFuture<?> task;
    /** When the next pass is due, by the server's clock. */
    private long dueMs;

    public Retention(RetentionStore store, UsageStore usage, DatasetStore datasets, JobStore jobs, Clock clock) {
        this.store = store;
        this.usage = usage;
        this.datasets = datasets;
        this.jobs = jobs;
        this.clock = clock;
    }

    public RetentionStore store() {
        return store;
    }

    /** What one pass dropped. */
    public record Swept(long usageRows, long datasetRows, long jobs, long pagesReturned) {
    }

    /**
     * Runs a pass a minute after the start and every ten minutes after that, by the server's clock: the scheduler
     * looks at the clock every second and runs the pass when it is due, so a test moves the clock instead of waiting.
     */
    public synchronized void start(ScheduledExecutorService scheduler) {
        if (task == null) {
            dueMs = clock.millis() + FIRST.toMillis();
            task = scheduler.scheduleWithFixedDelay(this::passIfDue, TICK_MS, TICK_MS, TimeUnit.MILLISECONDS);
        }
    }

    private void passIfDue() {
        long now = clock.millis();
        synchronized (this) {
            if (now < dueMs) {
                return;
            }
            dueMs = now + EVERY.toMillis();
        }
        try {
            sweep();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "retention pass failed; trying again at the next one", e);
        }
    }

    /** One pass over every user who drops something; the tests call it after moving the clock. */
    public synchronized Swept sweep() {
        long usageRows = 0;
        long datasetRows = 0;
        long jobRows = 0;
        for (RetentionStore.UserSettings u : store.limited()) {
            if (u.usageDays() != null) {
                long cutoff = cutoff(u.usageDays()).toEpochMilli();
                usageRows += batches(() -> usage.deleteRawBefore(u.userId(), cutoff, BATCH));
            }
            if (u.datasetDays() != null) {
                long cutoff = cutoff(u.datasetDays()).toEpochMilli();
                datasetRows += batches(() -> datasets.deleteRowsBefore(u.userId(), cutoff, BATCH));
            }
            if (u.jobDays() != null) {
                String cutoff = UsageStore.iso(cutoff(u.jobDays()).toEpochMilli());
                jobRows += batches(() -> jobs.deleteFinishedBefore(u.userId(), cutoff, BATCH));
            }
        }
        long before = store.freePages();
        for (long free = before; free > 0; ) {
            store.returnFreePages(VACUUM_PAGES);
            long now = store.freePages();
            if (now >= free) {
                break;
            }
            free = now;
        }
        return new Swept(usageRows, datasetRows, jobRows, before - store.freePages());
    }

    /** The start of the UTC day {@code days} days before now. */
    Instant cutoff(int days) {
        return clock.instant().minus(Duration.ofDays(days)).truncatedTo(ChronoUnit.DAYS);
    }

    private static long batches(IntSupplier batch) {
        long total = 0;
        for (int i = 0; i < MAX_BATCHES; i++) {
            int n = batch.getAsInt();
            total += n;
            if (n == 0) {
                break;
            }
        }
        return total;
    }

    @Override
    public synchronized void close() {
        if (task != null) {
            task.cancel(false);
            task = null;
        }
    }
}
