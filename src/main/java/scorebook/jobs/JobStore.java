package scorebook.jobs;

import java.security.SecureRandom;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.mapper.RowMapper;
import org.jdbi.v3.core.statement.UnableToExecuteStatementException;

import scorebook.store.Database;
import scorebook.store.IsoTime;
import scorebook.usage.UsageStore;

/**
 * SQL for the job queue. Every state move is one {@code UPDATE ... WHERE state = ... RETURNING}
 * inside a write transaction, so two movers never both win; a job's end queues its callback in
 * the same transaction. Times come in as epoch milliseconds from the caller's clock.
 */
public final class JobStore {
    static final String COLUMNS = """
            id, job_id, user_id, state, priority, queue_tag, model, device_serial, device, prompt, system, options,
            adapter_id, callback_url, attempt, max_attempts, backoff_s, cancel_requested, run_at_ms, lease_id, lease_s,
            lease_expires_ms, pushed, error, output, metrics, raw, enqueued_at, started_at, finished_at""";
    static final Duration IDEMPOTENCY = Duration.ofHours(24);
    /**
     * Reads a job from {@link #COLUMNS} by position. Jdbi's constructor mapper matched the 30 columns to the
     * record's components by name and reflection again for every statement: 25-40 % of the CPU of an enqueue,
     * claim or complete in the profile of the jobs benchmark.
     */
    private static final RowMapper<Job> JOB = (rs, ctx) -> job(rs);

    /** A job to enqueue (validated by the service). */
    public record NewJob(long userId, String prompt, String system, String model, String options, int priority,
                         String queueTag, String deviceSerial, String adapterId, String callbackUrl, int maxAttempts,
                         double backoffS) {
    }

    /** An enqueue's answer: the job, and whether an earlier enqueue with the same key made it. */
    public record Enqueued(Job job, boolean replayed) {
    }

    /** The same Idempotency-Key came with another body. */
    public static final class KeyReused extends RuntimeException {
        KeyReused() {
            super(null, null, false, false);
        }
    }

    /**
     * The end of an attempt, as the rules decide it from the job: the state it moves to and what is
     * kept. {@code runAtMs} matters for {@code retrying}.
     */
    public record Ending(String state, String errorJson, String output, String metrics, String raw, long runAtMs,
                         String outcome) {
    }

    /** What a lease-holding call found: the job after the move, or as it was when nothing moved. */
    public record Move(Job job, boolean moved) {
    }

    /** A list query; null fields do not filter. {@code userId} null lists every user's (the owner's DLQ). */
    public record Query(Long userId, String state, String model, String device, String queueTag, Long beforeId, int limit) {
    }

    /** An attempt of a job. */
    public record Attempt(int attempt, String device, String leaseId, String startedAt, String endedAt, String outcome,
                          String errorType, String errorMessage) {
    }

    /** A listed job with its owner's name (the owner's dead-letter view). */
    public record Listed(Job job, String userName) {
    }

    private final Database db;
    private final WebhookStore webhooks;
    private final WriterStatements statements = new WriterStatements();
    /**
     * Enqueues and completes share one group commit: with four producers and four workers each kind alone grouped
     * fewer than two writes a transaction, and a transaction's own cost (its commit writing the same hot pages of
     * the jobs table and its indexes) was a third of the writer's time in the jobs benchmark.
     */
    private final GroupCommit<Shared, Object> shared;

    public JobStore(Database db, WebhookStore webhooks) {
        this.db = db;
        this.webhooks = webhooks;
        this.shared = new GroupCommit<>(db, GROUP, this::writeShared);
    }

    /** A write that goes through the shared group commit. */
    private sealed interface Shared permits Enqueue, Done {
    }

    /** Writes a batch of enqueues and completes: the enqueues in one insert, then the completes; answers in order. */
    private List<Object> writeShared(Handle h, List<Shared> batch) {
        List<Enqueue> enqueues = new ArrayList<>();
        List<Done> dones = new ArrayList<>();
        for (Shared s : batch) {
            switch (s) {
                case Enqueue e -> enqueues.add(e);
                case Done d -> dones.add(d);
            }
        }
        Iterator<Job> enqueued = insert(h, enqueues.stream().map(Enqueue::job).toList(),
                enqueues.stream().mapToLong(Enqueue::nowMs).toArray()).iterator();
        Iterator<Optional<Move>> completed = completeAll(h, dones).iterator();
        List<Object> out = new ArrayList<>(batch.size());
        for (Shared s : batch) {
            out.add(s instanceof Enqueue ? enqueued.next() : completed.next());
        }
        return out;
    }

