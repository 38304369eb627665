package scorebook.evals;

import java.security.SecureRandom;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.UnaryOperator;

import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.result.ResultIterator;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.ApiException;
import scorebook.store.Database;

/**
 * SQL for sessions, runs, result rows, scores and each user's active run. Every query is scoped to
 * a user: another user's run is simply not found. Totals and chips come from the schema's views.
 */
public final class EvalStore {
    /** The word in URLs that means the user's active run. */
    public static final String LATEST = "latest";
    private static final SecureRandom RANDOM = new SecureRandom();

    /** A run as stored; {@code pk} is the internal key, {@code runId} the 8-hex id clients use. */
    public record Run(long pk, String runId, String sessionName, String runName, String evalPath, String dataset,
                      String labels, String functionName, Integer selectedTotal, long createdAt) {
    }

    /** A run's live totals (view eval_run_totals). */
    public record Totals(int totalEvaluations, int totalFunctions, int totalErrors, int totalPassed, int totalWithScores,
                         double averageLatency) {
    }

    /** One score chip (view eval_score_chips): {@code ratio} uses passed/total, {@code avg} uses avg/count. */
    public record Chip(String key, String type, int passed, int total, Double avg, int count) {
    }

    /** A run's live figures, from the views: totals, rows per status and score chips. */
    public record Live(Totals totals, java.util.Map<String, Integer> statuses, List<Chip> chips) {
    }

    /** A run as listed in a session. */
    public record RunSummary(String runId, String runName, int totalEvaluations, int totalPassed, int totalErrors,
                             long timestamp) {
    }

    /**
     * What a new run starts with. {@code runId} and {@code createdAt} may be null (a fresh id, now).
     */
    public record NewRun(String sessionName, String runName, String evalPath, String dataset, String labels,
                         String functionName, String runId, Long createdAt) {
    }

    /** Which of a result's editable fields a PATCH sets (the has* flags tell which were given). */
    public record Edit(boolean hasAnnotation, String annotation, boolean hasAnnotations, JsonNode annotations,
                       boolean hasScores, List<Score> scores) {
    }

    /** An edited result with the id of its run (the path may have said {@code latest}). */
    public record Edited(String runId, ResultRow row) {
    }

    /** Where appended rows went. */
    public record Appended(int count, int firstIndex) {
    }

    /** Reads one run inside a read transaction (one consistent snapshot). */
    @FunctionalInterface
    public interface RunReader<R, X extends Exception> {
        R read(RunView view) throws X;
    }

    /** Receives rows in index order. */
    @FunctionalInterface
    public interface RowSink<X extends Exception> {
        void accept(int index, ResultRow row) throws X;
    }

    /** Receives rows in index order as the stored JSON (UTF-8), to splice into a response. */
    @FunctionalInterface
    public interface RawSink<X extends Exception> {
        void accept(int index, byte[] rowJson) throws X;
    }

    private static final String RUN_COLUMNS = """
            r.id AS pk, r.run_id, r.session_name, r.run_name, r.eval_path, r.dataset, r.labels, r.function_name,
            r.selected_total, r.created_at""";

    private final Database db;
    private final Clock clock;

    public EvalStore(Database db) {
        this(db, Clock.systemUTC());
    }

    /** With the server's clock: the time a run is made or started is taken from it. */
    public EvalStore(Database db, Clock clock) {
        this.db = db;
        this.clock = clock;
    }

    // ---- reads ----

    /**
     * Reads a run of the user ({@code latest} = the active run when {@code allowLatest}); 404 "Run not
     * found" when there is none.
     */
    public <R, X extends Exception> R readRun(long userId, String runId, boolean allowLatest, RunReader<R, X> reader) throws X {
        return db.read(h -> h.inTransaction(tx -> reader.read(new RunView(tx, resolve(tx, userId, runId, allowLatest)))));
    }

