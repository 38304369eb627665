package scorebook.usage;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.jdbi.v3.core.Handle;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import scorebook.server.Json;
import scorebook.store.Database;

/**
 * Writes usage rows (the {@code usage_events} table) and folds them into their rollups ({@code usage_rollups}: per
 * minute, hour and day and per dimension, counts, sums and latency histograms). Model calls hand their row to
 * {@link #record} and go on: a background writer drains the queue in batched transactions, so the hot path never
 * waits for SQLite. {@link #flush} waits until every row recorded before it is stored; {@link #close} flushes.
 * Without a started writer (command line, tests of parts) rows are written at once. Imports and dataset appends
 * write through {@link #insert(Handle, List, long)} inside their own transaction.
 *
 * <p>Rollups are folded off the request path: a write stores raw rows only; the background writer (and, before
 * any usage answer, {@link #foldPending(Database)}) reads the rows above the watermark {@code usage_fold.folded_id}
 * in one pass, adds them up per cell in memory and merges each touched cell once, moving the watermark in the
 * same transaction.
 *
 * <p>Loss window: a recorded row is committed within 100 ms. A row queued into an idle queue schedules a flush
 * {@value #FLUSH_DELAY_MS} ms later (through a {@link FlushScheduler}, so a test can hold the bound without
 * timing anything); the flush commits everything queued. The queue holds at most {@value #MAX_QUEUE} rows
 * (what the writer commits in well under 100 ms); when it is full {@link #record} writes the row itself
 * before returning. The bound excludes time spent waiting for another write transaction (an import of
 * 10,000 rows holds the database for about 100 ms).
 */