    /** Enqueues a job; with a key, the same key and body within 24 h give back the first job. */
    public Enqueued enqueue(NewJob n, String idempotencyKey, String bodyHash, long nowMs) {
        return db.write(h -> {
            if (idempotencyKey != null) {
                Optional<Map<String, Object>> seen = h.createQuery("""
                                SELECT body_hash, job_id FROM job_idempotency
                                WHERE user_id = :user AND key = :key AND created_ms > :since""")
                        .bind("user", n.userId()).bind("key", idempotencyKey).bind("since", nowMs - IDEMPOTENCY.toMillis())
                        .mapToMap().findOne();
                if (seen.isPresent()) {
                    if (!bodyHash.equals(seen.get().get("body_hash"))) {
                        throw new KeyReused();
                    }
                    Optional<Job> first = find(h, n.userId(), (String) seen.get().get("job_id"));
                    if (first.isPresent()) {
                        return new Enqueued(first.get(), true);
                    }
                }
            }
            Job job = insert(h, List.of(n), new long[] {nowMs}).getFirst();
            if (idempotencyKey != null) {
                h.createUpdate("""
                                INSERT INTO job_idempotency (user_id, key, body_hash, job_id, created_ms)
                                VALUES (:user, :key, :hash, :job, :now)
                                ON CONFLICT (user_id, key) DO UPDATE SET body_hash = excluded.body_hash,
                                    job_id = excluded.job_id, created_ms = excluded.created_ms""")
                        .bind("user", n.userId()).bind("key", idempotencyKey).bind("hash", bodyHash)
                        .bind("job", job.jobId()).bind("now", nowMs).execute();
            }
            return new Enqueued(job, false);
        });
    }

    /** An enqueue for the next group commit. */
    private record Enqueue(NewJob job, long nowMs) implements Shared {
    }

    /**
     * Enqueues a job without an idempotency key through a group commit ({@link GroupCommit}), so concurrent
     * enqueues share commits instead of queueing on the writer one by one.
     */
    public Job enqueueGrouped(NewJob n, long nowMs) {
        return (Job) shared.write(new Enqueue(n, nowMs));
    }

    private static final int GROUP = 500;

    /** Enqueues many jobs in one transaction (benchmarks, bulk loads). */
    public List<Job> enqueueAll(List<NewJob> jobs, long nowMs) {
        long[] nows = new long[jobs.size()];
        Arrays.fill(nows, nowMs);
        return db.write(h -> insert(h, jobs, nows));
    }

    /** Job ids are public names, not secrets (another user's id is 404): a DRBG without a system call per id. */
    private static final SecureRandom RANDOM = drbg();

    private static SecureRandom drbg() {
        try {
            return SecureRandom.getInstance("DRBG");
        } catch (java.security.NoSuchAlgorithmException e) {
            return new SecureRandom();
        }
    }

    /**
     * A new public job id: {@code job_}, the enqueue time (ms, 12 hex digits), then 64 random bits in hex. Ids in
     * time order (as ULIDs and UUIDv7 are) land at the right edge of the job_id index and of usage_events_job, so a
     * group commit of many jobs dirties one leaf page of each instead of one random page per job.
     */
    static String newJobId(long nowMs) {
        return "job_" + HexFormat.of().toHexDigits(nowMs).substring(4) + HexFormat.of().toHexDigits(RANDOM.nextLong());
    }

    private static final String INSERT = """
            INSERT INTO jobs (id, job_id, user_id, state, priority, queue_tag, model, device_serial, prompt, system, options,
                              adapter_id, callback_url, max_attempts, backoff_s, run_at_ms, enqueued_at)
            VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""";

