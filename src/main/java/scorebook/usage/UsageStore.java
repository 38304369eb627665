package scorebook.usage;

import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.jdbi.v3.core.Handle;

import scorebook.store.Database;

/**
 * Writes usage rows (the {@code usage_events} table). Model calls hand their row to
 * {@link #record} and go on: a background writer drains the queue in batched transactions, so the
 * hot path never waits for SQLite. {@link #flush} waits until every row recorded before it is
 * stored; {@link #close} flushes. Without a started writer (command line, tests of parts) rows are
 * written at once. Queries on these rows belong to the usage feature.
 */
public final class UsageStore implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(UsageStore.class.getName());
    private static final int MAX_QUEUE = 100_000;
    private static final int BATCH = 1_000;
    private static final String INSERT = """
            INSERT INTO usage_events (user_id, api_key_id, ts, ts_ms, source_kind, request_id, device, model, tag,
                                      prompt_tokens, completion_tokens, latency_ms, ttft_ms, tok_s, ok, error_type,
                                      error_message, job_id, prompt_preview, extra)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""";

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
     * @param extra            JSON object text of extra metrics, or null
     */
    public record Row(long userId, Long apiKeyId, long tsMs, String sourceKind, String requestId, String device,
                      String model, String tag, Integer promptTokens, Integer completionTokens, Double latencyMs,
                      Double ttftMs, Double tokS, boolean ok, String errorType, String errorMessage, String jobId,
                      String promptPreview, String extra) {
        /** The start time as stored in {@code ts}: ISO-8601 UTC with milliseconds. */
        public String ts() {
            return iso(tsMs);
        }
    }

    /** Always three fraction digits (Instant.toString drops them at .000), so the text sorts like the time. */
    private static final DateTimeFormatter ISO = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    private final Database db;
    private final LinkedBlockingQueue<Row> queue = new LinkedBlockingQueue<>(MAX_QUEUE);
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition progressed = lock.newCondition();
    private long enqueued;
    private long written;
    private volatile Thread writer;
    private volatile boolean stopping;

    public UsageStore(Database db) {
        this.db = db;
    }

    /** ISO-8601 UTC with exactly three fraction digits, e.g. 2026-11-22T04:33:01.000Z. */
    public static String iso(long epochMs) {
        return ISO.format(Instant.ofEpochMilli(epochMs));
    }

    /** Starts the background writer. */
    public synchronized void start() {
        if (writer == null) {
            stopping = false;
            writer = Thread.ofPlatform().daemon().name("usage-writer").start(this::drain);
        }
    }

    /** Records one row: queued when the writer runs (written at once when it does not or the queue is full). */
    public void record(Row row) {
        if (writer == null || stopping) {
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
        }
    }

    /** Waits until every row recorded before this call is stored (at most {@code timeout}). */
    public boolean flush(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            long target = enqueued;
            while (written < target) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || writer == null) {
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
        Thread t;
        synchronized (this) {
            t = writer;
            if (t == null) {
                return;
            }
            stopping = true;
        }
        flush(Duration.ofSeconds(30));
        t.interrupt();
        try {
            t.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            writer = null;
        }
        // rows that raced with the stop
        List<Row> rest = new ArrayList<>();
        queue.drainTo(rest);
        if (!rest.isEmpty()) {
            insert(rest);
        }
    }

    private void drain() {
        List<Row> batch = new ArrayList<>(BATCH);
        while (true) {
            try {
                Row first = stopping && queue.isEmpty() ? null : queue.poll(1, TimeUnit.SECONDS);
                if (first == null) {
                    if (stopping) {
                        return;
                    }
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, BATCH - 1);
            } catch (InterruptedException e) {
                if (queue.isEmpty()) {
                    return;
                }
                queue.drainTo(batch, BATCH);
            }
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

    /** Inserts rows in one transaction; if that fails (a user deleted meanwhile), row by row, dropping bad ones. */
    private void insert(List<Row> rows) {
        try {
            db.write(h -> batch(h, rows));
        } catch (RuntimeException | SQLException e) {
            for (Row r : rows) {
                try {
                    db.write(h -> batch(h, List.of(r)));
                } catch (RuntimeException | SQLException one) {
                    LOG.log(Level.WARNING, "usage row dropped (" + one.getMessage() + "): " + r);
                }
            }
        }
    }

    /** Plain JDBC: binding through JDBI's reflection cost more than the insert itself. */
    private static int[] batch(Handle h, List<Row> rows) throws SQLException {
        try (PreparedStatement ps = h.getConnection().prepareStatement(INSERT)) {
            for (Row r : rows) {
                ps.setLong(1, r.userId());
                setLong(ps, 2, r.apiKeyId());
                ps.setString(3, r.ts());
                ps.setLong(4, r.tsMs());
                ps.setString(5, r.sourceKind());
                ps.setString(6, r.requestId());
                ps.setString(7, r.device());
                ps.setString(8, r.model());
                ps.setString(9, r.tag());
                setLong(ps, 10, r.promptTokens() == null ? null : r.promptTokens().longValue());
                setLong(ps, 11, r.completionTokens() == null ? null : r.completionTokens().longValue());
                setDouble(ps, 12, r.latencyMs());
                setDouble(ps, 13, r.ttftMs());
                setDouble(ps, 14, r.tokS());
                ps.setInt(15, r.ok() ? 1 : 0);
                ps.setString(16, r.errorType());
                ps.setString(17, r.errorMessage());
                ps.setString(18, r.jobId());
                ps.setString(19, r.promptPreview());
                ps.setString(20, r.extra());
                ps.addBatch();
            }
            return ps.executeBatch();
        }
    }

    private static void setLong(PreparedStatement ps, int i, Long v) throws SQLException {
        if (v == null) {
            ps.setNull(i, Types.INTEGER);
        } else {
            ps.setLong(i, v);
        }
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
                               prompt_preview, extra
                        FROM usage_events WHERE user_id = ? ORDER BY ts_ms DESC, id DESC LIMIT ?""")
                .bind(0, userId).bind(1, limit).mapTo(Row.class).list());
    }
}
