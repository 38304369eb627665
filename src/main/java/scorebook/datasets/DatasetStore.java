package scorebook.datasets;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;


import scorebook.store.Database;
import scorebook.usage.UsageStore;

/** The datasets and their rows ({@code datasets}, {@code dataset_rows}). */
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
     * @param data       the row's JSON object text as stored
     * @param receivedMs when it was received; null for a row stored with its {@code _meta_*} fields in {@code data}
     */
    public record StoredRow(long id, String data, Long receivedMs) {
        /** The row as it is read back: with {@code _meta_user_id}, {@code _meta_dataset} and {@code _meta_ts}. */
        public String json(long userId, String dataset) {
            if (receivedMs == null) {
                return data;
            }
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

    /**
     * Appends rows to a dataset, creating it when new: {@code rows.json()} holds them as one JSON array, which SQLite
     * splits into rows stored as sent (one statement for the whole batch). With a {@code mapping} (an adapter's JSON),
     * the rows' usage rows are owed: one line in {@code usage_from_datasets}, in the same transaction, has the fold
     * make them by it ({@link scorebook.usage.UsageMapping}).
     */
    public void append(long userId, String name, long nowMs, RowScan.Rows rows, String mapping) {
        String nowIso = UsageStore.iso(nowMs);
        byte[] array = rows.from() == 0 && rows.to() == rows.json().length ? rows.json()
                : Arrays.copyOfRange(rows.json(), rows.from(), rows.to());
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
                int stored;
                try (PreparedStatement ps = c.prepareStatement("""
                        INSERT INTO dataset_rows (dataset_id, data, received_ms)
                        SELECT ?, value, ? FROM json_each(CAST(? AS TEXT)) ORDER BY key""")) {
                    ps.setLong(1, datasetId);
                    ps.setLong(2, nowMs);
                    ps.setBytes(3, array);
                    stored = ps.executeUpdate();
                }
                if (stored != rows.count()) {
                    throw new IllegalStateException("SQLite read " + stored + " rows where the append read " + rows.count());
                }
                if (mapping != null && stored > 0) {
                    try (PreparedStatement ps = c.prepareStatement("""
                            INSERT INTO usage_from_datasets (user_id, dataset, first_row_id, last_row_id, received_ms, mapping)
                            SELECT ?, ?, last_insert_rowid() - ? + 1, last_insert_rowid(), ?, ?""")) {
                        ps.setLong(1, userId);
                        ps.setString(2, name);
                        ps.setLong(3, stored);
                        ps.setLong(4, nowMs);
                        ps.setString(5, mapping);
                        ps.executeUpdate();
                    }
                }
                try (PreparedStatement ps = c.prepareStatement("""
                        UPDATE datasets SET rows = rows + ?, first_ts = coalesce(first_ts, ?), last_ts = ? WHERE id = ?""")) {
                    ps.setLong(1, stored);
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

    /** Up to {@code limit} rows after the row {@code after} (0: from the start), in id order or reversed. */
    public List<StoredRow> page(long datasetId, int limit, boolean descending, Long after) {
        String sql = "SELECT id, data, received_ms FROM dataset_rows WHERE dataset_id = :ds"
                + (after == null ? "" : descending ? " AND id < :after" : " AND id > :after")
                + " ORDER BY id " + (descending ? "DESC" : "ASC") + " LIMIT :limit";
        return db.read(h -> {
            var q = h.createQuery(sql).bind("ds", datasetId).bind("limit", limit);
            if (after != null) {
                q.bind("after", after);
            }
            return q.mapTo(StoredRow.class).list();
        });
    }

    /** Every row in id order, one at a time, as read back (downloads). */
    public void forEach(long userId, Dataset d, Consumer<String> row) {
        db.read(h -> {
            h.createQuery("SELECT id, data, received_ms FROM dataset_rows WHERE dataset_id = :ds ORDER BY id")
                    .bind("ds", d.id()).setFetchSize(1000).mapTo(StoredRow.class)
                    .useStream(s -> s.forEach(r -> row.accept(r.json(userId, d.name()))));
            return null;
        });
    }

    /**
     * Retention: deletes the user's dataset rows received before {@code cutoffMs} (their {@code _meta_ts}), looking
     * at up to {@code limit} of each dataset's oldest rows in one short transaction, and keeps each dataset's count
     * and first time in step; returns how many went. Rows are appended in time order, so the old ones are in front.
     */
    public int deleteRowsBefore(long userId, long cutoffMs, int limit) {
        String cutoffIso = UsageStore.iso(cutoffMs);
        UsageStore.derivePending(db); // the usage rows a row owes are made before it goes
        return db.write(h -> {
            int deleted = 0;
            for (long dataset : h.createQuery("SELECT id FROM datasets WHERE user_id = :user").bind("user", userId)
                    .mapTo(long.class).list()) {
                int n = h.createUpdate("""
                                DELETE FROM dataset_rows WHERE id IN (
                                    SELECT id FROM (SELECT id, data, received_ms FROM dataset_rows
                                                    WHERE dataset_id = :dataset ORDER BY id LIMIT :limit)
                                    WHERE coalesce(received_ms < :cutoffMs, json_extract(data, '$._meta_ts') < :cutoff))""")
                        .bind("dataset", dataset).bind("limit", limit).bind("cutoff", cutoffIso)
                        .bind("cutoffMs", cutoffMs).execute();
                if (n > 0) {
                    // the first row left: its receive time, or the _meta_ts of a row stored before received_ms
                    String firstTs = h.createQuery("""
                                    SELECT received_ms, json_extract(data, '$._meta_ts') FROM dataset_rows
                                    WHERE dataset_id = :dataset ORDER BY id LIMIT 1""")
                            .bind("dataset", dataset)
                            .map((rs, ctx) -> rs.getObject(1) != null ? UsageStore.iso(rs.getLong(1)) : rs.getString(2))
                            .findOne().orElse(null);
                    h.createUpdate("UPDATE datasets SET rows = max(rows - :n, 0), first_ts = :first WHERE id = :dataset")
                            .bind("n", n).bind("first", firstTs).bind("dataset", dataset).execute();
                    deleted += n;
                }
            }
            return deleted;
        });
    }
}