    /**
     * Inserts queued jobs with one prepared statement run once per job, and makes their records here rather than
     * reading them back. Plain JDBC on this measured hot path: through Jdbi, each enqueue prepared a statement,
     * bound it by name and read 30 columns back, most of an enqueue's CPU. Ids are given explicitly, in order
     * after the highest, as SQLite would choose them; the writer lock makes this transaction the only one choosing.
     */
    private List<Job> insert(Handle h, List<NewJob> jobs, long[] nowMs) {
        if (jobs.isEmpty()) {
            return List.of();
        }
        try {
            long first;
            try (ResultSet rs = statements.get(h, "SELECT coalesce(max(id), 0) + 1 FROM jobs").executeQuery()) {
                rs.next();
                first = rs.getLong(1);
            }
            List<Job> out = new ArrayList<>(jobs.size());
            PreparedStatement ps = statements.get(h, INSERT);
            for (int i = 0; i < jobs.size(); i++) {
                NewJob n = jobs.get(i);
                String nowIso = IsoTime.format(nowMs[i]);
                Job j = new Job(first + i, newJobId(nowMs[i]), n.userId(), Job.QUEUED, n.priority(), n.queueTag(), n.model(),
                        n.deviceSerial(), null, n.prompt(), n.system(), n.options(), n.adapterId(), n.callbackUrl(), 0,
                        n.maxAttempts(), n.backoffS(), false, nowMs[i], null, null, null, false, null, null, null, null,
                        nowIso, null, null);
                ps.setLong(1, j.id());
                ps.setString(2, j.jobId());
                ps.setLong(3, j.userId());
                ps.setInt(4, j.priority());
                ps.setString(5, j.queueTag());
                ps.setString(6, j.model());
                ps.setString(7, j.deviceSerial());
                ps.setString(8, j.prompt());
                ps.setString(9, j.system());
                ps.setString(10, j.options());
                ps.setString(11, j.adapterId());
                ps.setString(12, j.callbackUrl());
                ps.setInt(13, j.maxAttempts());
                ps.setDouble(14, j.backoffS());
                ps.setLong(15, j.runAtMs());
                ps.setString(16, nowIso);
                ps.executeUpdate();
                out.add(j);
            }
            return out;
        } catch (SQLException e) {
            throw new UnableToExecuteStatementException(e, null);
        }
    }

    public Optional<Job> find(long userId, String jobId) {
        return db.read(h -> find(h, userId, jobId));
    }

    /** A job of any user (the owner's dead-letter actions, agents' calls). */
    public Optional<Job> find(String jobId) {
        return db.read(h -> h.createQuery("SELECT " + COLUMNS + " FROM jobs WHERE job_id = ?").bind(0, jobId)
                .map(JOB).findOne());
    }

    private static Optional<Job> find(Handle h, long userId, String jobId) {
        return h.createQuery("SELECT " + COLUMNS + " FROM jobs WHERE job_id = ? AND user_id = ?")
                .bind(0, jobId).bind(1, userId).map(JOB).findOne();
    }

    /** Jobs newest first, after the cursor. */
    public List<Listed> list(Query q) {
        StringBuilder sql = new StringBuilder("SELECT ").append(prefixed()).append(", u.name AS user_name")
                .append(" FROM jobs j JOIN users u ON u.id = j.user_id WHERE 1 = 1");
        if (q.userId() != null) {
            sql.append(" AND j.user_id = :user");
        }
        if (q.state() != null) {
            sql.append(" AND j.state = :state");
        }
        if (q.model() != null) {
            sql.append(" AND j.model = :model");
        }
        if (q.device() != null) {
            sql.append(" AND (j.device = :device OR j.device_serial = :device)");
        }
        if (q.queueTag() != null) {
            sql.append(" AND j.queue_tag = :tag");
        }
        if (q.beforeId() != null) {
            sql.append(" AND j.id < :before");
        }
        sql.append(" ORDER BY j.id DESC LIMIT :limit");
        return db.read(h -> {
            var query = h.createQuery(sql.toString()).bind("limit", q.limit());
            if (q.userId() != null) {
                query.bind("user", q.userId());
            }
            if (q.state() != null) {
                query.bind("state", q.state());
            }
            if (q.model() != null) {
                query.bind("model", q.model());
            }
            if (q.device() != null) {
                query.bind("device", q.device());
            }
            if (q.queueTag() != null) {
                query.bind("tag", q.queueTag());
            }
            if (q.beforeId() != null) {
                query.bind("before", q.beforeId());
            }
            return query.map((rs, ctx) -> new Listed(job(rs), rs.getString("user_name"))).list();
        });
    }

