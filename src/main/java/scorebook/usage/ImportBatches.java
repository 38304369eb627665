package scorebook.usage;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.jdbi.v3.core.Handle;

/**
 * Imported usage rows staged until the fold inserts them (schema/024). An import finds which of its rows are new
 * (not stored, not staged, not earlier in the batch) and stores those as one line of {@code usage_import_batches};
 * {@link #derive} inserts them into {@code usage_events} before every fold, and every read of usage rows derives
 * first, so answers count them as if they had been inserted by the import. The import then costs a read of the
 * (user, time, key) index per row instead of a row and an index entry written among older ones.
 */
final class ImportBatches {
    /** Staged rows waiting for the fold. */
    static final String PENDING = "SELECT coalesce(sum(row_count), 0) FROM usage_import_batches";
    /** Batches whose keys are kept in memory (about 12 bytes a row): the recent ones an import checks against. */
    private static final int KEYS_KEPT = 64;
    private static final int PROBE_ROWS = UsageStore.ROWS_A_STATEMENT;

    /** The (time, key) pairs of staged batches by id: a batch never changes and its id is never given again. */
    private final Map<Long, Keys> keys = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Keys> eldest) {
            return size() > KEYS_KEPT;
        }
    };

    /** What one import staged: the rows' count, and (when it stored a batch) its id and keys. */
    record Staged(int rows, long batchId, Keys keys) {
    }

    /** A batch's events in time order. */
    record Keys(long[] ts, int[] key) {
        /** The keys of rows in time order (as a batch stores them). */
        static Keys of(List<UsageStore.Row> rows) {
            long[] ts = new long[rows.size()];
            int[] key = new int[rows.size()];
            for (int i = 0; i < ts.length; i++) {
                ts[i] = rows.get(i).tsMs();
                key[i] = UsageStore.eventKey(rows.get(i));
            }
            return new Keys(ts, key);
        }

        boolean contains(long t, int k) {
            int i = Arrays.binarySearch(ts, t);
            if (i < 0) {
                return false;
            }
            while (i > 0 && ts[i - 1] == t) {
                i--;
            }
            for (; i < ts.length && ts[i] == t; i++) {
                if (key[i] == k) {
                    return true;
                }
            }
            return false;
        }
    }

    /**
     * Stages the new rows of one user's import inside the caller's transaction (none on a dry run) and answers how
     * many there are. A row is new unless an event with its user, time and key is stored, staged, or earlier in
     * {@code rows}: the same rule as the insert's ({@code ON CONFLICT DO NOTHING}).
     */
    Staged stage(Handle h, long userId, List<UsageStore.Row> rows, long nowMs, boolean dryRun) throws SQLException {
        if (rows.isEmpty()) {
            return new Staged(0, 0, null);
        }
        int[] order = UsageStore.timeOrder(rows);
        int n = order.length;
        long[] ts = new long[n];
        int[] key = new int[n];
        for (int k = 0; k < n; k++) {
            UsageStore.Row r = rows.get(order[k]);
            if (r.userId() != userId) {
                throw new IllegalArgumentException("an import's rows are all of one user");
            }
            ts[k] = r.tsMs();
            key[k] = UsageStore.eventKey(r);
        }
        boolean[] fresh = firstOfEachEvent(ts, key);
        Connection c = h.getConnection();
        dropStored(c, userId, ts, key, fresh);
        for (Keys staged : stagedKeys(h, userId, ts[0], ts[n - 1])) {
            for (int k = 0; k < n; k++) {
                fresh[k] &= !staged.contains(ts[k], key[k]);
            }
        }
        int count = 0;
        for (boolean f : fresh) {
            count += f ? 1 : 0;
        }
        if (dryRun || count == 0) {
            return new Staged(count, 0, null);
        }
        long[] keptTs = new long[count];
        int[] keptKey = new int[count];
        for (int k = 0, j = 0; k < n; k++) {
            if (fresh[k]) {
                keptTs[j] = ts[k];
                keptKey[j++] = key[k];
            }
        }
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO usage_import_batches (user_id, received_ms, row_count, first_ts_ms, last_ts_ms, rows)
                VALUES (?, ?, ?, ?, ?, ?) RETURNING id""")) {
            ps.setLong(1, userId);
            ps.setLong(2, nowMs);
            ps.setInt(3, count);
            ps.setLong(4, keptTs[0]);
            ps.setLong(5, keptTs[count - 1]);
            ps.setBytes(6, StagedRows.encode(rows, order, fresh, count));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new Staged(count, rs.getLong(1), new Keys(keptTs, keptKey));
            }
        }
    }

    /** Keeps a committed batch's keys, so the next import does not read them back. */
    synchronized void remember(Staged s) {
        if (s.keys() != null) {
            keys.put(s.batchId(), s.keys());
        }
    }

    /** Which rows (in time order) are the first of their event in the batch: same time and key is the same event. */
    private static boolean[] firstOfEachEvent(long[] ts, int[] key) {
        boolean[] first = new boolean[ts.length];
        Set<Integer> seen = new HashSet<>();
        for (int k = 0; k < ts.length; k++) {
            if (k > 0 && ts[k] == ts[k - 1]) {
                first[k] = seen.add(key[k]);
            } else {
                seen.clear();
                seen.add(key[k]);
                first[k] = true;
            }
        }
        return first;
    }

    /** Unmarks the rows whose event is stored: one read of the (user, time, key) index each. */
    private static void dropStored(Connection c, long userId, long[] ts, int[] key, boolean[] fresh)
            throws SQLException {
        int[] asked = new int[PROBE_ROWS];
        PreparedStatement ps = null;
        try {
            int n = 0;
            for (int k = 0; k <= ts.length; k++) {
                if (k < ts.length && fresh[k]) {
                    asked[n++] = k;
                }
                if (n == PROBE_ROWS || k == ts.length && n > 0) {
                    if (ps == null || n < PROBE_ROWS) {
                        if (ps != null) {
                            ps.close();
                        }
                        ps = c.prepareStatement(storedSql(n));
                    }
                    ps.setLong(1, userId);
                    for (int j = 0; j < n; j++) {
                        ps.setLong(2 + 2 * j, ts[asked[j]]);
                        ps.setInt(3 + 2 * j, key[asked[j]]);
                    }
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            fresh[asked[rs.getInt(1)]] = false;
                        }
                    }
                    n = 0;
                }
            }
        } finally {
            if (ps != null) {
                ps.close();
            }
        }
    }

    /** Which of {@code n} (time, key) pairs, numbered from 0, are stored for user ?1. */
    private static String storedSql(int n) {
        StringBuilder sql = new StringBuilder("WITH asked (i, t, k) AS (VALUES ");
        for (int j = 0; j < n; j++) {
            sql.append(j == 0 ? "" : ", ").append('(').append(j).append(", ?").append(2 + 2 * j).append(", ?")
                    .append(3 + 2 * j).append(')');
        }
        return sql.append(") SELECT i FROM asked WHERE EXISTS (SELECT 1 FROM usage_events WHERE user_id = ?1")
                .append(" AND ts_ms = t AND event_key = k)").toString();
    }

    /**
     * The keys of the user's staged batches that overlap a time range: kept ones, or read from their rows. When the
     * user has more than {@value #KEYS_KEPT} batches staged (many small imports while the fold waits), they are all
     * inserted first instead, so that an import never looks through more.
     */
    private List<Keys> stagedKeys(Handle h, long userId, long fromMs, long toMs) throws SQLException {
        Connection c = h.getConnection();
        List<Long> ids = new ArrayList<>();
        int batches = 0;
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT id, first_ts_ms, last_ts_ms FROM usage_import_batches WHERE user_id = ? ORDER BY id")) {
            ps.setLong(1, userId);
            try (ResultSet rs = ps.executeQuery()) {
                for (; rs.next(); batches++) {
                    if (rs.getLong(2) <= toMs && rs.getLong(3) >= fromMs) {
                        ids.add(rs.getLong(1));
                    }
                }
            }
        }
        if (batches > KEYS_KEPT) {
            derive(h, Integer.MAX_VALUE); // every staged batch, everyone's: the index read checks against them now
            return List.of();
        }
        List<Keys> out = new ArrayList<>(ids.size());
        for (long id : ids) {
            Keys k;
            synchronized (this) {
                k = keys.get(id);
            }
            if (k == null) {
                k = Keys.of(StagedRows.decode(userId, rowsOf(c, id)));
                synchronized (this) {
                    keys.put(id, k);
                }
            }
            out.add(k);
        }
        return out;
    }

    private static byte[] rowsOf(Connection c, long batchId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT rows FROM usage_import_batches WHERE id = ?")) {
            ps.setLong(1, batchId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBytes(1);
            }
        }
    }

    private record Batch(long id, long userId, long receivedMs, int rows) {
    }

    /**
     * Inserts the oldest staged batches, whole, about {@code limit} rows in all, inside the caller's transaction (the
     * fold's runs with {@link scorebook.store.Database#writeParentsChecked}), and drops their lines; answers how many
     * rows they held (0: none waited).
     */
    static int derive(Handle h, int limit) throws SQLException {
        Connection c = h.getConnection();
        List<Batch> batches = new ArrayList<>();
        int planned = 0;
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT id, user_id, received_ms, row_count FROM usage_import_batches ORDER BY id");
             ResultSet rs = ps.executeQuery()) {
            while (planned < limit && rs.next()) {
                Batch b = new Batch(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getInt(4));
                batches.add(b);
                planned += b.rows();
            }
        }
        try (PreparedStatement done = c.prepareStatement("DELETE FROM usage_import_batches WHERE id = ?")) {
            for (Batch b : batches) {
                UsageStore.insertChecked(h, StagedRows.decode(b.userId(), rowsOf(c, b.id())), b.receivedMs());
                done.setLong(1, b.id());
                done.executeUpdate();
            }
        }
        return planned;
    }
}