    /** Reads several runs of the user in one transaction, in the order given ({@code latest} allowed); 404 for any not found. */
    public <R, X extends Exception> R readRuns(long userId, List<String> runIds, RunsReader<R, X> reader) throws X {
        return db.read(h -> h.inTransaction(tx -> {
            List<RunView> views = new java.util.ArrayList<>();
            for (String id : runIds) {
                views.add(new RunView(tx, resolve(tx, userId, id, true)));
            }
            return reader.read(views, tx);
        }));
    }

    /** What {@link #readRuns} calls with the runs and the read's handle. */
    public interface RunsReader<R, X extends Exception> {
        R read(List<RunView> views, Handle h) throws X;
    }

    /** Reads the user's active run if there is one (one lookup, in the read's transaction). */
    public <R, X extends Exception> Optional<R> readActiveIfAny(long userId, RunReader<R, X> reader) throws X {
        return db.read(h -> h.inTransaction(tx -> {
            Optional<Run> run = active(tx, userId);
            return run.isEmpty() ? Optional.<R>empty() : Optional.ofNullable(reader.read(new RunView(tx, run.get())));
        }));
    }

    /** The user's active run, if there is one. */
    public Optional<Run> activeRun(long userId) {
        return db.read(h -> active(h, userId));
    }

    /** What a runner matches a row to its case by. */
    public record RowKey(String function, String dataset) {
    }

    /** Each row's function and dataset, in index order, from the derived columns (the rows are not read). */
    public List<RowKey> rowKeys(long userId, String runId) {
        return db.read(h -> h.inTransaction(tx -> tx.createQuery("""
                        SELECT function, dataset FROM eval_results WHERE run_pk = :run ORDER BY idx""")
                .bind("run", resolve(tx, userId, runId, false).pk())
                .map((rs, ctx) -> new RowKey(rs.getString(1), rs.getString(2))).list()));
    }

    /** Names of the user's sessions (those holding at least one run), sorted. */
    public List<String> sessions(long userId) {
        return db.read(h -> h.createQuery("SELECT DISTINCT session_name FROM eval_runs WHERE user_id = ? ORDER BY session_name")
                .bind(0, userId).mapTo(String.class).list());
    }

    /** The runs of a session, newest first (empty for an unknown session). */
    public List<RunSummary> runs(long userId, String sessionName) {
        return db.read(h -> h.createQuery("""
                        SELECT r.run_id, r.run_name, t.total_evaluations, t.total_passed, t.total_errors,
                               r.created_at AS timestamp
                        FROM eval_runs r JOIN eval_run_totals t ON t.run_pk = r.id
                        WHERE r.user_id = :user AND r.session_name = :session
                        ORDER BY r.created_at DESC, r.id DESC""")
                .bind("user", userId).bind("session", sessionName).mapTo(RunSummary.class).list());
    }

    // ---- writes ----

    /** Creates an empty run and makes it the user's active run. */
    public Run createRun(long userId, NewRun spec) {
        return db.write(h -> insertRun(h, userId, spec, clock.instant()));
    }

    /** Creates a run with its rows (an imported run document) and makes it active; 409 if its id is taken. */
    public Run importRun(long userId, NewRun spec, List<ResultRow> rows) {
        return importStored(userId, spec, rows.stream().map(EvalStore::stored).toList());
    }

    /** {@link #importRun} of rows already rendered (a runner keeps them, to change them without reading them back). */
    public Run importStored(long userId, NewRun spec, List<Stored> rows) {
        List<ResultRow> list = rows.stream().map(Stored::row).toList();
        List<String> json = rows.stream().map(Stored::json).toList();
        return db.write(h -> {
            Run run = insertRun(h, userId, spec, clock.instant());
            insertRows(h, run.pk(), 0, list, json);
            return run;
        });
    }