    private static String prefixed() {
        return String.join(", ", Arrays.stream(COLUMNS.split(",")).map(c -> "j." + c.strip()).toList());
    }

    /**
     * Moves the jobs a device may take now to running: queued or retrying and due, of the device's user, one of its
     * queue tags, a model it serves (or none named), pinned to it or to no device; most urgent first, FIFO within a
     * priority. Every column the inner SELECT reads is in the covering index {@code jobs_claimable}. Parameters: 1
     * serial, 2 lease_s, 3 lease end, 4 pushed, 5 now (ISO), 6 user, 7 now (ms), 8 tags (JSON), 9 models (JSON), 10 max.
     */
    private static final String CLAIM = """
            UPDATE jobs SET state = 'running', attempt = attempt + 1, device = ?1,
                lease_id = 'ls_' || lower(hex(randomblob(12))), lease_s = ?2, lease_expires_ms = ?3, pushed = ?4,
                started_at = ?5, error = NULL
            WHERE id IN (SELECT id FROM jobs
                         WHERE user_id = ?6 AND state IN ('queued', 'retrying') AND run_at_ms <= ?7
                           AND queue_tag IN (SELECT value FROM json_each(?8))
                           AND (model IS NULL OR model IN (SELECT value FROM json_each(?9)))
                           AND (device_serial IS NULL OR device_serial = ?1)
                         ORDER BY priority, id LIMIT ?10)
            RETURNING\s""" + COLUMNS;
    private static final String NEW_ATTEMPT = """
            INSERT INTO job_attempts (job_row, attempt, device, lease_id, started_at) VALUES (?, ?, ?, ?, ?)""";

