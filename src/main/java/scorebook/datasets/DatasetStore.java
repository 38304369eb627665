package scorebook.datasets;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;


import scorebook.store.Database;
import scorebook.usage.UsageStore;

/** The datasets and their rows ({@code datasets}, {@code dataset_segments}). */
public final class DatasetStore {
    private final Database db;

    public DatasetStore(Database db) {
        this.db = db;
    }

    /**
     * One dataset.
     *
     * @param id      row id
     * @param name    its name
     * @param rows    rows stored
     * @param firstTs when the first row was received (ISO-8601), or null
     * @param lastTs  when the last row was received, or null
     * @param adapter the adapter's JSON, or null
     */
    public record Dataset(long id, String name, long rows, String firstTs, String lastTs, String adapter) {
    }

    /**
     * A stored row.
     *
     * @param id         its id (cursors)
     * @param data       the row's JSON object text as sent
     * @param receivedMs when its append was received
     */
    public record StoredRow(long id, String data, long receivedMs) {
        /** The row as it is read back: with {@code _meta_user_id}, {@code _meta_dataset} and {@code _meta_ts}. */
        public String json(long userId, String dataset) {
            int end = data.lastIndexOf('}');
            StringBuilder out = new StringBuilder(data.length() + dataset.length() + 80).append(data, 0, end);
            for (int k = 1; k < end; k++) { // a member before the '}': the fields follow a comma
                if (!Character.isWhitespace(data.charAt(k))) {
                    out.append(',');
                    break;
                }
            }
            // dataset names are [A-Za-z0-9._-]: nothing to escape
            return out.append("\"_meta_user_id\":").append(userId).append(",\"_meta_dataset\":\"").append(dataset)
                    .append("\",\"_meta_ts\":\"").append(UsageStore.iso(receivedMs)).append("\"}").toString();
        }
    }

    /** The dataset's adapter JSON, or null (none, or no such dataset); plain JDBC, read for every append. */
    public String adapterJson(long userId, String name) {
        try {
            return db.read(h -> {
                try (PreparedStatement ps = h.getConnection().prepareStatement(
                        "SELECT adapter FROM datasets WHERE user_id = ? AND name = ?")) {
                    ps.setLong(1, userId);
                    ps.setString(2, name);
                    try (ResultSet rs = ps.executeQuery()) {
                        return rs.next() ? rs.getString(1) : null;
                    }
                }
            });
        } catch (SQLException e) {
            throw new IllegalStateException("dataset not read: " + e.getMessage(), e);
        }
    }

    public Optional<Dataset> find(long userId, String name) {
        return db.read(h -> h.createQuery("""
                        SELECT id, name, rows, first_ts, last_ts, adapter FROM datasets WHERE user_id = :user AND name = :name""")
                .bind("user", userId).bind("name", name).mapTo(Dataset.class).findOne());
    }

    public List<Dataset> list(long userId) {
        return db.read(h -> h.createQuery("""
                        SELECT id, name, rows, first_ts, last_ts, adapter FROM datasets WHERE user_id = :user ORDER BY name""")
                .bind("user", userId).mapTo(Dataset.class).list());
    }

    /** Saves (replaces) a dataset's adapter, creating the dataset when new. */
    public void saveAdapter(long userId, String name, String adapterJson, String nowIso) {
        db.write(h -> h.createUpdate("""
                        INSERT INTO datasets (user_id, name, adapter, created_at) VALUES (:user, :name, :adapter, :now)
                        ON CONFLICT (user_id, name) DO UPDATE SET adapter = excluded.adapter""")
                .bind("user", userId).bind("name", name).bind("adapter", adapterJson).bind("now", nowIso).execute());
    }

    /** Rows a segment holds at most. */
    static final int SEGMENT_ROWS = 1000;
    /** About the most bytes a segment holds (a page read splits one or two segments: their size is its cost). */
    static final int SEGMENT_BYTES = 512 * 1024;

