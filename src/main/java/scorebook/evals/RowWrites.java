package scorebook.evals;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The write path of result rows, in plain JDBC batches (the measured hot path of appends and of a runner
 * recording thousands of rows a second: JDBI's per-statement and per-argument set-up cost more than the
 * writes). Inside one transaction: rows are inserted or replaced with the columns derived from them and
 * their scores; {@link #flush} sends the batches, {@link #close} flushes and frees the statements.
 */
final class RowWrites implements AutoCloseable {
    private static final String INSERT_ROW = """
            INSERT INTO eval_results (run_pk, idx, function, status, has_error, latency, row_json, dataset, labels,
                                      has_annotation, has_url, has_messages, search_text)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""";
    private static final String UPDATE_ROW = """
            UPDATE eval_results SET function = ?, status = ?, has_error = ?, latency = ?, row_json = ?, dataset = ?,
                                    labels = ?, has_annotation = ?, has_url = ?, has_messages = ?, search_text = ?
            WHERE run_pk = ? AND idx = ?""";
    private static final String DELETE_SCORES = "DELETE FROM eval_scores WHERE run_pk = ? AND key = ? AND idx = ?";
    private static final String INSERT_SCORE =
            "INSERT INTO eval_scores (run_pk, idx, pos, key, value, passed, notes) VALUES (?, ?, ?, ?, ?, ?, ?)";
    private static final String READ_ROW = "SELECT row_json FROM eval_results WHERE run_pk = ? AND idx = ?";
    /** UPDATE_ROW where the row is still as the caller last stored it (its JSON text, compared by SQLite). */
    private static final String UPDATE_UNCHANGED = UPDATE_ROW + " AND row_json = ?";
    private static final String RUN_EXISTS = "SELECT 1 FROM eval_runs WHERE id = ? AND user_id = ? AND run_id = ?";

    private final Connection connection;
    /** Statements by SQL, prepared when first needed (a runner's small batches use three of the five). */
    private final java.util.Map<String, PreparedStatement> statements = new java.util.HashMap<>();
    /** Rows replaced since the last flush: a row replaced twice needs the first replacement sent first. */
    private final Set<Integer> pending = new HashSet<>();
    private int rows;
    private int updates;
    private int deletes;
    private int scores;

    RowWrites(Connection c) {
        this.connection = c;
    }

    private PreparedStatement statement(String sql) throws SQLException {
        PreparedStatement st = statements.get(sql);
        if (st == null) {
            st = connection.prepareStatement(sql);
            statements.put(sql, st);
        }
        return st;
    }

    /** The stored JSON of the row at {@code idx} (as written before this transaction's pending batches), or null. */
    byte[] read(long runPk, int idx) throws SQLException {
        if (pending.contains(idx)) {
            flush();
        }
        PreparedStatement readRow = statement(READ_ROW);
        readRow.setLong(1, runPk);
        readRow.setInt(2, idx);
        try (java.sql.ResultSet rs = readRow.executeQuery()) {
            return rs.next() ? rs.getBytes(1) : null;
        }
    }

    /** A new row at {@code idx} ({@code json} is the row rendered by {@link RunJson#render}) and its scores. */
    void insert(long runPk, int idx, ResultRow r, String json) throws SQLException {
        PreparedStatement insertRow = statement(INSERT_ROW);
        insertRow.setLong(1, runPk);
        insertRow.setInt(2, idx);
        derived(insertRow, 3, r, json);
        insertRow.addBatch();
        rows++;
        addScores(runPk, idx, r.scores());
    }

    /** Whether the run {@code runPk} still exists as the user's run {@code runId} (a plain key lookup). */
    boolean runExists(long runPk, long userId, String runId) throws SQLException {
        PreparedStatement st = statement(RUN_EXISTS);
        st.setLong(1, runPk);
        st.setLong(2, userId);
        st.setString(3, runId);
        try (java.sql.ResultSet rs = st.executeQuery()) {
            return rs.next();
        }
    }

    /** Replaces the row at {@code idx}, which was {@code old}: its JSON ({@code json}, rendered), derived columns and scores. */
    void replace(long runPk, int idx, ResultRow old, ResultRow r, String json) throws SQLException {
        if (!pending.add(idx)) {
            flush();
            pending.add(idx);
        }
        deleteScores(runPk, idx, old);
        PreparedStatement updateRow = statement(UPDATE_ROW);
        derived(updateRow, 1, r, json);
        updateRow.setLong(12, runPk);
        updateRow.setInt(13, idx);
        updateRow.addBatch();
        updates++;
        addScores(runPk, idx, r.scores());
    }

    /**
     * Replaces the row at {@code idx} by {@code r} only if it is still {@code old} as stored with the JSON text
     * {@code oldJson} (a runner changing a row it wrote, without reading it back). Returns false, having written
     * nothing, when the row is another (edited meanwhile, or gone).
     */
    boolean replaceIfUnchanged(long runPk, int idx, ResultRow old, String oldJson, ResultRow r, String json)
            throws SQLException {
        if (pending.contains(idx)) {
            flush();
        }
        PreparedStatement update = statement(UPDATE_UNCHANGED);
        derived(update, 1, r, json);
        update.setLong(12, runPk);
        update.setInt(13, idx);
        update.setString(14, oldJson);
        if (update.executeUpdate() == 0) {
            return false;
        }
        pending.add(idx);
        deleteScores(runPk, idx, old);
        addScores(runPk, idx, r.scores());
        return true;
    }

    /** Batches the deletion of the scores {@code old} had (scores are keyed by key first: found through its keys). */
    private void deleteScores(long runPk, int idx, ResultRow old) throws SQLException {
        if (old.scores() == null) {
            return;
        }
        Set<String> keys = new LinkedHashSet<>();
        old.scores().forEach(s -> keys.add(s.key()));
        PreparedStatement deleteScores = statement(DELETE_SCORES);
        for (String key : keys) {
            deleteScores.setLong(1, runPk);
            deleteScores.setString(2, key);
            deleteScores.setInt(3, idx);
            deleteScores.addBatch();
            deletes++;
        }
    }

    /** Sends what is batched: deletions of old scores before the rows and the new scores. */
    void flush() throws SQLException {
        if (deletes > 0) {
            statement(DELETE_SCORES).executeBatch();
        }
        if (rows > 0) {
            statement(INSERT_ROW).executeBatch();
        }
        if (updates > 0) {
            statement(UPDATE_ROW).executeBatch();
        }
        if (scores > 0) {
            statement(INSERT_SCORE).executeBatch();
        }
        deletes = 0;
        rows = 0;
        updates = 0;
        scores = 0;
        pending.clear();
    }

    @Override
    public void close() throws SQLException {
        try {
            flush();
        } finally {
            for (PreparedStatement st : statements.values()) {
                st.close();
            }
        }
    }

    /** function, status, has_error, latency, row_json, dataset, labels, has_annotation, has_url, has_messages, search_text. */
    private static void derived(PreparedStatement st, int first, ResultRow r, String json) throws SQLException {
        int i = first;
        st.setString(i++, r.function());
        st.setString(i++, r.status());
        st.setInt(i++, r.hasError() ? 1 : 0);
        if (r.latency() == null) {
            st.setNull(i++, Types.REAL);
        } else {
            st.setDouble(i++, r.latency());
        }
        st.setString(i++, json);
        st.setString(i++, r.dataset());
        st.setString(i++, r.labelsJson());
        st.setInt(i++, r.hasAnnotation() ? 1 : 0);
        st.setInt(i++, r.hasUrl() ? 1 : 0);
        st.setInt(i++, r.hasMessages() ? 1 : 0);
        st.setString(i, r.searchText());
    }

    private void addScores(long runPk, int idx, List<Score> list) throws SQLException {
        if (list == null) {
            return;
        }
        PreparedStatement insertScore = statement(INSERT_SCORE);
        for (int pos = 0; pos < list.size(); pos++) {
            Score s = list.get(pos);
            insertScore.setLong(1, runPk);
            insertScore.setInt(2, idx);
            insertScore.setInt(3, pos);
            insertScore.setString(4, s.key());
            if (s.value() == null) {
                insertScore.setNull(5, Types.REAL);
            } else {
                insertScore.setDouble(5, s.value());
            }
            if (s.passed() == null) {
                insertScore.setNull(6, Types.INTEGER);
            } else {
                insertScore.setInt(6, s.passed() ? 1 : 0);
            }
            insertScore.setString(7, s.notes());
            insertScore.addBatch();
            scores++;
        }
    }
}