    /**
     * Claims up to {@code max} jobs for a device (see {@link #CLAIM}). Each gets a new lease and an attempt row.
     * Plain JDBC on statements kept open ({@link WriterStatements}): a measured hot path.
     * <p>
     * (A read-only look before taking the writer was tried, so that a claim finding nothing would not hold the
     * writer. With 100,000 jobs queued it raised a claim's CPU from 4.2-4.5 to 6.1-6.4 ms, client included,
     * probably because every write leaves the read connection's page cache stale; so it went.)
     */
    public List<Job> claim(long userId, String serial, String tagsJson, String modelsJson, int max, int leaseS,
                           boolean pushed, long nowMs) {
        String nowIso = IsoTime.format(nowMs);
        return db.write(h -> {
            try {
                PreparedStatement ps = statements.get(h, CLAIM);
                ps.setString(1, serial);
                ps.setInt(2, leaseS);
                ps.setLong(3, nowMs + leaseS * 1000L);
                ps.setBoolean(4, pushed);
                ps.setString(5, nowIso);
                ps.setLong(6, userId);
                ps.setLong(7, nowMs);
                ps.setString(8, tagsJson);
                ps.setString(9, modelsJson);
                ps.setInt(10, max);
                List<Job> claimed = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        claimed.add(job(rs));
                    }
                }
                claimed.sort(Comparator.comparingInt(Job::priority).thenComparingLong(Job::id));
                if (!claimed.isEmpty()) {
                    PreparedStatement attempt = statements.get(h, NEW_ATTEMPT);
                    for (Job j : claimed) {
                        attempt.setLong(1, j.id());
                        attempt.setInt(2, j.attempt());
                        attempt.setString(3, serial);
                        attempt.setString(4, j.leaseId());
                        attempt.setString(5, j.startedAt());
                        attempt.executeUpdate();
                    }
                }
                return claimed;
            } catch (SQLException e) {
                throw new UnableToExecuteStatementException(e, null);
            }
        });
    }

    /**
     * Extends a running job's lease by its {@code lease_s}, if {@code leaseId} is its current lease.
     *
     * @return empty for an unknown job; else the job and whether the lease was extended
     */
    public Optional<Move> extend(String jobId, String leaseId, long nowMs) {
        return db.write(h -> {
            Optional<Job> moved = h.createQuery("""
                            UPDATE jobs SET lease_expires_ms = :now + lease_s * 1000
                            WHERE job_id = :job AND lease_id = :lease AND state = 'running'
                            RETURNING\s""" + COLUMNS)
                    .bind("now", nowMs).bind("job", jobId).bind("lease", leaseId).map(JOB).findOne();
            if (moved.isPresent()) {
                return Optional.of(new Move(moved.get(), true));
            }
            return byJobId(h, jobId).map(j -> new Move(j, false));
        });
    }

    /**
     * Ends the running attempt holding {@code leaseId} as {@code decide} says (given the job as it is).
     *
     * @return empty for an unknown job; else the job after the move, or as it is when the lease is not current
     */
    public Optional<Move> finish(String jobId, String leaseId, long nowMs, Function<Job, Ending> decide,
                                 Function<Job, UsageStore.Row> usage) {
        return db.write(h -> {
            Optional<Job> current = byJobId(h, jobId);
            if (current.isEmpty()) {
                return Optional.<Move>empty();
            }
            Job j = current.get();
            if (!Job.RUNNING.equals(j.state()) || !j.leaseId().equals(leaseId)) {
                return Optional.of(new Move(j, false));
            }
            List<UsageStore.Row> rows = new ArrayList<>(1);
            Move m = end(h, j, decide.apply(j), nowMs, usage, rows);
            insertUsage(h, rows, nowMs);
            return Optional.of(m);
        });
    }

    /**
     * A done attempt to write: the lease holder's result. {@code userId} is the lease holder's user; {@code usage}
     * makes the attempt's usage row from the job after the move (null: none), stored in the same transaction.
     */
    public record Done(String jobId, String leaseId, long userId, String output, String metrics, String raw, long nowMs,
                       Function<Job, UsageStore.Row> usage) implements Shared {
    }

    /** 1 output, 2 metrics, 3 raw, 4 finished_at, 5 job_id, 6 lease_id, 7 user_id. */
    private static final String COMPLETE = """
            UPDATE jobs SET state = 'done', error = NULL, output = ?1, metrics = coalesce(?2, metrics),
                raw = coalesce(?3, raw), lease_expires_ms = NULL, finished_at = ?4
            WHERE job_id = ?5 AND state = 'running' AND lease_id = ?6 AND user_id = ?7
            RETURNING\s""" + COLUMNS;
    private static final String ATTEMPT_ENDED = """
            UPDATE job_attempts SET ended_at = ?, outcome = ?, error_type = ?, error_message = ?
            WHERE job_row = ? AND lease_id = ?""";

    /**
     * Ends the running attempt holding the lease as done, in one statement (no read before it), through a group
     * commit shared with concurrent completes ({@link GroupCommit}).
     *
     * @return empty for an unknown job; else the job after the move, or as it is when the lease is not current
     */
    @SuppressWarnings("unchecked")
    public Optional<Move> complete(Done d) {
        return (Optional<Move>) shared.write(d);
    }

    private List<Optional<Move>> completeAll(Handle h, List<Done> batch) {
        if (batch.isEmpty()) {
            return List.of();
        }
        List<Optional<Move>> out = new ArrayList<>(batch.size());
        List<UsageStore.Row> usage = new ArrayList<>();
        try {
            for (Done d : batch) {
                String nowIso = IsoTime.format(d.nowMs());
                PreparedStatement ps = statements.get(h, COMPLETE);
                ps.setString(1, d.output());
                ps.setString(2, d.metrics());
                ps.setString(3, d.raw());
                ps.setString(4, nowIso);
                ps.setString(5, d.jobId());
                ps.setString(6, d.leaseId());
                ps.setLong(7, d.userId());
                Job after = null;
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        after = job(rs);
                    }
                }
                if (after == null) {
                    out.add(byJobId(h, d.jobId()).map(j -> new Move(j, false)));
                    continue;
                }
                PreparedStatement attempt = statements.get(h, ATTEMPT_ENDED);
                attempt.setString(1, nowIso);
                attempt.setString(2, "done");
                attempt.setString(3, null);
                attempt.setString(4, null);
                attempt.setLong(5, after.id());
                attempt.setString(6, after.leaseId());
                attempt.executeUpdate();
                if (after.callbackUrl() != null) {
                    webhooks.queue(h, after, d.nowMs());
                }
                addUsage(usage, d.usage(), after);
                out.add(Optional.of(new Move(after, true)));
            }
            insertUsage(h, usage, batch.getLast().nowMs());
            return out;
        } catch (SQLException e) {
            throw new UnableToExecuteStatementException(e, null);
        }
    }

    /** Running jobs whose lease ended before {@code nowMs} (at most {@code max}), each ended as {@code decide} says. */
    public List<Job> expireLeases(long nowMs, int max, Function<Job, Ending> decide, Function<Job, UsageStore.Row> usage) {
        return endRunning("lease_expires_ms < :now", nowMs, max, decide, usage);
    }

    /** Running jobs the server's own dispatcher held: after a restart nobody runs them any more. */
    public List<Job> interruptPushed(long nowMs, Function<Job, Ending> decide) {
        return endRunning("pushed = 1", nowMs, Integer.MAX_VALUE, decide, null);
    }

    private List<Job> endRunning(String condition, long nowMs, int max, Function<Job, Ending> decide,
                                 Function<Job, UsageStore.Row> usage) {
        var probe = "SELECT EXISTS (SELECT 1 FROM jobs WHERE state = 'running' AND " + condition + ")";
        boolean any = db.read(h -> {
            var q = h.createQuery(probe);
            if (condition.contains(":now")) {
                q.bind("now", nowMs);
            }
            return q.mapTo(boolean.class).one();
        });
        if (!any) {
            return List.of();
        }
        return db.write(h -> {
            var query = h.createQuery("SELECT " + COLUMNS + " FROM jobs WHERE state = 'running' AND " + condition
                    + " ORDER BY lease_expires_ms LIMIT :max").bind("max", max);
            if (condition.contains(":now")) {
                query.bind("now", nowMs);
            }
            List<Job> due = query.map(JOB).list();
            List<Job> out = new ArrayList<>();
            List<UsageStore.Row> rows = new ArrayList<>();
            for (Job j : due) {
                Move m = end(h, j, decide.apply(j), nowMs, usage, rows);
                if (m.moved()) {
                    out.add(m.job());
                }
            }
            insertUsage(h, rows, nowMs);
            return out;
        });
    }

    /**
     * Ends an attempt; {@code usage} makes its usage row (null: none), added to {@code rows} for the caller to store in
     * the same transaction (once for all the attempts it ends).
     */
    private Move end(Handle h, Job j, Ending e, long nowMs, Function<Job, UsageStore.Row> usage,
                     List<UsageStore.Row> rows) {
        String nowIso = IsoTime.format(nowMs);
        boolean terminal = !Job.RETRYING.equals(e.state());
        Optional<Job> after = h.createQuery("""
                        UPDATE jobs SET state = :state, error = :error, output = coalesce(:output, output),
                            metrics = coalesce(:metrics, metrics), raw = coalesce(:raw, raw), run_at_ms = :runAt,
                            lease_expires_ms = NULL, finished_at = :finished
                        WHERE id = :id AND state = 'running' AND lease_id = :lease
                        RETURNING\s""" + COLUMNS)
                .bind("state", e.state()).bind("error", e.errorJson()).bind("output", e.output())
                .bind("metrics", e.metrics()).bind("raw", e.raw()).bind("runAt", e.runAtMs())
                .bind("finished", terminal ? nowIso : null).bind("id", j.id()).bind("lease", j.leaseId())
                .map(JOB).findOne();
        if (after.isEmpty()) {
            return new Move(j, false);
        }
        var err = JobText.tree(e.errorJson());
        h.createUpdate("""
                        UPDATE job_attempts SET ended_at = :at, outcome = :outcome, error_type = :type, error_message = :message
                        WHERE job_row = :row AND lease_id = :lease""")
                .bind("at", nowIso).bind("outcome", e.outcome())
                .bind("type", err == null ? null : err.path("type").asText(null))
                .bind("message", err == null ? null : err.path("message").asText(null))
                .bind("row", j.id()).bind("lease", j.leaseId()).execute();
        if (terminal) {
            webhooks.queue(h, after.get(), nowMs);
        }
        addUsage(rows, usage, after.get());
        return new Move(after.get(), true);
    }

    /** Stores the ended attempts' usage rows in the transaction that ended them (none: nothing). */
    private static void insertUsage(Handle h, List<UsageStore.Row> rows, long nowMs) {
        if (rows.isEmpty()) {
            return;
        }
        try {
            UsageStore.insert(h, rows, nowMs);
        } catch (SQLException e) {
            throw new UnableToExecuteStatementException(e, null);
        }
    }

    /** Adds the usage row {@code usage} makes of an ended attempt, if it makes one. */
    private static void addUsage(List<UsageStore.Row> rows, Function<Job, UsageStore.Row> usage, Job ended) {
        UsageStore.Row row = usage == null ? null : usage.apply(ended);
        if (row != null) {
            rows.add(row);
        }
    }

    /**
     * Cancels a job: queued or retrying ones at once; a running one is marked {@code cancel_requested}.
     *
     * @return empty for an unknown job; else the job after the move, or as it is when it had ended
     */
    public Optional<Move> cancel(long userId, String jobId, long nowMs) {
        return db.write(h -> {
            Optional<Job> now = h.createQuery("""
                            UPDATE jobs SET state = 'cancelled', finished_at = :nowIso,
                                error = json_object('type', 'cancelled', 'message', 'cancelled before it ran')
                            WHERE job_id = :job AND user_id = :user AND state IN ('queued', 'retrying')
                            RETURNING\s""" + COLUMNS)
                    .bind("nowIso", IsoTime.format(nowMs)).bind("job", jobId).bind("user", userId)
                    .map(JOB).findOne();
            if (now.isPresent()) {
                webhooks.queue(h, now.get(), nowMs);
                return Optional.of(new Move(now.get(), true));
            }
            Optional<Job> requested = h.createQuery("""
                            UPDATE jobs SET cancel_requested = 1
                            WHERE job_id = :job AND user_id = :user AND state = 'running'
                            RETURNING\s""" + COLUMNS)
                    .bind("job", jobId).bind("user", userId).map(JOB).findOne();
            if (requested.isPresent()) {
                return Optional.of(new Move(requested.get(), true));
            }
            return find(h, userId, jobId).map(j -> new Move(j, false));
        });
    }

    /**
     * Puts a failed job back in the queue: attempts start again, the history stays. Null changes keep the job's values.
     *
     * @return empty for an unknown job; else the job after the move, or as it is when it was not failed
     */
    public Optional<Move> requeue(String jobId, Integer priority, String deviceSerial, boolean clearSerial, String queueTag,
                                  long nowMs) {
        return db.write(h -> {
            Optional<Job> moved = h.createQuery("""
                            UPDATE jobs SET state = 'queued', attempt = 0, run_at_ms = :now, error = NULL, finished_at = NULL,
                                cancel_requested = 0, lease_expires_ms = NULL, output = NULL, metrics = NULL, raw = NULL,
                                priority = coalesce(:priority, priority), queue_tag = coalesce(:tag, queue_tag),
                                device_serial = CASE WHEN :clear THEN NULL ELSE coalesce(:serial, device_serial) END
                            WHERE job_id = :job AND state = 'failed'
                            RETURNING\s""" + COLUMNS)
                    .bind("now", nowMs).bind("priority", priority).bind("tag", queueTag).bind("clear", clearSerial)
                    .bind("serial", deviceSerial).bind("job", jobId).map(JOB).findOne();
            if (moved.isPresent()) {
                return Optional.of(new Move(moved.get(), true));
            }
            return byJobId(h, jobId).map(j -> new Move(j, false));
        });
    }

    /** Deletes a failed job (with its attempts and deliveries). */
    public Optional<Move> delete(String jobId) {
        return db.write(h -> {
            Optional<Job> gone = h.createQuery("DELETE FROM jobs WHERE job_id = :job AND state = 'failed' RETURNING " + COLUMNS)
                    .bind("job", jobId).map(JOB).findOne();
            if (gone.isPresent()) {
                return Optional.of(new Move(gone.get(), true));
            }
            return byJobId(h, jobId).map(j -> new Move(j, false));
        });
    }

    public List<Attempt> attempts(long jobRow) {
        return db.read(h -> h.createQuery("""
                        SELECT attempt, device, lease_id, started_at, ended_at, outcome, error_type, error_message
                        FROM job_attempts WHERE job_row = ? ORDER BY id""")
                .bind(0, jobRow).mapTo(Attempt.class).list());
    }

    /** Ids of running jobs a cancel waits on (the dispatcher interrupts those it runs). */
    public List<String> cancelRequested(boolean pushed) {
        return db.read(h -> h.createQuery("""
                        SELECT job_id FROM jobs WHERE state = 'running' AND cancel_requested = 1 AND pushed = :pushed""")
                .bind("pushed", pushed).mapTo(String.class).list());
    }

    /** Of these running jobs held by a device, the ones a cancel waits on. */
    public List<String> cancelRequested(String serial, long userId) {
        return db.read(h -> h.createQuery("""
                        SELECT job_id FROM jobs
                        WHERE state = 'running' AND cancel_requested = 1 AND device = :serial AND user_id = :user""")
                .bind("serial", serial).bind("user", userId).mapTo(String.class).list());
    }

    /** Drops idempotency keys older than 24 h. */
    public int forgetKeys(long nowMs) {
        return db.write(h -> h.createUpdate("DELETE FROM job_idempotency WHERE created_ms <= ?")
                .bind(0, nowMs - IDEMPOTENCY.toMillis()).execute());
    }

    private static Job job(ResultSet rs) throws SQLException {
        int leaseS = rs.getInt(21);
        Integer lease = rs.wasNull() ? null : leaseS;
        long expires = rs.getLong(22);
        Long leaseExpires = rs.wasNull() ? null : expires;
        return new Job(rs.getLong(1), rs.getString(2), rs.getLong(3), rs.getString(4), rs.getInt(5), rs.getString(6),
                rs.getString(7), rs.getString(8), rs.getString(9), rs.getString(10), rs.getString(11), rs.getString(12),
                rs.getString(13), rs.getString(14), rs.getInt(15), rs.getInt(16), rs.getDouble(17), rs.getBoolean(18),
                rs.getLong(19), rs.getString(20), lease, leaseExpires, rs.getBoolean(23), rs.getString(24),
                rs.getString(25), rs.getString(26), rs.getString(27), rs.getString(28), rs.getString(29), rs.getString(30));
    }

    /**
     * Jobs per unfinished state plus the dead-letter queue, and the enqueue time of the oldest queued job, for
     * /metrics. Each part walks one of the partial indexes (their WHERE clauses are repeated exactly, so SQLite
     * uses them; a min(id) would walk the table by rowid instead), so it costs the size of the live queue, never of
     * the finished jobs.
     */
    public record Gauges(long queued, long retrying, long running, long failed, String oldestQueuedAt) {
    }

    public Gauges gauges() {
        return db.read(h -> h.createQuery("""
                        SELECT (SELECT count(*) FROM jobs WHERE state IN ('queued', 'retrying')) AS waiting,
                               (SELECT count(*) FROM jobs WHERE state IN ('queued', 'retrying') AND state = 'retrying') AS retrying,
                               (SELECT count(*) FROM jobs WHERE state = 'running') AS running,
                               (SELECT count(*) FROM jobs WHERE state = 'failed') AS failed,
                               (SELECT min(enqueued_at) FROM jobs
                                        WHERE state IN ('queued', 'retrying') AND state = 'queued') AS oldest""")
                .map((rs, ctx) -> new Gauges(rs.getLong("waiting") - rs.getLong("retrying"), rs.getLong("retrying"),
                        rs.getLong("running"), rs.getLong("failed"), rs.getString("oldest")))
                .one());
    }

    private static Optional<Job> byJobId(Handle h, String jobId) {
        return h.createQuery("SELECT " + COLUMNS + " FROM jobs WHERE job_id = ?").bind(0, jobId).map(JOB).findOne();
    }

    /**
     * Retention: deletes up to {@code limit} of the user's finished jobs (done, failed, cancelled) that finished
     * before {@code cutoffIso}, with their attempts, in one short transaction; returns how many went.
     */
    public int deleteFinishedBefore(long userId, String cutoffIso, int limit) {
        return db.write(h -> h.createUpdate("""
                        DELETE FROM jobs WHERE id IN (
                            SELECT id FROM jobs WHERE user_id = :user AND finished_at IS NOT NULL AND finished_at < :cutoff
                              AND state IN ('done', 'failed', 'cancelled')
                            ORDER BY finished_at LIMIT :limit)""")
                .bind("user", userId).bind("cutoff", cutoffIso).bind("limit", limit).execute());
    }
}