    /** Appends rows at the end of a run, all or none. */
    public Appended append(long userId, String runId, List<ResultRow> rows) {
        List<String> json = rows.stream().map(RunJson::render).toList();  // before taking the write lock
        return db.write(h -> {
            Run run = resolve(h, userId, runId, true);
            int first = size(h, run.pk());
            insertRows(h, run.pk(), first, rows, json);
            return new Appended(rows.size(), first);
        });
    }

    /**
     * Edits annotation, annotations and/or scores of one result of the active run and returns the
     * whole row. 404 for an unknown run or index, 400 for a run that is not the active one.
     */
    public Edited editResult(long userId, String runId, int index, Edit edit) {
        return db.write(h -> {
            Run run = resolve(h, userId, runId, true);
            Optional<Run> active = active(h, userId);
            if (active.isEmpty() || active.get().pk() != run.pk()) {
                throw ApiException.badRequest("Only active or latest run can be updated");
            }
            ResultRow r = new RunView(h, run).row(index)
                    .orElseThrow(() -> ApiException.notFound("Result index out of range"));
            ResultRow edited = new ResultRow(r.function(), r.dataset(), r.labels(), r.input(), r.output(), r.reference(),
                    edit.hasScores() ? edit.scores() : r.scores(), r.error(), r.latency(), r.metadata(), r.traceData(),
                    r.status(), edit.hasAnnotation() ? edit.annotation() : r.annotation(),
                    edit.hasAnnotations() ? edit.annotations() : r.annotations());
            replaceRow(h, run.pk(), index, r, edited);
            return new Edited(run.runId(), edited);
        });
    }

    /** Replaces one result in place (a runner finishing an eval); 404 for an unknown run or index. */
    public void replaceResult(long userId, String runId, int index, ResultRow row) {
        db.write(h -> {
            Run run = resolve(h, userId, runId, true);
            ResultRow old = new RunView(h, run).row(index)
                    .orElseThrow(() -> ApiException.notFound("Result index out of range"));
            replaceRow(h, run.pk(), index, old, row);
            return null;
        });
    }

    /**
     * Moves every row of a run whose status is one of {@code from} to {@code to} (a runner queueing,
     * or Stop cancelling pending and running rows) and returns how many changed.
     */
    public int changeStatus(long userId, String runId, Set<String> from, String to) {
        if (!ResultRow.STATUSES.contains(to) || !ResultRow.STATUSES.containsAll(from)) {
            throw new IllegalArgumentException("unknown status among " + from + " -> " + to);
        }
        return db.write(h -> replaceWhereStatus(h, resolve(h, userId, runId, true), from, r -> r.withStatus(to, r.error())));
    }

    /**
     * Changes some rows of a run in one transaction (a runner queueing a rerun, or recording that an
     * eval started or finished) and returns the rows as changed; 404 for an unknown run or index.
     */
    public List<Stored> updateRows(long userId, String runId, List<Integer> indices,
                                   BiFunction<Integer, ResultRow, ResultRow> change) {
        return db.write(h -> replaceRows(h, resolve(h, userId, runId, true), indices, change));
    }

    /** A row as it was stored: the row and the exact JSON text written for it. */
    public record Stored(ResultRow row, String json) {
    }

    /** A row with the JSON text the store writes for it. */
    public static Stored stored(ResultRow row) {
        return new Stored(row, RunJson.render(row));
    }