public final class UsageStore implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(UsageStore.class.getName());
    static final int MAX_QUEUE = 5_000;
    private static final int BATCH = 1_000;
    /**
     * usage_events' columns as an insert binds them: the first {@value #ALWAYS} for every row, each other one only
     * when a row of the batch has it (an adapter's rows carry about half of them; a bind costs a native call).
     */
    private static final String[] COLUMNS = {"user_id", "ts_ms", "event_key", "source_kind", "ok", "api_key_id",
        "request_id", "device", "model", "tag", "prompt_tokens", "completion_tokens", "latency_ms", "ttft_ms", "tok_s",
        "error_type", "error_message", "job_id", "prompt_preview", "extra", "tenant", "dataset", "prefill_tok_s",
        "decode_tok_s", "load_ms", "battery_start_pct", "battery_end_pct", "temp_max_c", "thermal_status_max"};
    private static final int ALWAYS = 5;
    /** Rows one INSERT statement stores at most. */
    static final int ROWS_A_STATEMENT = 64;
    /** Bits of the columns that differ from row to row in every batch that matters: time and event key. */
    private static final int OWN = 1 << 1 | 1 << 2;
    /** The INSERT statement per {@link Shape} and rows a statement. */
    private static final Map<Long, String> INSERTS = new java.util.concurrent.ConcurrentHashMap<>();
    private static final int MAX_INSERTS = 256;
    private static final String STORED_IDS = "SELECT id FROM usage_events WHERE id BETWEEN ? AND ?";
    /** The largest id given so far: of the stored rows, or the fold watermark when rows at the top were deleted. */
    private static final String NEXT_ID = """
            SELECT max(coalesce((SELECT max(id) FROM usage_events), 0), (SELECT folded_id FROM usage_fold WHERE id = 1))""";
    /** Rows not in usage_events yet: dataset rows owed their usage rows, and staged imports. */
    private static final String OWED = "SELECT (" + DatasetUsage.PENDING + ") + (" + ImportBatches.PENDING + ")";
    /**
     * How many rows wait to be folded, about (duplicates skipped on insert leave gaps in the ids); 1 when the cuts of
     * the cells stored before schema/015 wait to be made; plus the dataset rows whose usage rows are not made yet.
     */
    private static final String PENDING = """
            SELECT CASE WHEN (SELECT cuts_built FROM usage_fold WHERE id = 1) = 0 THEN 1 ELSE
                   max(coalesce((SELECT max(id) FROM usage_events), 0) - (SELECT folded_id FROM usage_fold WHERE id = 1), 0) END
                   + (""" + OWED + ")";
    /** What a row's cells add up, read by {@link #foldedRow}. */
    private static final String FOLDED_COLUMNS = """
            SELECT id, user_id, ts_ms, source_kind, model, device, tag, tenant, dataset, ok, prompt_tokens,
                   completion_tokens, latency_ms, ttft_ms, tok_s, prefill_tok_s, decode_tok_s, extra
            FROM usage_events""";
    /** The pending rows, oldest id first. */
    private static final String FOLD_READ = FOLDED_COLUMNS + " WHERE id > ? ORDER BY id LIMIT ?";
    /** A user's folded rows of one hour, for its minute cells (schema/018). */
    private static final String HOUR_READ = FOLDED_COLUMNS
            + " WHERE user_id = ? AND ts_ms >= ? AND ts_ms < ? AND id <= (SELECT folded_id FROM usage_fold WHERE id = 1)";
    /** Rows folded per transaction: tens of thousands of rows make a few thousand cells. */
    static final int FOLD_CHUNK = 30_000;
    /** The columns every usage answer adds up, in this order (see the usage_*_facts views). */
    static final String FACTS = """
            requests, ok_requests, prompt_tokens, completion_tokens, latency_n, latency_sum, latency_max, ttft_n,
            ttft_sum, tok_s_n, tok_s_sum, tok_s_sq, prefill_n, prefill_sum, decode_n, decode_sum, latency_hist,
            ttft_hist, tok_s_hist, extra""";
    /**
     * Adds a cell's new rows to the stored cell in one statement: counts and sums add up in SQL, histograms and
     * extras merge in {@link #MERGE_HIST} / {@link #MERGE_EXTRA} (Java functions on the writer connection), so a
     * touched cell costs one B-tree visit instead of a read and a write.
     */
    private static final String CELL_WRITE = "INSERT INTO usage_rollups (" + UsageStore.CELL_COLUMNS + ")\n"
            + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)\n"
            + UsageStore.CELL_MERGE;
    /** The columns of a cell, in the order {@link #CELL_WRITE} binds them. */
    private static final String CELL_COLUMNS = """
            user_id, level, t, source_kind, model, device, tag, tenant, dataset, ok, requests, prompt_tokens,
            completion_tokens, latency_n, latency_sum, latency_max, ttft_n, ttft_sum, tok_s_n, tok_s_sum, tok_s_sq,
            prefill_n, prefill_sum, decode_n, decode_sum, latency_hist, ttft_hist, tok_s_hist, extra""";
    /** Adds a new cell to the stored one with the same key (in SQL; histograms and extras by the merge functions). */
    private static final String CELL_MERGE = """
            ON CONFLICT (user_id, level, t, source_kind, model, device, tag, tenant, dataset, ok) DO UPDATE SET
                requests = requests + excluded.requests, prompt_tokens = prompt_tokens + excluded.prompt_tokens,
                completion_tokens = completion_tokens + excluded.completion_tokens,
                latency_n = latency_n + excluded.latency_n, latency_sum = latency_sum + excluded.latency_sum,
                latency_max = max(coalesce(latency_max, excluded.latency_max), coalesce(excluded.latency_max, latency_max)),
                ttft_n = ttft_n + excluded.ttft_n, ttft_sum = ttft_sum + excluded.ttft_sum,
                tok_s_n = tok_s_n + excluded.tok_s_n, tok_s_sum = tok_s_sum + excluded.tok_s_sum,
                tok_s_sq = tok_s_sq + excluded.tok_s_sq, prefill_n = prefill_n + excluded.prefill_n,
                prefill_sum = prefill_sum + excluded.prefill_sum, decode_n = decode_n + excluded.decode_n,
                decode_sum = decode_sum + excluded.decode_sum,
                latency_hist = usage_hist_merge(latency_hist, excluded.latency_hist),
                ttft_hist = usage_hist_merge(ttft_hist, excluded.ttft_hist),
                tok_s_hist = usage_hist_merge(tok_s_hist, excluded.tok_s_hist),
                extra = usage_extra_merge(extra, excluded.extra)""";
    /**
     * The dimension each cut keeps (schema/015), by cut number: 0 is the full cells, "" a cut that keeps none.
     * Every cut keeps source_kind and ok.
     */
    static final List<String> CUT_KEEPS = List.of("*", "", "model", "device", "tag", "tenant", "dataset");
    private static final String MERGE_HIST = "usage_hist_merge";
    private static final String MERGE_EXTRA = "usage_extra_merge";
    /** Minute cells are kept for rows of the last two days (in whole hours); older rows get hour and day cells. */
    static final long MINUTE_CELLS_KEPT_MINUTES = 48 * 60;
    private static final String HORIZON_ADVANCE = """
            INSERT INTO usage_minute_horizon (user_id, t) VALUES (?, ?)
            ON CONFLICT (user_id) DO UPDATE SET t = excluded.t WHERE excluded.t > usage_minute_horizon.t""";
    /** Connections the merge functions are registered on (the writer connection, once). */
    private static final java.util.Set<java.sql.Connection> WITH_FUNCTIONS =
            java.util.Collections.synchronizedSet(java.util.Collections.newSetFromMap(new java.util.WeakHashMap<>()));
    /** Rollup levels: cell length in minutes (minute, hour, day). */
    static final long[] LEVEL_MINUTES = {1, 60, 1440};
    /** Deletes a user's minute cells below a minute, full ones and their cuts (levels 0, 3, 6, ...; after LEVEL_MINUTES). */
    private static final String MINUTE_LEVELS = java.util.stream.IntStream.range(0, CUT_KEEPS.size())
            .mapToObj(cut -> String.valueOf(cutLevel(0, cut))).collect(java.util.stream.Collectors.joining(", "));
    /** ... but those of the old hours made on demand (schema/018), which live below it. */
    private static final String MINUTE_CELLS_DELETE = "DELETE FROM usage_rollups WHERE user_id = ? AND level IN ("
            + MINUTE_LEVELS + ") AND t < ? AND t - t % 60 NOT IN (SELECT hour FROM usage_minute_hours WHERE user_id = ?)";
    /** Old hours with minute cells kept per user: a few dashboards' range edges, the hours they roll through. */
    static final int MINUTE_HOURS_KEPT = 48;
    /** Deletes the minute cells of one old hour, full ones and their cuts. */
    private static final String HOUR_MINUTE_CELLS_DELETE = "DELETE FROM usage_rollups WHERE user_id = ? AND level IN ("
            + MINUTE_LEVELS + ") AND t >= ? AND t < ?";

    /**
     * One usage row.
     *
     * @param userId           whose call it was
     * @param apiKeyId         the API key used (gateway calls), else null
     * @param tsMs             when the call started, epoch milliseconds
     * @param sourceKind       gateway, v1, warmup, job, eval, judge, import, ...
     * @param requestId        the call's id (the envelope's {@code id}), or null
     * @param device           the device serial, or null when no device was chosen
     * @param model            the model asked for or used
     * @param tag              free label from the caller
     * @param promptTokens     tokens in, when known
     * @param completionTokens tokens out, when known
     * @param latencyMs        whole call, milliseconds
     * @param ttftMs           time to the first streamed token, milliseconds, when streamed
     * @param tokS             decode speed, tokens per second, when known
     * @param ok               whether the call succeeded
     * @param errorType        for failures: no_device, upstream_error, upstream_timeout, bad_upstream, ...
     * @param errorMessage     for failures: what went wrong
     * @param jobId            the job the call ran for, or null
     * @param promptPreview    a truncated prompt, or null (the gateway stores none)
     * @param extra            JSON object text of extra metrics {label: number}, or null
     * @param tenant           free label (Evalyard's tenant dimension), or null
     * @param dataset          the dataset an adapter made the row from, or null
     * @param hardware         device metrics (speeds, load time, battery, temperature), or null
     */
    public record Row(long userId, Long apiKeyId, long tsMs, String sourceKind, String requestId, String device,
                      String model, String tag, Integer promptTokens, Integer completionTokens, Double latencyMs,
                      Double ttftMs, Double tokS, boolean ok, String errorType, String errorMessage, String jobId,
                      String promptPreview, String extra, String tenant, String dataset, Hardware hardware) {
        /** A row without tenant, dataset and device metrics (what model calls record). */
        public Row(long userId, Long apiKeyId, long tsMs, String sourceKind, String requestId, String device,
                   String model, String tag, Integer promptTokens, Integer completionTokens, Double latencyMs,
                   Double ttftMs, Double tokS, boolean ok, String errorType, String errorMessage, String jobId,
                   String promptPreview, String extra) {
            this(userId, apiKeyId, tsMs, sourceKind, requestId, device, model, tag, promptTokens, completionTokens,
                    latencyMs, ttftMs, tokS, ok, errorType, errorMessage, jobId, promptPreview, extra, null, null, null);
        }

        /** The same row with another request id (its event id). */
        public Row withRequestId(String id) {
            return new Row(userId, apiKeyId, tsMs, sourceKind, id, device, model, tag, promptTokens, completionTokens,
                    latencyMs, ttftMs, tokS, ok, errorType, errorMessage, jobId, promptPreview, extra, tenant, dataset,
                    hardware);
        }

        /** The start time as stored in {@code ts}: ISO-8601 UTC with milliseconds. */
        public String ts() {
            return iso(tsMs);
        }
    }

    /**
     * Device metrics a row may carry (on-device runs, imports): all optional.
     *
     * @param prefillTokS      prompt processing speed, tokens/s
     * @param decodeTokS       generation speed, tokens/s
     * @param loadMs           model load time, ms
     * @param batteryStartPct  battery at the start, %
     * @param batteryEndPct    battery at the end, %
     * @param tempMaxC         highest temperature seen, °C
     * @param thermalStatusMax highest thermal status seen (Android's 0..6)
     */
    public record Hardware(Double prefillTokS, Double decodeTokS, Double loadMs, Double batteryStartPct,
                           Double batteryEndPct, Double tempMaxC, Double thermalStatusMax) {
    }

    /**
     * Runs a flush of the queue {@code delayMs} from now. In a server it is the writer's own thread; tests pass
     * their own to see when a flush is asked for and to run it themselves.
     */
    @FunctionalInterface
    public interface FlushScheduler {
        void schedule(Runnable flush, long delayMs);
    }

    /**
     * How long after a row is queued into an idle queue its flush starts, at the latest: a few ms, so that a
     * burst of calls is committed in one transaction; far below the 100 ms loss window.
     */
    static final long FLUSH_DELAY_MS = 5;
    /** How often the background fold checks for pending rows. */
    static final long FOLD_TICK_MS = 200;
    /** Pending rows that make the background fold run at its next check. */
    static final long FOLD_ROWS = 30_000;
    /** How long a pending row waits for the background fold at most (plus one check). */
    static final long FOLD_WAIT_MS = 2_000;
    /**
     * While bulk writes (imports, dataset appends) keep coming, the background fold waits until they pause this long,
     * unless {@value #FOLD_BACKLOG_ROWS} rows or {@value #FOLD_BACKLOG_WAIT_MS} ms of rows are pending, and then folds
     * one chunk per check: a fold of back-dated rows costs more than their insert, and folding many at once adds up
     * more rows per cell. Answers fold what is pending first, so they never miss a row.
     */
    static final long BULK_QUIET_MS = 500;
    static final long FOLD_BACKLOG_ROWS = 500_000;
    static final long FOLD_BACKLOG_WAIT_MS = 30_000;

    private final Database db;
    private final Clock clock;
    private final ImportBatches importBatches = new ImportBatches();
    private final LinkedBlockingQueue<Row> queue = new LinkedBlockingQueue<>(MAX_QUEUE);
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition progressed = lock.newCondition();
    private final AtomicBoolean flushPending = new AtomicBoolean();
    private long enqueued;
    private long written;
    /** Where flushes are scheduled; null while no writer runs (rows are then written at once). */
    private volatile FlushScheduler scheduler;
    /** The writer thread start() made, shut down by close(). */
    private ScheduledExecutorService writer;
    /** The background fold's thread start() made, shut down by close(). */
    private ScheduledExecutorService folder;
    private volatile boolean stopping;
    /** When the background fold first saw rows pending (System.nanoTime), or -1; writer thread only. */
    private long pendingSinceNs = -1;

    /** For the command line: the system clock, rows written at once until {@link #start}. */
    public UsageStore(Database db) {
        this(db, Clock.systemUTC());
    }

    /** With the server's clock (it moves the minute-cell horizon); rows are written at once until {@link #start}. */
    public UsageStore(Database db, Clock clock) {
        this.db = db;
        this.clock = clock;
    }

    /** Queued from the start, each flush handed to {@code scheduler} (tests of the writer). */
    public UsageStore(Database db, Clock clock, FlushScheduler scheduler) {
        this(db, clock);
        this.scheduler = scheduler;
    }

    /**
     * ISO-8601 UTC with exactly three fraction digits, e.g. 2026-11-22T04:33:01.000Z (Instant.toString drops them at
     * .000; with them the text sorts like the time).
     */
    public static String iso(long epochMs) {
        return scorebook.store.IsoTime.format(epochMs);
    }

    /**
     * Starts the background writer (a thread that runs the scheduled flushes) and the background fold: a thread
     * that every {@value #FOLD_TICK_MS} ms folds pending rows into the rollups once {@value #FOLD_ROWS} are pending
     * or the oldest has waited {@value #FOLD_WAIT_MS} ms, so that a fold adds up many rows per cell (answers fold
     * what is left first). Two threads, so a flush of model calls' rows never waits in line behind a fold.
     */
    public synchronized void start() {
        if (writer == null) {
            stopping = false;
            ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(
                    Thread.ofPlatform().daemon().name("usage-writer").factory());
            writer = thread;
            scheduler = (flush, delayMs) -> thread.schedule(flush, delayMs, TimeUnit.MILLISECONDS);
            folder = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("usage-fold").factory());
            folder.scheduleWithFixedDelay(this::foldTick, FOLD_TICK_MS, FOLD_TICK_MS, TimeUnit.MILLISECONDS);
        }
    }

    /** The background fold's check (on its thread): folds when enough rows wait, or waited long enough. */
    private void foldTick() {
        try {
            long n = pending(db);
            long now = System.nanoTime();
            if (n == 0) {
                pendingSinceNs = -1;
                return;
            }
            if (pendingSinceNs < 0) {
                pendingSinceNs = now;
            }
            long waited = now - pendingSinceNs;
            if (db.nanosSinceBulkWrite() < TimeUnit.MILLISECONDS.toNanos(BULK_QUIET_MS)) {
                // bulk writes go on: one chunk a check, so that they take turns at the writer lock with the fold
                if (n >= FOLD_BACKLOG_ROWS || waited >= TimeUnit.MILLISECONDS.toNanos(FOLD_BACKLOG_WAIT_MS)) {
                    foldChunk(db);
                }
            } else if (n >= FOLD_ROWS || waited >= TimeUnit.MILLISECONDS.toNanos(FOLD_WAIT_MS)) {
                foldAll(db);
                pendingSinceNs = -1;
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "usage rollups not folded; trying again at the next check", e);
        }
    }

    /**
     * Records one row: queued when the writer runs, and a flush is scheduled {@value #FLUSH_DELAY_MS} ms later
     * unless one is pending already; written at once when no writer runs or the queue is full.
     */
    public void record(Row row) {
        FlushScheduler s = scheduler;
        if (s == null || stopping) {
            insert(List.of(row));
            return;
        }
        boolean queued;
        lock.lock();
        try {
            queued = queue.offer(row);
            if (queued) {
                enqueued++;
            }
        } finally {
            lock.unlock();
        }
        if (!queued) {
            insert(List.of(row));
        } else if (flushPending.compareAndSet(false, true)) {
            s.schedule(this::flushQueued, FLUSH_DELAY_MS);
        }
    }

    /**
     * The scheduled flush: commits everything queued, 1,000 rows per transaction. A row queued while it runs
     * either is taken by it or schedules the next flush (the pending flag is cleared before the queue is read).
     */
    void flushQueued() {
        flushPending.set(false);
        List<Row> batch = new ArrayList<>(BATCH);
        while (queue.drainTo(batch, BATCH) > 0) {
            insert(batch);
            lock.lock();
            try {
                written += batch.size();
                progressed.signalAll();
            } finally {
                lock.unlock();
            }
            batch.clear();
        }
    }

    /** Rows recorded and not yet stored by the background writer (for /metrics). */
    public int backlog() {
        return queue.size();
    }

    /** Waits until every row recorded before this call is stored (at most {@code timeout}). */
    public boolean flush(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            long target = enqueued;
            while (written < target) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || scheduler == null) {
                    return written >= target;
                }
                progressed.awaitNanos(left);
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            lock.unlock();
        }
    }

    /** Stops the writer after storing everything queued. */
    @Override
    public void close() {
        synchronized (this) {
            if (scheduler == null) {
                return;
            }
            stopping = true;
        }
        flush(Duration.ofSeconds(30));
        List<ScheduledExecutorService> threads = new ArrayList<>();
        synchronized (this) {
            if (writer != null) {
                threads.add(writer);
                threads.add(folder);
            }
            writer = null;
            folder = null;
            scheduler = null;
        }
        for (ScheduledExecutorService thread : threads) {
            thread.shutdown();
            try {
                thread.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        // rows that raced with the stop
        List<Row> rest = new ArrayList<>();
        queue.drainTo(rest);
        if (!rest.isEmpty()) {
            insert(rest);
        }
        try {
            foldPending(db);
        } catch (RuntimeException e) {
            // the rows are committed; the next start or answer folds them
            LOG.log(Level.WARNING, "usage rollups not folded at stop: " + e.getMessage());
        }
    }

    /** Inserts rows in one transaction; if that fails (a user deleted meanwhile), row by row, dropping bad ones. */
    private void insert(List<Row> rows) {
        try {
            db.write(h -> insert(h, rows, clock.millis()));
        } catch (RuntimeException | SQLException e) {
            for (Row r : rows) {
                try {
                    db.write(h -> insert(h, List.of(r), clock.millis()));
                } catch (RuntimeException | SQLException one) {
                    LOG.log(Level.WARNING, "usage row dropped (" + one.getMessage() + "): " + r);
                }
            }
        }
    }

    /** Inserts rows with their rollups in one transaction of its own; see {@link #insert(Handle, List, long)}. */
    public boolean[] insertNow(List<Row> rows) {
        try {
            return db.write(h -> insert(h, rows, clock.millis()));
        } catch (SQLException e) {
            throw new IllegalStateException("usage rows not stored: " + e.getMessage(), e);
        }
    }

    /**
     * Stages one user's imported rows for the fold ({@link ImportBatches}) and answers how many are new; a dry run
     * answers the same and stores nothing. Every read of usage rows inserts staged rows first.
     */
    public int importRows(long userId, List<Row> rows, boolean dryRun) {
        try {
            ImportBatches.Staged staged = db.write(h -> importBatches.stage(h, userId, rows, clock.millis(), dryRun));
            importBatches.remember(staged);
            if (staged.batchId() != 0) {
                db.bulkWritten();
            }
            return staged.rows();
        } catch (SQLException e) {
            throw new IllegalStateException("usage rows not stored: " + e.getMessage(), e);
        }
    }

    /**
     * Inserts rows inside a transaction of {@link Database#writeParentsChecked} (foreign keys off): checks once that
     * their users and API keys exist, then inserts them; answers how many were new.
     */
    static int insertChecked(Handle h, List<Row> rows, long nowMs) throws SQLException {
        parentsExist(h, rows);
        int n = 0;
        for (boolean b : insert(h, rows, nowMs)) {
            n += b ? 1 : 0;
        }
        return n;
    }

    /** Fails unless every user and API key the rows name is stored: the foreign keys, checked once a batch. */
    private static void parentsExist(Handle h, List<Row> rows) throws SQLException {
        Set<Long> users = new java.util.HashSet<>();
        Set<Long> keys = new java.util.HashSet<>();
        for (Row r : rows) {
            users.add(r.userId());
            if (r.apiKeyId() != null) {
                keys.add(r.apiKeyId());
            }
        }
        exist(h, "users", users);
        exist(h, "api_keys", keys);
    }

    private static void exist(Handle h, String table, Set<Long> ids) throws SQLException {
        for (long id : ids) {
            if (h.createQuery("SELECT count(*) FROM " + table + " WHERE id = ?").bind(0, id).mapTo(int.class).one() == 0) {
                throw new SQLException("FOREIGN KEY constraint failed: no " + table + " row " + id);
            }
        }
    }

    /**
     * Inserts rows inside the caller's transaction: the raw rows only, their rollups are folded in later (see
     * {@link #foldPending(Database)}). A row whose event (same user, time and event key) is already stored is
     * skipped; the answer says which rows were inserted. {@code nowMs} moves the minute-cell horizon (rows older
     * than two days will get no minute cell). Plain JDBC: this is the measured hot path, and binding through
     * JDBI's reflection cost more than the insert itself.
     *
     * <p>Each row gets its id from here, above both the largest stored id and the fold watermark, so that an id
     * the fold has passed is never given again (SQLite would reuse the ids of deleted rows at the top).
     */
    public static boolean[] insert(Handle h, List<Row> rows, long nowMs) throws SQLException {
        boolean[] inserted = new boolean[rows.size()];
        if (rows.isEmpty()) {
            return inserted;
        }
        java.sql.Connection c = h.getConnection();
        long id = nextId(c);
        Shape shape = Shape.of(rows);
        int[] order = timeOrder(rows);
        // up to ROWS_A_STATEMENT rows a statement: each sqlite3_step has a cost of its own, about a tenth of a row's
        // insert when it is one row (a probe: 5.7 against 6.3 ms per 1,000 imported rows)
        PreparedStatement ps = null;
        try {
            for (int k = 0; k < order.length; k += ROWS_A_STATEMENT) {
                int n = Math.min(ROWS_A_STATEMENT, order.length - k);
                if (ps == null || n < ROWS_A_STATEMENT) { // the whole groups' statement, then one for the rest
                    if (ps != null) {
                        ps.close();
                    }
                    ps = c.prepareStatement(insertSql(shape, n));
                }
                shape.bind(ps, rows, order, k, n, id + k);
                markStored(c, order, k, n, id + k, ps.executeUpdate(), inserted);
            }
        } finally {
            if (ps != null) {
                ps.close();
            }
        }
        long lastUser = Long.MIN_VALUE;
        for (int i = 0; i < rows.size(); i++) {
            long user = rows.get(i).userId();
            if (inserted[i] && user != lastUser) {
                lastUser = user;
                minuteHorizon(c, user, nowMs);
            }
        }
        return inserted;
    }

    /**
     * Which columns an insert binds (bit i = {@link #COLUMNS}[i]): the always-bound ones and each optional one that a
     * row of the batch has; and which of them hold one value in every row (one user, one source, an import's tag...).
     * Those are bound once a statement and named by number in each row: a bind is a native call, and an import of
     * one user's rows bound a third of its values over and over.
     */
    private record Shape(int bound, int shared) {
        static Shape of(List<Row> rows) {
            int bound = (1 << ALWAYS) - 1;
            for (Row r : rows) {
                for (int i = ALWAYS; i < COLUMNS.length; i++) {
                    if ((bound & 1 << i) == 0 && column(r, i) != null) {
                        bound |= 1 << i;
                    }
                }
            }
            int shared = bound & ~OWN;
            Row first = rows.get(0);
            for (int k = 1; k < rows.size() && shared != 0; k++) {
                Row r = rows.get(k);
                for (int rest = shared; rest != 0; rest &= rest - 1) {
                    int i = Integer.numberOfTrailingZeros(rest);
                    if (!java.util.Objects.equals(value(r, i), value(first, i))) {
                        shared &= ~(1 << i);
                    }
                }
            }
            return new Shape(bound, shared);
        }

        /**
         * Binds the {@code n} rows from {@code order[from]}, their ids from {@code firstId}: the shared values as
         * parameters 1 to s, the first id as s + 1, then each row's own values.
         */
        void bind(PreparedStatement ps, List<Row> rows, int[] order, int from, int n, long firstId) throws SQLException {
            int p = 1;
            Row first = rows.get(order[from]);
            for (int rest = shared; rest != 0; rest &= rest - 1) {
                bindValue(ps, p++, value(first, Integer.numberOfTrailingZeros(rest)));
            }
            ps.setLong(p++, firstId);
            int own = bound & ~shared;
            for (int j = 0; j < n; j++) {
                Row r = rows.get(order[from + j]);
                for (int rest = own; rest != 0; rest &= rest - 1) {
                    int i = Integer.numberOfTrailingZeros(rest);
                    switch (i) {
                        case 1 -> ps.setLong(p++, r.tsMs());
                        case 2 -> ps.setInt(p++, eventKey(r));
                        default -> bindValue(ps, p++, value(r, i));
                    }
                }
            }
        }
    }

    /**
     * Marks which of the {@code n} rows from {@code order[from]} one statement stored (their ids run from
     * {@code firstId}): all of them when SQLite counted {@code n}; else those whose id is in the table (a row already
     * stored was skipped, its id left unused).
     */
    private static void markStored(java.sql.Connection c, int[] order, int from, int n, long firstId, int stored,
                                   boolean[] inserted) throws SQLException {
        if (stored == n) {
            for (int j = 0; j < n; j++) {
                inserted[order[from + j]] = true;
            }
            return;
        }
        try (PreparedStatement ps = c.prepareStatement(STORED_IDS)) {
            ps.setLong(1, firstId);
            ps.setLong(2, firstId + n - 1);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    inserted[order[from + (int) (rs.getLong(1) - firstId)]] = true;
                }
            }
        }
    }

    /**
     * The rows' indexes in time order, rows of the same millisecond in the order given (so the first of two copies of
     * an event is the one stored, as before). Inserted in this order the (user, time, key) index is written in runs
     * of neighbouring entries: an import's rows spread over days each landed on another index page, which cost twice
     * the CPU of the insert itself. Ids are given in this order too, so the table grows at its end.
     */
    static int[] timeOrder(List<Row> rows) {
        int n = rows.size();
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        boolean sorted = true;
        for (int i = 0; i < n; i++) {
            long ts = rows.get(i).tsMs();
            sorted &= ts >= max;
            min = Math.min(min, ts);
            max = Math.max(max, ts);
        }
        if (sorted) {
            return java.util.stream.IntStream.range(0, n).toArray();
        }
        long span = max - min;
        if (span < 0 || span >= Long.MAX_VALUE / n) {
            // times too far apart to pack with the index into one long: a (stable) sort of boxed indexes
            return java.util.stream.IntStream.range(0, n).boxed()
                    .sorted(java.util.Comparator.comparingLong(i -> rows.get(i).tsMs())).mapToInt(Integer::intValue)
                    .toArray();
        }
        // one primitive sort: time, then the index (which keeps the sort stable)
        int[] order = new int[n];
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) {
            keys[i] = (rows.get(i).tsMs() - min) * n + i;
        }
        java.util.Arrays.sort(keys);
        for (int k = 0; k < n; k++) {
            order[k] = (int) (keys[k] % n);
        }
        return order;
    }

    /** The id the next usage row takes: above every stored row and above the fold watermark. */
    private static long nextId(java.sql.Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(NEXT_ID); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1) + 1;
        }
    }

    /**
     * Brings the rollups up to date with every committed usage row: call it before computing a usage answer from
     * {@code usage_rollups}. Fast when nothing is pending (one read of two index entries); otherwise folds what is
     * pending (everyone's: the background fold keeps it to about a second's rows) in transactions of at most
     * {@value #FOLD_CHUNK} rows on the writer connection. Safe from any thread and any process: the watermark is
     * read and moved inside the fold's write transaction.
     */
    public static void foldPending(Database db) {
        if (pending(db) > 0) {
            foldAll(db);
        }
    }

    /**
     * Makes the usage rows still owed to appended dataset rows ({@link DatasetUsage}), without folding: call it before
     * reading raw usage rows. One read of a (mostly empty) table when none are owed.
     */
    public static void derivePending(Database db) {
        if (db.read(h -> h.createQuery(OWED).mapTo(long.class).one()) > 0) {
            deriveAll(db);
        }
    }

    private static void deriveAll(Database db) {
        try {
            while (derive(db, FOLD_CHUNK) > 0) {
                // one transaction per chunk of appends and imports, so the writer lock is held a short while at a time
            }
        } catch (SQLException e) {
            throw new IllegalStateException("usage rows of dataset rows and imports not made: " + e.getMessage(), e);
        }
    }

    /**
     * Makes the usage rows owed to dataset rows, then inserts staged imports (foreign keys checked once a batch), about
     * {@code limit} of each, in a transaction each; answers how many rows that was.
     */
    private static int derive(Database db, int limit) throws SQLException {
        return db.write(h -> DatasetUsage.derive(h, limit)) + db.writeParentsChecked(h -> ImportBatches.derive(h, limit));
    }

    /** How many rows wait to be folded, about (ids above the watermark; rows skipped as duplicates leave gaps). */
    static long pending(Database db) {
        return db.read(h -> h.createQuery(PENDING).mapTo(long.class).one());
    }

    /** Makes one chunk of owed dataset usage rows and folds one chunk of pending rows, each in its own transaction. */
    private static void foldChunk(Database db) {
        try {
            derive(db, FOLD_CHUNK);
            db.write(h -> fold(h, FOLD_CHUNK));
        } catch (SQLException e) {
            throw new IllegalStateException("usage rollups not folded: " + e.getMessage(), e);
        }
    }

    /** Folds until nothing is pending; answers how many rows were folded. */
    static long foldAll(Database db) {
        deriveAll(db);
        long total = 0;
        try {
            for (int n = FOLD_CHUNK; n == FOLD_CHUNK; total += n) {
                n = db.write(h -> fold(h, FOLD_CHUNK));
            }
        } catch (SQLException e) {
            throw new IllegalStateException("usage rollups not folded: " + e.getMessage(), e);
        }
        return total;
    }

    /**
     * Folds up to {@code limit} pending rows (in id order) into their rollup cells inside the caller's transaction
     * and moves the watermark past them; answers how many rows were read. The rows are added up per cell in memory
     * first (rows spread over days touch each hour and day cell many times), then each touched cell is written
     * once, in primary-key order, merged with the stored cell by the upsert.
     */
    static int fold(Handle h, int limit) throws SQLException {
        java.sql.Connection c = h.getConnection();
        long lastId;
        boolean cutsBuilt;
        try (PreparedStatement ps = c.prepareStatement("SELECT folded_id, cuts_built FROM usage_fold WHERE id = 1");
             ResultSet rs = ps.executeQuery()) {
            lastId = rs.next() ? rs.getLong(1) : 0;
            cutsBuilt = rs.getInt(2) == 1;
        }
        if (!cutsBuilt) {
            buildCuts(c);
        }
        Map<Long, MinuteCells> minuteCells = new HashMap<>();
        Cells cells = new Cells();
        int read = 0;
        try (PreparedStatement ps = c.prepareStatement(FOLD_READ)) {
            ps.setLong(1, lastId);
            ps.setInt(2, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    read++;
                    lastId = rs.getLong(1);
                    Row r = foldedRow(rs);
                    MinuteCells kept = minuteCells.get(r.userId());
                    if (kept == null) {
                        kept = minuteCells(c, r.userId(), Long.MIN_VALUE);
                        minuteCells.put(r.userId(), kept);
                    }
                    // into its finest cell only (a minute, or an hour where no minute cells are kept); rolled up below
                    cells.add(r, kept.has(Math.floorDiv(r.tsMs(), 60_000L)) ? 0 : 1);
                }
            }
        }
        if (read == 0) {
            return 0;
        }
        // minute cells add up into their hour cells, hour cells into their day cells: a row's values are binned
        // once, and a coarse cell merges a few finer ones instead of adding each of their rows again
        for (int level = 1; level < LEVEL_MINUTES.length; level++) {
            List<Map.Entry<Cell, Tally>> finer = new ArrayList<>();
            for (Map.Entry<Cell, Tally> e : cells.byKey.entrySet()) {
                if (e.getKey().level() == level - 1) {
                    finer.add(e);
                }
            }
            for (Map.Entry<Cell, Tally> e : finer) {
                cells.byKey.computeIfAbsent(e.getKey().up(level), k -> new Tally()).merge(e.getValue());
            }
        }
        cells.addCuts();
        writeCells(h, cells.byKey);
        markHours(c, cells.byKey.keySet(), lastId);
        try (PreparedStatement ps = c.prepareStatement("UPDATE usage_fold SET folded_id = ? WHERE id = 1")) {
            ps.setLong(1, lastId);
            ps.executeUpdate();
        }
        return read;
    }

    /**
     * Marks each hour whose cells a fold changed with the fold's watermark (schema/019), so series points kept for
     * that hour ({@link UsageSeries}) are made again. Every folded row changes its hour's full cell (level 1).
     */
    private static void markHours(java.sql.Connection c, java.util.Set<Cell> changed, long foldId) throws SQLException {
        java.util.SortedSet<Cell> hours = new java.util.TreeSet<>(java.util.Comparator.comparingLong(Cell::userId)
                .thenComparingLong(Cell::t));
        for (Cell cell : changed) {
            if (cell.level() == 1) {
                hours.add(cell);
            }
        }
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO usage_hour_marks (user_id, hour, fold_id) VALUES (?, ?, ?)
                ON CONFLICT (user_id, hour) DO UPDATE SET fold_id = excluded.fold_id""")) {
            for (Cell hour : hours) {
                ps.setLong(1, hour.userId());
                ps.setLong(2, hour.t());
                ps.setLong(3, foldId);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /** The level of cut {@code cut} of {@code level}'s cells (cut 0: the full cells themselves). */
    static int cutLevel(int level, int cut) {
        return level + LEVEL_MINUTES.length * cut;
    }

    /**
     * Makes the cuts of every full cell stored (a database from before schema/015 or 016), in SQL, merged by the
     * cell upsert; marks them made. Runs once, inside a fold's transaction.
     */
    private static void buildCuts(java.sql.Connection c) throws SQLException {
        registerMergeFunctions(c);
        for (int cut = 1; cut < CUT_KEEPS.size(); cut++) {
            String keep = CUT_KEEPS.get(cut);
            StringBuilder select = new StringBuilder("SELECT user_id, level + ").append(LEVEL_MINUTES.length * cut)
                    .append(", t, source_kind");
            for (String dim : List.of("model", "device", "tag", "tenant", "dataset")) {
                select.append(", ").append(dim.equals(keep) ? dim : "''");
            }
            select.append(", ").append(CELL_COLUMNS.substring(CELL_COLUMNS.indexOf("ok,")));
            // "WHERE" is required before an upsert's ON CONFLICT in INSERT ... SELECT
            String sql = "INSERT INTO usage_rollups (" + CELL_COLUMNS + ")\n" + select
                    + "\nFROM usage_rollups WHERE level IN (0, 1, 2)\n" + CELL_MERGE;
            try (java.sql.Statement st = c.createStatement()) {
                st.executeUpdate(sql);
            }
        }
        try (java.sql.Statement st = c.createStatement()) {
            st.executeUpdate("UPDATE usage_fold SET cuts_built = 1 WHERE id = 1");
        }
    }

    /** A row of {@link #FOLD_READ} as far as its cells need it (dimensions and numbers). */
    private static Row foldedRow(ResultSet rs) throws SQLException {
        Double prefill = number(rs, 16, Double.class);
        Double decode = number(rs, 17, Double.class);
        return new Row(rs.getLong(2), null, rs.getLong(3), rs.getString(4), null, rs.getString(6), rs.getString(5),
                rs.getString(7), number(rs, 11, Integer.class), number(rs, 12, Integer.class),
                number(rs, 13, Double.class), number(rs, 14, Double.class), number(rs, 15, Double.class),
                rs.getInt(10) == 1, null, null, null, null, rs.getString(18), rs.getString(8), rs.getString(9),
                prefill == null && decode == null ? null : new Hardware(prefill, decode, null, null, null, null, null));
    }

    /** The user's minute-cell horizon as stored (epoch minutes), or the earliest minute when none is. */
    private static long storedHorizon(java.sql.Connection c, long userId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT t FROM usage_minute_horizon WHERE user_id = ?")) {
            ps.setLong(1, userId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : Long.MIN_VALUE;
            }
        }
    }

    /** The user's old hours with minute cells (schema/018), as the epoch minutes they start at. */
    private static Set<Long> madeHours(java.sql.Connection c, long userId) throws SQLException {
        Set<Long> hours = new java.util.HashSet<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT hour FROM usage_minute_hours WHERE user_id = ?")) {
            ps.setLong(1, userId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    hours.add(rs.getLong(1));
                }
            }
        }
        return hours;
    }

    /**
     * Where the user's minute cells exist, for minutes from {@code fromMinute} on: the old hours made on demand are
     * read only when that reaches below the horizon (an answer's read asks with its first minute piece, which is
     * recent almost always).
     */
    static MinuteCells minuteCells(java.sql.Connection c, long userId, long fromMinute) throws SQLException {
        long horizon = storedHorizon(c, userId);
        return new MinuteCells(horizon, fromMinute < horizon ? madeHours(c, userId) : Set.of());
    }

    /** Where a user's minute cells exist: from the horizon on, and in the old hours made on demand. */
    record MinuteCells(long horizon, Set<Long> oldHours) {
        boolean has(long minute) {
            return minute >= horizon || oldHours.contains(hourOf(minute));
        }

        /** The epoch minute the hour holding {@code minute} starts at. */
        static long hourOf(long minute) {
            return minute - Math.floorMod(minute, 60);
        }
    }

    /**
     * Makes the minute cells (and their cuts) of the user's {@code hours} (epoch minutes, whole hours) that are older
     * than the horizon and have none, from their folded rows, in one transaction; rows folded later are added by the
     * fold. Keeps the {@value #MINUTE_HOURS_KEPT} most recently made hours: older ones lose their minute cells.
     */
    public static void makeMinuteHours(Database db, long userId, Collection<Long> hours) {
        try {
            db.write(h -> {
                java.sql.Connection c = h.getConnection();
                MinuteCells kept = minuteCells(c, userId, Long.MIN_VALUE);
                Cells cells = new Cells();
                int made = 0;
                try (PreparedStatement read = c.prepareStatement(HOUR_READ);
                     PreparedStatement list = c.prepareStatement("""
                             INSERT INTO usage_minute_hours (user_id, hour, made)
                             SELECT ?, ?, coalesce(max(made), 0) + 1 FROM usage_minute_hours WHERE user_id = ?""")) {
                    for (long hour : hours) {
                        if (kept.has(hour)) {
                            continue;
                        }
                        read.setLong(1, userId);
                        read.setLong(2, hour * 60_000L);
                        read.setLong(3, (hour + 60) * 60_000L);
                        try (ResultSet rs = read.executeQuery()) {
                            while (rs.next()) {
                                cells.add(foldedRow(rs), 0);
                            }
                        }
                        list.setLong(1, userId);
                        list.setLong(2, hour);
                        list.setLong(3, userId);
                        list.executeUpdate();
                        made++;
                    }
                }
                if (made == 0) {
                    return null;
                }
                cells.addCuts();
                writeCells(h, cells.byKey);
                forgetOldestHours(c, userId);
                return null;
            });
        } catch (SQLException e) {
            throw new IllegalStateException("minute cells not made: " + e.getMessage(), e);
        }
    }

    /** Drops the minute cells of the user's made hours beyond the {@value #MINUTE_HOURS_KEPT} newest. */
    private static void forgetOldestHours(java.sql.Connection c, long userId) throws SQLException {
        List<Long> gone = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT hour FROM usage_minute_hours WHERE user_id = ? ORDER BY made DESC LIMIT -1 OFFSET ?")) {
            ps.setLong(1, userId);
            ps.setInt(2, MINUTE_HOURS_KEPT);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    gone.add(rs.getLong(1));
                }
            }
        }
        try (PreparedStatement cellsDelete = c.prepareStatement(HOUR_MINUTE_CELLS_DELETE);
             PreparedStatement unlist = c.prepareStatement(
                     "DELETE FROM usage_minute_hours WHERE user_id = ? AND hour = ?")) {
            for (long hour : gone) {
                cellsDelete.setLong(1, userId);
                cellsDelete.setLong(2, hour);
                cellsDelete.setLong(3, hour + 60);
                cellsDelete.executeUpdate();
                unlist.setLong(1, userId);
                unlist.setLong(2, hour);
                unlist.executeUpdate();
            }
        }
    }

    /**
     * Cells being made: rows binned into their finest cell once, then added up into the cuts. The parsed extras are
     * shared by rows with the same text (rows of one source repeat it).
     */
    private static final class Cells {
        final Map<Cell, Tally> byKey = new HashMap<>();
        private final Map<String, Map<String, Double>> parsedExtras = new HashMap<>();

        /** Adds a row to its cell of {@code level}. */
        void add(Row r, int level) {
            Map<String, Double> extras = r.extra() == null ? null
                    : parsedExtras.computeIfAbsent(r.extra(), UsageStore::extras);
            long minute = Math.floorDiv(r.tsMs(), 60_000L);
            long t = minute - Math.floorMod(minute, LEVEL_MINUTES[level]);
            byKey.computeIfAbsent(Cell.of(r, level, t), k -> new Tally()).add(r, extras);
        }

        /** Adds every full cell into its cuts (schema/015, 016). */
        void addCuts() {
            for (Map.Entry<Cell, Tally> e : new ArrayList<>(byKey.entrySet())) {
                for (int cut = 1; cut < CUT_KEEPS.size(); cut++) {
                    byKey.computeIfAbsent(e.getKey().cut(cut), k -> new Tally()).merge(e.getValue());
                }
            }
        }
    }

    /**
     * The user's minute-cell horizon (epoch minutes; minute cells exist for rows at or after it), moved forward
     * to {@code nowMs} minus two days on a whole hour; minute cells below a moved horizon are deleted.
     */
    private static void minuteHorizon(java.sql.Connection c, long userId, long nowMs) throws SQLException {
        long wanted = Math.floorDiv(Math.floorDiv(nowMs, 60_000L) - MINUTE_CELLS_KEPT_MINUTES, 60) * 60;
        try (PreparedStatement ps = c.prepareStatement(HORIZON_ADVANCE)) {
            ps.setLong(1, userId);
            ps.setLong(2, wanted);
            if (ps.executeUpdate() == 0) {
                return;
            }
        }
        try (PreparedStatement ps = c.prepareStatement(MINUTE_CELLS_DELETE)) {
            ps.setLong(1, userId);
            ps.setLong(2, wanted);
            ps.setLong(3, userId);
            ps.executeUpdate();
        }
    }

    /** One rollup cell's key; absent dimensions are ''. Ordered like the table's primary key. */
    private record Cell(long userId, int level, long t, String sourceKind, String model, String device, String tag,
                        String tenant, String dataset, int ok) implements Comparable<Cell> {
        private static final java.util.Comparator<Cell> ORDER = java.util.Comparator.comparingLong(Cell::userId)
                .thenComparingInt(Cell::level).thenComparingLong(Cell::t).thenComparing(Cell::sourceKind)
                .thenComparing(Cell::model).thenComparing(Cell::device).thenComparing(Cell::tag)
                .thenComparing(Cell::tenant).thenComparing(Cell::dataset).thenComparingInt(Cell::ok);

        static Cell of(Row r, int level, long t) {
            return new Cell(r.userId(), level, t, orEmpty(r.sourceKind()), orEmpty(r.model()), orEmpty(r.device()),
                    orEmpty(r.tag()), orEmpty(r.tenant()), orEmpty(r.dataset()), r.ok() ? 1 : 0);
        }

        /** The cell of cut {@code cut} (schema/015, 016) holding this full cell. */
        Cell cut(int cut) {
            String keep = CUT_KEEPS.get(cut);
            return new Cell(userId, cutLevel(level, cut), t, sourceKind, keep.equals("model") ? model : "",
                    keep.equals("device") ? device : "", keep.equals("tag") ? tag : "", keep.equals("tenant") ? tenant : "",
                    keep.equals("dataset") ? dataset : "", ok);
        }

        /** The cell of the coarser {@code level} holding this one. */
        Cell up(int level) {
            return new Cell(userId, level, t - Math.floorMod(t, LEVEL_MINUTES[level]), sourceKind, model, device, tag,
                    tenant, dataset, ok);
        }

        @Override
        public int compareTo(Cell o) {
            return ORDER.compare(this, o);
        }

        int bindKey(PreparedStatement ps) throws SQLException {
            ps.setLong(1, userId);
            ps.setInt(2, level);
            ps.setLong(3, t);
            ps.setString(4, sourceKind);
            ps.setString(5, model);
            ps.setString(6, device);
            ps.setString(7, tag);
            ps.setString(8, tenant);
            ps.setString(9, dataset);
            ps.setInt(10, ok);
            return 11;
        }
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s;
    }

    /** Writes each touched cell once, in primary-key order, merged with the stored cell by the upsert. */
    private static void writeCells(Handle h, Map<Cell, Tally> cells) throws SQLException {
        if (cells.isEmpty()) {
            return;
        }
        java.sql.Connection c = h.getConnection();
        registerMergeFunctions(c);
        List<Cell> order = new ArrayList<>(cells.keySet());
        order.sort(null);
        try (PreparedStatement write = c.prepareStatement(CELL_WRITE)) {
            for (Cell cell : order) {
                Tally t = cells.get(cell);
                int i = cell.bindKey(write);
                write.setLong(i++, t.requests);
                write.setLong(i++, t.promptTokens);
                write.setLong(i++, t.completionTokens);
                write.setLong(i++, t.latencyN);
                write.setDouble(i++, t.latencySum);
                setDouble(write, i++, t.latencyMax);
                write.setLong(i++, t.ttftN);
                write.setDouble(i++, t.ttftSum);
                write.setLong(i++, t.tokSN);
                write.setDouble(i++, t.tokSSum);
                write.setDouble(i++, t.tokSSq);
                write.setLong(i++, t.prefillN);
                write.setDouble(i++, t.prefillSum);
                write.setLong(i++, t.decodeN);
                write.setDouble(i++, t.decodeSum);
                write.setBytes(i++, t.latency.encode());
                write.setBytes(i++, t.ttft.encode());
                write.setBytes(i++, t.tokS.encode());
                write.setBytes(i, t.encodeExtra());
                write.addBatch();
            }
            write.executeBatch();
        }
    }

    /** Registers the histogram and extra merge functions the cell upsert calls, once per connection. */
    private static void registerMergeFunctions(java.sql.Connection c) throws SQLException {
        if (WITH_FUNCTIONS.contains(c)) {
            return;
        }
        org.sqlite.Function.create(c, MERGE_HIST, new BlobMerge() {
            @Override
            byte[] merge(byte[] stored, byte[] added) {
                return CellMerge.histograms(stored, added);
            }
        }, 2, org.sqlite.Function.FLAG_DETERMINISTIC);
        org.sqlite.Function.create(c, MERGE_EXTRA, new BlobMerge() {
            @Override
            byte[] merge(byte[] stored, byte[] added) {
                return CellMerge.extras(stored, added);
            }
        }, 2, org.sqlite.Function.FLAG_DETERMINISTIC);
        WITH_FUNCTIONS.add(c);
    }

    /** An SQL function of two blobs (either may be NULL) answering their merge, NULL when it is empty. */
    private abstract static class BlobMerge extends org.sqlite.Function {
        abstract byte[] merge(byte[] stored, byte[] added);

        @Override
        protected void xFunc() throws SQLException {
            byte[] stored = value_blob(0);
            byte[] added = value_blob(1);
            // one side empty: the other as it is, without decoding it
            byte[] out = added == null ? stored : stored == null ? added : merge(stored, added);
            if (out == null) {
                result();
            } else {
                result(out);
            }
        }
    }

    /**
     * Adds the counts and sums of one row of {@link #FACTS} (columns {@code col} to {@code col + 15}) to a tally,
     * straight into it (no tally per row): answers read tens of thousands of cells. Shared by raw rows, single
     * cells and grouped cells, which differ only in how their histograms arrive.
     */
    static void addSums(Tally t, ResultSet rs, int col) throws SQLException {
        t.requests += rs.getLong(col);
        t.okRequests += rs.getLong(col + 1);
        t.promptTokens += rs.getLong(col + 2);
        t.completionTokens += rs.getLong(col + 3);
        t.latencyN += rs.getLong(col + 4);
        t.latencySum += rs.getDouble(col + 5);
        double max = rs.getDouble(col + 6);
        if (!rs.wasNull()) {
            t.latencyMax = t.latencyMax == null ? max : Math.max(t.latencyMax, max);
        }
        t.ttftN += rs.getLong(col + 7);
        t.ttftSum += rs.getDouble(col + 8);
        t.tokSN += rs.getLong(col + 9);
        t.tokSSum += rs.getDouble(col + 10);
        t.tokSSq += rs.getDouble(col + 11);
        t.prefillN += rs.getLong(col + 12);
        t.prefillSum += rs.getDouble(col + 13);
        t.decodeN += rs.getLong(col + 14);
        t.decodeSum += rs.getDouble(col + 15);
    }

    /** The numbers of an extra object {label: number}; anything else in it is ignored. */
    static Map<String, Double> extras(String json) {
        Map<String, Double> out = new LinkedHashMap<>();
        try (JsonParser p = Json.MAPPER.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return out;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String label = p.currentName();
                JsonToken v = p.nextToken();
                if (v == JsonToken.VALUE_NUMBER_INT || v == JsonToken.VALUE_NUMBER_FLOAT) {
                    double d = p.getDoubleValue();
                    if (Double.isFinite(d)) {
                        out.put(label, d);
                    }
                } else {
                    p.skipChildren();
                }
            }
        } catch (java.io.IOException e) {
            return out;
        }
        return out;
    }

    /** The INSERT of {@code rowsAStatement} rows of a shape, its parameters numbered as {@link Shape#bind} binds them. */
    private static String insertSql(Shape shape, int rowsAStatement) {
        // COLUMNS has 29 entries: two masks and the row count fit one long
        long key = (long) (rowsAStatement - 1) << 58 | (long) shape.shared() << 29 | shape.bound();
        if (INSERTS.size() >= MAX_INSERTS) {
            INSERTS.clear(); // shapes follow the batches' contents: kept few, not every one ever seen
        }
        return INSERTS.computeIfAbsent(key, k -> {
            StringBuilder names = new StringBuilder();
            for (int i = 0; i < COLUMNS.length; i++) {
                if ((shape.bound() & 1 << i) != 0) {
                    names.append(COLUMNS[i]).append(", ");
                }
            }
            int shared = Integer.bitCount(shape.shared());
            int own = Integer.bitCount(shape.bound() & ~shape.shared());
            StringJoiner values = new StringJoiner(", ");
            for (int j = 0; j < rowsAStatement; j++) {
                StringBuilder row = new StringBuilder("(");
                int s = 0;
                int o = 0;
                for (int i = 0; i < COLUMNS.length; i++) {
                    if ((shape.shared() & 1 << i) != 0) {
                        row.append('?').append(++s).append(", ");
                    } else if ((shape.bound() & 1 << i) != 0) {
                        row.append('?').append(shared + 2 + j * own + o++).append(", ");
                    }
                }
                values.add(row.append('?').append(shared + 1).append(" + ").append(j).append(')'));
            }
            return "INSERT INTO usage_events (" + names + "id) VALUES " + values + " ON CONFLICT DO NOTHING";
        });
    }

    /** The value column {@code i} of {@link #COLUMNS} binds for a row (time and event key aside), or null. */
    private static Object value(Row r, int i) {
        return switch (i) {
            case 0 -> r.userId();
            case 3 -> r.sourceKind();
            case 4 -> r.ok() ? 1 : 0;
            default -> column(r, i);
        };
    }

    /** The value of optional column {@code i} of {@link #COLUMNS} in a row, or null. */
    private static Object column(Row r, int i) {
        Hardware hw = r.hardware();
        return switch (i) {
            case 5 -> r.apiKeyId();
            case 6 -> r.requestId();
            case 7 -> r.device();
            case 8 -> r.model();
            case 9 -> r.tag();
            case 10 -> r.promptTokens();
            case 11 -> r.completionTokens();
            case 12 -> r.latencyMs();
            case 13 -> r.ttftMs();
            case 14 -> r.tokS();
            case 15 -> r.errorType();
            case 16 -> r.errorMessage();
            case 17 -> r.jobId();
            case 18 -> r.promptPreview();
            case 19 -> r.extra();
            case 20 -> r.tenant();
            case 21 -> r.dataset();
            case 22 -> hw == null ? null : hw.prefillTokS();
            case 23 -> hw == null ? null : hw.decodeTokS();
            case 24 -> hw == null ? null : hw.loadMs();
            case 25 -> hw == null ? null : hw.batteryStartPct();
            case 26 -> hw == null ? null : hw.batteryEndPct();
            case 27 -> hw == null ? null : hw.tempMaxC();
            case 28 -> hw == null ? null : hw.thermalStatusMax();
            default -> throw new IllegalArgumentException("column " + i);
        };
    }

    private static void bindValue(PreparedStatement ps, int i, Object v) throws SQLException {
        switch (v) {
            case null -> ps.setNull(i, Types.NULL);
            case String text -> ps.setString(i, text);
            case Double d -> ps.setDouble(i, d);
            case Number n -> ps.setLong(i, n.longValue());
            default -> throw new IllegalArgumentException("a usage column cannot hold " + v.getClass());
        }
    }

    /**
     * The row's event key: a 32-bit hash of its event id (request_id, with its device and ok), or of its content
     * when it has none (the fields Mixpanel-style deduplication uses). Same user, time and key = the same event.
     */
    static int eventKey(Row r) {
        // device and ok too: a gateway call retried on another device records two attempts under one request id
        long h = FNV_OFFSET;
        if (r.requestId() != null) {
            // the FNV-1a of "id|" + requestId + "|" + device + "|" + ok, without making that string
            h = fnv(fnv(fnv(fnv(fnv(fnv(h, "id|"), r.requestId()), "|"), String.valueOf(r.device())), "|"),
                    r.ok() ? "true" : "false");
        } else {
            h = fnv(h, "c|" + r.device() + "|" + r.model() + "|" + r.jobId() + "|" + r.promptTokens() + "|"
                    + r.completionTokens() + "|" + r.latencyMs() + "|" + r.ttftMs() + "|" + r.sourceKind());
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        return (int) h;
    }

    private static final long FNV_OFFSET = 0xcbf29ce484222325L;

    /** FNV-1a over a text's UTF-16 chars, from hash {@code h}. */
    private static long fnv(long h, String text) {
        for (int i = 0; i < text.length(); i++) {
            h ^= text.charAt(i);
            h *= 0x100000001b3L;
        }
        return h;
    }

    private static void setDouble(PreparedStatement ps, int i, Double v) throws SQLException {
        if (v == null) {
            ps.setNull(i, Types.REAL);
        } else {
            ps.setDouble(i, v);
        }
    }

    /** Rows of one user, newest first (for tests and the usage feature's first views). */
    public List<Row> recent(long userId, int limit) {
        return db.read(h -> h.createQuery("""
                        SELECT user_id, api_key_id, ts_ms, source_kind, request_id, device, model, tag, prompt_tokens,
                               completion_tokens, latency_ms, ttft_ms, tok_s, ok, error_type, error_message, job_id,
                               prompt_preview, extra, tenant, dataset
                        FROM usage_events WHERE user_id = ? ORDER BY ts_ms DESC, id DESC LIMIT ?""")
                .bind(0, userId).bind(1, limit)
                .map((rs, ctx) -> new Row(rs.getLong(1), number(rs, 2, Long.class), rs.getLong(3), rs.getString(4),
                        rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8),
                        number(rs, 9, Integer.class), number(rs, 10, Integer.class), number(rs, 11, Double.class),
                        number(rs, 12, Double.class), number(rs, 13, Double.class), rs.getInt(14) == 1,
                        rs.getString(15), rs.getString(16), rs.getString(17), rs.getString(18), rs.getString(19),
                        rs.getString(20), rs.getString(21), null))
                .list());
    }

    /** A nullable number column as Long, Integer or Double. */
    static <T> T number(ResultSet rs, int col, Class<T> type) throws SQLException {
        Object o = rs.getObject(col);
        if (!(o instanceof Number n)) {
            return null;
        }
        if (type == Long.class) {
            return type.cast(n.longValue());
        }
        if (type == Integer.class) {
            return type.cast(n.intValue());
        }
        return type.cast(n.doubleValue());
    }

    /**
     * Retention: deletes up to {@code limit} of the user's raw usage rows older than {@code cutoffMs}, oldest first, in
     * one short transaction; returns how many went. The rollups stay, so summaries and series over whole hours and
     * days keep their values.
     */
    public int deleteRawBefore(long userId, long cutoffMs, int limit) {
        // only folded rows go (a row committed after this fold waits for the next pass): their cells keep them
        foldPending(db);
        return db.write(h -> h.createUpdate("""
                        DELETE FROM usage_events WHERE id IN (
                            SELECT id FROM usage_events WHERE user_id = :user AND ts_ms < :cutoff
                            AND id <= (SELECT folded_id FROM usage_fold WHERE id = 1) ORDER BY ts_ms LIMIT :limit)""")
                .bind("user", userId).bind("cutoff", cutoffMs).bind("limit", limit).execute());
    }
}