    /**
     * Appends rows to a dataset, creating it when new: {@code rows.json()} holds them as one JSON array, stored as
     * sent in one segment (SQLite splits a larger append into segments), under ids taken from
     * {@code dataset_row_ids}. With a {@code mapping} (an adapter's JSON), the rows' usage rows are owed: one line in
     * {@code usage_from_datasets}, in the same transaction, has the fold make them by it
     * ({@link scorebook.usage.UsageMapping}).
     */
    public void append(long userId, String name, long nowMs, RowScan.Rows rows, String mapping) {
        String nowIso = UsageStore.iso(nowMs);
        byte[] array = rows.from() == 0 && rows.to() == rows.json().length ? rows.json()
                : Arrays.copyOfRange(rows.json(), rows.from(), rows.to());
        int count = rows.count();
        int perSegment = Math.clamp(SEGMENT_BYTES / Math.max(1, array.length / Math.max(1, count)), 1, SEGMENT_ROWS);
        try {
            // plain JDBC: this is the measured append path (JDBI's mapping setup cost more than these statements)
            db.write(h -> {
                Connection c = h.getConnection();
                long datasetId;
                try (PreparedStatement ps = c.prepareStatement("""
                        INSERT INTO datasets (user_id, name, created_at) VALUES (?, ?, ?)
                        ON CONFLICT (user_id, name) DO UPDATE SET name = excluded.name
                        RETURNING id""")) {
                    ps.setLong(1, userId);
                    ps.setString(2, name);
                    ps.setString(3, nowIso);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        datasetId = rs.getLong(1);
                    }
                }
                if (count == 0) {
                    return null;
                }
                long first;
                try (PreparedStatement ps = c.prepareStatement("""
                        UPDATE dataset_row_ids SET next_row_id = next_row_id + ? RETURNING next_row_id - ?""")) {
                    ps.setLong(1, count);
                    ps.setLong(2, count);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        first = rs.getLong(1);
                    }
                }
                // the scan read every byte of the rows as JSON: an append of one segment is stored as it came
                boolean whole = count <= perSegment;
                try (PreparedStatement ps = c.prepareStatement(whole ? """
                        INSERT INTO dataset_segments (first_row_id, dataset_id, received_ms, json, row_count)
                        VALUES (?, ?, ?, CAST(? AS TEXT), ?) RETURNING row_count""" : """
                        INSERT INTO dataset_segments (first_row_id, dataset_id, received_ms, json, row_count)
                        SELECT ? + min(key), ?, ?, json_group_array(json(value) ORDER BY key), count(*)
                        FROM json_each(CAST(? AS TEXT)) GROUP BY key / ? RETURNING row_count""")) {
                    ps.setLong(1, first);
                    ps.setLong(2, datasetId);
                    ps.setLong(3, nowMs);
                    ps.setBytes(4, array);
                    ps.setInt(5, whole ? count : perSegment);
                    long stored = 0;
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            stored += rs.getLong(1);
                        }
                    }
                    if (stored != count) { // SQLite's split of a larger append against the scan's count
                        throw new IllegalStateException("SQLite split " + stored + " rows where the append read " + count);
                    }
                }
                if (mapping != null) {
                    try (PreparedStatement ps = c.prepareStatement("""
                            INSERT INTO usage_from_datasets (user_id, dataset, first_row_id, last_row_id, received_ms, mapping)
                            VALUES (?, ?, ?, ?, ?, ?)""")) {
                        ps.setLong(1, userId);
                        ps.setString(2, name);
                        ps.setLong(3, first);
                        ps.setLong(4, first + count - 1);
                        ps.setLong(5, nowMs);
                        ps.setString(6, mapping);
                        ps.executeUpdate();
                    }
                }
                try (PreparedStatement ps = c.prepareStatement("""
                        UPDATE datasets SET rows = rows + ?, first_ts = coalesce(first_ts, ?), last_ts = ? WHERE id = ?""")) {
                    ps.setLong(1, count);
                    ps.setString(2, nowIso);
                    ps.setString(3, nowIso);
                    ps.setLong(4, datasetId);
                    ps.executeUpdate();
                }
                return null;
            });
        } catch (SQLException e) {
            throw new IllegalStateException("dataset rows not stored: " + e.getMessage(), e);
        }
        db.bulkWritten();
    }

    /** A segment's rows from a place on (or before it, reversed), with their ids and time. */
    private static final String SEGMENT_ROWS_SQL = """
            SELECT id, data, received_ms FROM dataset_rows WHERE segment = ? AND place %s ? ORDER BY place %s LIMIT ?""";

    /** Up to {@code limit} rows after the row {@code after} (null: from the start), in id order or reversed. */
    public List<StoredRow> page(long datasetId, int limit, boolean descending, Long after) {
        // the segments from the one that holds the cursor's row on (it starts less than SEGMENT_ROWS before it), in
        // order; each split until the page is full
        String segments = "SELECT first_row_id FROM dataset_segments WHERE dataset_id = :ds"
                + (after == null ? "" : descending ? " AND first_row_id < :after"
                        : " AND first_row_id > :after - " + SEGMENT_ROWS + " AND first_row_id + row_count > :after + 1")
                + " ORDER BY first_row_id" + (descending ? " DESC" : "");
        try {
            return db.read(h -> {
                List<StoredRow> out = new ArrayList<>();
                var q = h.createQuery(segments).bind("ds", datasetId);
                if (after != null) {
                    q.bind("after", after);
                }
                try (var ids = q.setFetchSize(16).mapTo(long.class).iterator();
                     PreparedStatement split = h.getConnection().prepareStatement(SEGMENT_ROWS_SQL.formatted(
                             descending ? "<" : ">=", descending ? "DESC" : ""))) {
                    while (out.size() < limit && ids.hasNext()) {
                        long first = ids.next();
                        long key = after == null ? (descending ? Long.MAX_VALUE : 0)
                                : descending ? after - first : Math.max(0, after + 1 - first);
                        split.setLong(1, first);
                        split.setLong(2, key);
                        split.setInt(3, limit - out.size());
                        readRows(split, out::add);
                    }
                }
                return out;
            });
        } catch (SQLException e) {
            throw new IllegalStateException("dataset rows not read: " + e.getMessage(), e);
        }
    }

    private static void readRows(PreparedStatement split, Consumer<StoredRow> row) throws SQLException {
        try (ResultSet rs = split.executeQuery()) {
            while (rs.next()) {
                row.accept(new StoredRow(rs.getLong(1), rs.getString(2), rs.getLong(3)));
            }
        }
    }

    /** Every row in id order, one segment at a time, as read back (downloads). */
    public void forEach(long userId, Dataset d, Consumer<String> row) {
        try {
            db.read(h -> {
                try (var ids = h.createQuery("SELECT first_row_id FROM dataset_segments WHERE dataset_id = :ds ORDER BY first_row_id")
                        .bind("ds", d.id()).setFetchSize(256).mapTo(long.class).iterator();
                     PreparedStatement split = h.getConnection().prepareStatement(SEGMENT_ROWS_SQL.formatted(">=", ""))) {
                    while (ids.hasNext()) {
                        split.setLong(1, ids.next());
                        split.setLong(2, 0);
                        split.setInt(3, Integer.MAX_VALUE);
                        readRows(split, r -> row.accept(r.json(userId, d.name())));
                    }
                }
                return null;
            });
        } catch (SQLException e) {
            throw new IllegalStateException("dataset rows not read: " + e.getMessage(), e);
        }
    }

    /**
     * Retention: deletes the user's dataset rows received before {@code cutoffMs} (their {@code _meta_ts}), whole
     * segments at a time, the oldest first, until about {@code limit} rows of each dataset went in one short
     * transaction; keeps each dataset's count and first time in step and returns how many rows went.
     */
    public int deleteRowsBefore(long userId, long cutoffMs, int limit) {
        UsageStore.derivePending(db); // the usage rows a row owes are made before it goes
        return db.write(h -> {
            int deleted = 0;
            for (long dataset : h.createQuery("SELECT id FROM datasets WHERE user_id = :user").bind("user", userId)
                    .mapTo(long.class).list()) {
                // the oldest expired segments, as long as fewer than `limit` rows come before them
                int n = h.createQuery("""
                                DELETE FROM dataset_segments WHERE first_row_id IN (
                                    SELECT first_row_id FROM (
                                        SELECT first_row_id, sum(row_count) OVER (ORDER BY first_row_id) - row_count AS before
                                        FROM dataset_segments WHERE dataset_id = :dataset AND received_ms < :cutoff
                                        ORDER BY first_row_id LIMIT :limit)
                                    WHERE before < :limit)
                                RETURNING row_count""")
                        .bind("dataset", dataset).bind("cutoff", cutoffMs).bind("limit", limit)
                        .mapTo(int.class).list().stream().mapToInt(Integer::intValue).sum();
                if (n == 0) {
                    continue;
                }
                Long first = h.createQuery("""
                                SELECT received_ms FROM dataset_segments WHERE dataset_id = :dataset
                                ORDER BY first_row_id LIMIT 1""")
                        .bind("dataset", dataset).mapTo(Long.class).findOne().orElse(null);
                h.createUpdate("UPDATE datasets SET rows = max(rows - :n, 0), first_ts = :first WHERE id = :dataset")
                        .bind("n", n).bind("first", first == null ? null : UsageStore.iso(first))
                        .bind("dataset", dataset).execute();
                deleted += n;
            }
            return deleted;
        });
    }
}