    /**
     * {@link #updateRows} for a caller that knows how it stored the rows (a runner changing the rows it wrote,
     * {@code known} by index, null where it does not know): a known row is changed from what the caller knows and
     * replaced only where its stored JSON is still that text, without being read back and parsed; a row changed
     * meanwhile (a reviewer's annotation saved during the run) or not known is read and changed as
     * {@link #updateRows} does. The run is found by its key, not looked up by id. One transaction; 404 when the run
     * or a row is gone. Returns the rows as stored, in the order of {@code indices}.
     */
    public List<Stored> updateKnownRows(long userId, Run run, List<Integer> indices, java.util.function.IntFunction<Stored> known,
                                        BiFunction<Integer, ResultRow, ResultRow> change) {
        return db.write(h -> {
            List<Stored> changed = new java.util.ArrayList<>(indices.size());
            try (RowWrites writes = new RowWrites(h.getConnection())) {
                if (!writes.runExists(run.pk(), userId, run.runId())) {
                    throw ApiException.notFound("Run not found");
                }
                for (int i : indices) {
                    Stored k = known.apply(i);
                    if (k != null) {
                        ResultRow r = change.apply(i, k.row());
                        String json = RunJson.render(r);
                        if (writes.replaceIfUnchanged(run.pk(), i, k.row(), k.json(), r, json)) {
                            changed.add(new Stored(r, json));
                            continue;
                        }
                    }
                    changed.add(replaceOne(writes, run, i, change));
                }
            } catch (SQLException e) {
                throw new IllegalStateException("cannot store results: " + e.getMessage(), e);
            }
            return changed;
        });
    }

    /**
     * A runner started the run: {@code selected_total} is the number of cases a selective run runs (null
     * for a full one), and {@code created_at} becomes now, as the original rewrites it at every run save.
     */
    public void runStarted(long userId, String runId, Integer selectedTotal) {
        db.write(h -> h.createUpdate("UPDATE eval_runs SET selected_total = ?, created_at = ? WHERE id = ?")
                .bind(0, selectedTotal).bind(1, clock.instant().getEpochSecond())
                .bind(2, resolve(h, userId, runId, false).pk()).execute());
    }

    /**
     * After a restart: every row that a stopped server left pending or running becomes an error
     * ("interrupted"), in every run of every user. Returns how many rows changed.
     */
    public int markInterrupted() {
        return db.write(h -> {
            List<Run> runs = h.createQuery("SELECT " + RUN_COLUMNS + """
                             FROM eval_runs r WHERE EXISTS (SELECT 1 FROM eval_results e
                            WHERE e.run_pk = r.id AND e.status IN ('pending', 'running'))""").map(EvalStore::run).list();
            int n = 0;
            for (Run run : runs) {
                n += replaceWhereStatus(h, run, Set.of("pending", "running"), r -> r.withStatus("error", "interrupted"));
            }
            return n;
        });
    }

    /**
     * Derives the columns that rows stored before migration 007 lack (their {@code search_text} is null),
     * from their stored JSON; returns how many rows it filled in. Run at start-up.
     */
    public int deriveMissingColumns() {
        int n = 0;
        while (true) {
            int done = db.write(h -> {
                List<RowAt> rows = h.createQuery("""
                                SELECT run_pk, idx, row_json FROM eval_results WHERE search_text IS NULL LIMIT 1000""")
                        .map((rs, ctx) -> new RowAt(rs.getLong(1), rs.getInt(2), RunJson.read(rs.getBytes(3)))).list();
                for (RowAt r : rows) {
                    h.createUpdate("""
                                    UPDATE eval_results SET dataset = :dataset, labels = :labels, has_annotation = :a,
                                                            has_url = :u, has_messages = :m, search_text = :text
                                    WHERE run_pk = :run AND idx = :idx""")
                            .bind("dataset", r.row().dataset()).bind("labels", r.row().labelsJson())
                            .bind("a", r.row().hasAnnotation() ? 1 : 0).bind("u", r.row().hasUrl() ? 1 : 0)
                            .bind("m", r.row().hasMessages() ? 1 : 0).bind("text", r.row().searchText())
                            .bind("run", r.runPk()).bind("idx", r.idx()).execute();
                }
                return rows.size();
            });
            n += done;
            if (done == 0) {
                return n;
            }
        }
    }

    private record RowAt(long runPk, int idx, ResultRow row) {
    }

