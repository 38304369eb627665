package scorebook.datasets;

import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

import org.jdbi.v3.core.Handle;

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
     * @param id   its id (cursors)
     * @param data the row's JSON object text
     */
    public record StoredRow(long id, String data) {
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
     * Appends rows (JSON object texts) to a dataset, creating it when new, and their usage rows in the same
     * transaction. {@code usage} is index-aligned with {@code rows} (null: no usage row); each usage row gets the
     * event id {@code ds:ROW_ID}. Answers how many usage rows were stored.
     */
    public int append(long userId, String name, long nowMs, List<String> rows, List<UsageStore.Row> usage) {
        String nowIso = UsageStore.iso(nowMs);
        try {
            return db.write(h -> {
                long datasetId = ensure(h, userId, name, nowIso);
                long firstId = insertRows(h, datasetId, rows);
                List<UsageStore.Row> events = new ArrayList<>();
                for (int i = 0; i < usage.size(); i++) {
                    if (usage.get(i) != null) {
                        events.add(usage.get(i).withRequestId("ds:" + (firstId + i)));
                    }
                }
                int recorded = 0;
                for (boolean b : UsageStore.insert(h, events, nowMs)) {
                    recorded += b ? 1 : 0;
                }
                h.createUpdate("""
                                UPDATE datasets SET rows = rows + :n, first_ts = coalesce(first_ts, :now), last_ts = :now
                                WHERE id = :id""")
                        .bind("n", rows.size()).bind("now", nowIso).bind("id", datasetId).execute();
                return recorded;
            });
        } catch (SQLException e) {
            throw new IllegalStateException("dataset rows not stored: " + e.getMessage(), e);
        }
    }

    private static long ensure(Handle h, long userId, String name, String nowIso) {
        return h.createQuery("""
                        INSERT INTO datasets (user_id, name, created_at) VALUES (:user, :name, :now)
                        ON CONFLICT (user_id, name) DO UPDATE SET name = excluded.name
                        RETURNING id""")
                .bind("user", userId).bind("name", name).bind("now", nowIso).mapTo(long.class).one();
    }

    /** Plain JDBC batch (the append path is measured); answers the first new row's id (ids are consecutive). */
    private static long insertRows(Handle h, long datasetId, List<String> rows) throws SQLException {
        if (rows.isEmpty()) {
            return 0;
        }
        try (PreparedStatement ps = h.getConnection().prepareStatement(
                "INSERT INTO dataset_rows (dataset_id, data) VALUES (?, ?)")) {
            for (String r : rows) {
                ps.setLong(1, datasetId);
                ps.setString(2, r);
                ps.addBatch();
            }
            ps.executeBatch();
        }
        long last = h.createQuery("SELECT last_insert_rowid()").mapTo(long.class).one();
        return last - rows.size() + 1;
    }

    /** Up to {@code limit} rows after the row {@code after} (0: from the start), in id order or reversed. */
    public List<StoredRow> page(long datasetId, int limit, boolean descending, Long after) {
        String sql = "SELECT id, data FROM dataset_rows WHERE dataset_id = :ds"
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

    /** Every row in id order, one at a time (downloads). */
    public void forEach(long datasetId, Consumer<String> row) {
        db.read(h -> {
            h.createQuery("SELECT data FROM dataset_rows WHERE dataset_id = :ds ORDER BY id").bind("ds", datasetId)
                    .setFetchSize(1000).mapTo(String.class).useStream(s -> s.forEach(row));
            return null;
        });
    }

    /**
     * Retention: deletes the user's dataset rows received before {@code cutoffIso} (their {@code _meta_ts}), looking
     * at up to {@code limit} of each dataset's oldest rows in one short transaction, and keeps each dataset's count
     * and first time in step; returns how many went. Rows are appended in time order, so the old ones are in front.
     */
    public int deleteRowsBefore(long userId, String cutoffIso, int limit) {
        return db.write(h -> {
            int deleted = 0;
            for (long dataset : h.createQuery("SELECT id FROM datasets WHERE user_id = :user").bind("user", userId)
                    .mapTo(long.class).list()) {
                int n = h.createUpdate("""
                                DELETE FROM dataset_rows WHERE id IN (
                                    SELECT id FROM (SELECT id, data FROM dataset_rows WHERE dataset_id = :dataset
                                                    ORDER BY id LIMIT :limit)
                                    WHERE json_extract(data, '$._meta_ts') < :cutoff)""")
                        .bind("dataset", dataset).bind("limit", limit).bind("cutoff", cutoffIso).execute();
                if (n > 0) {
                    h.createUpdate("""
                                    UPDATE datasets SET rows = max(rows - :n, 0),
                                        first_ts = (SELECT json_extract(data, '$._meta_ts') FROM dataset_rows
                                                    WHERE dataset_id = :dataset ORDER BY id LIMIT 1)
                                    WHERE id = :dataset""")
                            .bind("n", n).bind("dataset", dataset).execute();
                    deleted += n;
                }
            }
            return deleted;
        });
    }
}