    /** Replaces every row of the run whose status is one of {@code from} by its change; returns how many. */
    private static int replaceWhereStatus(Handle h, Run run, Set<String> from, UnaryOperator<ResultRow> change) {
        // the covering index finds the rows by status without reading every row of the run
        List<Integer> indices = h.createQuery("""
                        SELECT idx FROM eval_results INDEXED BY eval_results_totals
                        WHERE run_pk = :run AND status IN (<from>) ORDER BY idx""")
                .bind("run", run.pk()).bindList("from", List.copyOf(from)).mapTo(int.class).list();
        replaceRows(h, run, indices, (i, r) -> change.apply(r));
        return indices.size();
    }

    /**
     * Replaces rows by their change: read and written through one set of prepared statements; 404 for an
     * unknown index. Returns the rows as changed, in the order of {@code indices}.
     */
    private static List<Stored> replaceRows(Handle h, Run run, List<Integer> indices,
                                            BiFunction<Integer, ResultRow, ResultRow> change) {
        List<Stored> changed = new java.util.ArrayList<>(indices.size());
        try (RowWrites writes = new RowWrites(h.getConnection())) {
            for (int i : indices) {
                changed.add(replaceOne(writes, run, i, change));
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot store results: " + e.getMessage(), e);
        }
        return changed;
    }

    /** Reads the row at {@code i}, changes it and batches its replacement; 404 for an unknown index. */
    private static Stored replaceOne(RowWrites writes, Run run, int i, BiFunction<Integer, ResultRow, ResultRow> change)
            throws SQLException {
        byte[] stored = writes.read(run.pk(), i);
        if (stored == null) {
            throw ApiException.notFound("Result index out of range");
        }
        ResultRow old = RunJson.read(stored);
        ResultRow r = change.apply(i, old);
        String json = RunJson.render(r);
        writes.replace(run.pk(), i, old, r, json);
        return new Stored(r, json);
    }

    /** Replaces a row in place ({@code old} is what it was): its JSON, the columns derived from it and its scores. */
    private static void replaceRow(Handle h, long runPk, int index, ResultRow old, ResultRow r) {
        try (RowWrites writes = new RowWrites(h.getConnection())) {
            writes.replace(runPk, index, old, r, RunJson.render(r));
        } catch (SQLException e) {
            throw new IllegalStateException("cannot store the result: " + e.getMessage(), e);
        }
    }

    /** Renames a run (any printable name; names need not be unique). */
    public Run rename(long userId, String runId, String runName) {
        return db.write(h -> {
            Run run = resolve(h, userId, runId, false);
            h.createUpdate("UPDATE eval_runs SET run_name = ? WHERE id = ?").bind(0, runName).bind(1, run.pk()).execute();
            return resolve(h, userId, runId, false);
        });
    }

    /** Deletes a run with its rows; if it was active, the user has no active run afterwards. */
    public void deleteRun(long userId, String runId) {
        db.write(h -> {
            Run run = resolve(h, userId, runId, false);
            return h.createUpdate("DELETE FROM eval_runs WHERE id = ?").bind(0, run.pk()).execute();
        });
    }

    /** Deletes every run of a session; 404 "Session not found" when it has none. */
    public void deleteSession(long userId, String sessionName) {
        db.write(h -> {
            int n = h.createUpdate("DELETE FROM eval_runs WHERE user_id = ? AND session_name = ?")
                    .bind(0, userId).bind(1, sessionName).execute();
            if (n == 0) {
                throw ApiException.notFound("Session not found");
            }
            return n;
        });
    }

    /** Makes a run the user's active run. */
    public Run activate(long userId, String runId) {
        return db.write(h -> {
            Run run = resolve(h, userId, runId, false);
            setActive(h, userId, run.pk());
            return run;
        });
    }

    // ---- helpers ----

    /**
     * A row of {@link #RUN_COLUMNS} as a Run, mapped by hand: every request and every batch of a runner looks
     * its run up, and JDBI's constructor mapper inspects the record's constructor again for each query.
     */
    private static Run run(java.sql.ResultSet rs, org.jdbi.v3.core.statement.StatementContext ctx) throws SQLException {
        Object selected = rs.getObject("selected_total");
        return new Run(rs.getLong("pk"), rs.getString("run_id"), rs.getString("session_name"), rs.getString("run_name"),
                rs.getString("eval_path"), rs.getString("dataset"), rs.getString("labels"), rs.getString("function_name"),
                selected == null ? null : ((Number) selected).intValue(), rs.getLong("created_at"));
    }

    private static Run resolve(Handle h, long userId, String runId, boolean allowLatest) {
        if (allowLatest && LATEST.equals(runId)) {
            return active(h, userId).orElseThrow(() -> ApiException.notFound("Run not found"));
        }
        return h.createQuery("SELECT " + RUN_COLUMNS + " FROM eval_runs r WHERE r.user_id = ? AND r.run_id = ?")
                .bind(0, userId).bind(1, runId).map(EvalStore::run).findOne()
                .orElseThrow(() -> ApiException.notFound("Run not found"));
    }

    private static Optional<Run> active(Handle h, long userId) {
        return h.createQuery("SELECT " + RUN_COLUMNS
                        + " FROM eval_active a JOIN eval_runs r ON r.id = a.run_pk WHERE a.user_id = ?")
                .bind(0, userId).map(EvalStore::run).findOne();
    }

    private static void setActive(Handle h, long userId, long runPk) {
        h.createUpdate("""
                        INSERT INTO eval_active (user_id, run_pk) VALUES (?, ?)
                        ON CONFLICT (user_id) DO UPDATE SET run_pk = excluded.run_pk""")
                .bind(0, userId).bind(1, runPk).execute();
    }

    private static int size(Handle h, long runPk) {
        // indices are contiguous from 0, so the size is one past the last (an index lookup, not a count)
        return h.createQuery("SELECT coalesce(max(idx) + 1, 0) FROM eval_results WHERE run_pk = ?").bind(0, runPk)
                .mapTo(int.class).one();
    }

    private static Run insertRun(Handle h, long userId, NewRun spec, Instant now) {
        String runId = spec.runId();
        if (runId == null) {
            runId = freshRunId(h, userId);
        } else if (exists(h, userId, runId)) {
            throw ApiException.conflict("a run with id '" + runId + "' already exists; delete it first to import it again");
        }
        long createdAt = spec.createdAt() != null ? spec.createdAt() : now.getEpochSecond();
        long pk = h.createUpdate("""
                        INSERT INTO eval_runs (user_id, run_id, session_name, run_name, eval_path, dataset, labels,
                                               function_name, created_at)
                        VALUES (:user, :runId, :session, :name, :path, :dataset, :labels, :function, :created)""")
                .bind("user", userId).bind("runId", runId).bind("session", spec.sessionName()).bind("name", spec.runName())
                .bind("path", spec.evalPath()).bind("dataset", spec.dataset()).bind("labels", spec.labels())
                .bind("function", spec.functionName()).bind("created", createdAt)
                .executeAndReturnGeneratedKeys("id").mapTo(long.class).one();
        setActive(h, userId, pk);
        return resolve(h, userId, runId, false);
    }

    private static boolean exists(Handle h, long userId, String runId) {
        return h.createQuery("SELECT EXISTS (SELECT 1 FROM eval_runs WHERE user_id = ? AND run_id = ?)")
                .bind(0, userId).bind(1, runId).mapTo(boolean.class).one();
    }

    /** 8 random lowercase hex characters, not yet used by this user. */
    private static String freshRunId(Handle h, long userId) {
        while (true) {
            byte[] b = new byte[4];
            RANDOM.nextBytes(b);
            String id = HexFormat.of().formatHex(b);
            if (!exists(h, userId, id)) {
                return id;
            }
        }
    }

    /** Inserts rows (with {@code json}, each row rendered) and their scores from index {@code first}. */
    private static void insertRows(Handle h, long runPk, int first, List<ResultRow> rows, List<String> json) {
        try (RowWrites writes = new RowWrites(h.getConnection())) {
            for (int n = 0; n < rows.size(); n++) {
                writes.insert(runPk, first + n, rows.get(n), json.get(n));
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot store results: " + e.getMessage(), e);
        }
    }

    /** One run read inside a transaction: its record, live totals and chips, and its rows. */
    public static final class RunView {
        private final Handle h;
        private final Run run;

        private RunView(Handle h, Run run) {
            this.h = h;
            this.run = run;
        }

        public Run run() {
            return run;
        }

        public Totals totals() {
            return h.createQuery("""
                            SELECT total_evaluations, total_functions, total_errors, total_passed, total_with_scores,
                                   average_latency
                            FROM eval_run_totals WHERE run_pk = ?""")
                    .bind(0, run.pk()).mapTo(Totals.class).one();
        }

        public List<Chip> chips() {
            return h.createQuery("""
                            SELECT key, type, passed, total, avg, count FROM eval_score_chips
                            WHERE run_pk = ? ORDER BY first_seen""")
                    .bind(0, run.pk()).mapTo(Chip.class).list();
        }

        public int size() {
            return EvalStore.size(h, run.pk());
        }

        /** How many rows are in each status (view eval_status_counts), statuses without rows left out. */
        public java.util.Map<String, Integer> statusCounts() {
            java.util.Map<String, Integer> out = new java.util.TreeMap<>();
            h.createQuery("SELECT status, n FROM eval_status_counts WHERE run_pk = ?").bind(0, run.pk())
                    .map((rs, ctx) -> out.put(rs.getString(1), rs.getInt(2))).list();
            return out;
        }

        /** The run's totals, rows per status and chips, read together. */
        public Live live() {
            return new Live(totals(), statusCounts(), chips());
        }

        /** The run's filter and sort columns with its live figures, for the rows endpoint. */
        RunColumns columns() {
            return RunColumns.load(h, run.pk(), size(), live());
        }

        /** Each row's search text by index, for the rows endpoint's search. */
        String[] searchText(int size) {
            return RunColumns.readSearchText(h, run.pk(), size);
        }

        /** The stored JSON of the rows at {@code indices}, in that order. */
        List<RowsSql.Indexed> rowsAt(List<Integer> indices) {
            return RowsSql.rows(h, run.pk(), indices);
        }

        /** The row at {@code index}, if there is one. */
        public Optional<ResultRow> row(int index) {
            return rawRow(index).map(RunJson::read);
        }

        /** The stored JSON of the row at {@code index}, if there is one. */
        public Optional<byte[]> rawRow(int index) {
            return h.createQuery("SELECT row_json FROM eval_results WHERE run_pk = ? AND idx = ?")
                    .bind(0, run.pk()).bind(1, index).map((rs, ctx) -> rs.getBytes(1)).findOne();
        }

        /** Streams every row in index order, parsed (constant memory: one row at a time). */
        public <X extends Exception> void forEachRow(RowSink<X> sink) throws X {
            forEachRaw((i, json) -> sink.accept(i, RunJson.read(json)));
        }

        /** Streams every row in index order as stored JSON, straight from the cursor. */
        public <X extends Exception> void forEachRaw(RawSink<X> sink) throws X {
            try (ResultIterator<Raw> rows = h.createQuery("SELECT idx, row_json FROM eval_results WHERE run_pk = ? ORDER BY idx")
                    .bind(0, run.pk()).map((rs, ctx) -> new Raw(rs.getInt(1), rs.getBytes(2))).iterator()) {
                while (rows.hasNext()) {
                    Raw r = rows.next();
                    sink.accept(r.idx(), r.json());
                }
            }
        }

        private record Raw(int idx, byte[] json) {
        }
    }
}
