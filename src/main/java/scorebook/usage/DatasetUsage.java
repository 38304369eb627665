package scorebook.usage;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.jdbi.v3.core.Handle;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.server.Json;

/**
 * Makes the usage rows of dataset rows appended under an adapter, after the append and in bulk. An append stores
 * its rows and one line in {@code usage_from_datasets} (the rows' id range, when they were received and the
 * adapter's {@link UsageMapping}) in its transaction, and answers which rows make usage rows by the same rule; this
 * makes them before the rows are folded ({@link UsageStore#foldPending}), so every usage answer counts them.
 */
final class DatasetUsage {
    /** Dataset rows waiting for their usage rows. */
    static final String PENDING = "SELECT coalesce(sum(last_row_id - first_row_id + 1), 0) FROM usage_from_datasets";

    private DatasetUsage() {
    }

    private record Batch(long id, long userId, String dataset, long firstRowId, long lastRowId, long receivedMs,
                         String mapping) {
    }

    /**
     * Makes the usage rows of the oldest waiting appends, whole appends of about {@code limit} rows in all, inside
     * the caller's transaction, and drops their lines; answers how many dataset rows they held (0: none waited).
     * Each usage row's event key is {@code ds:ROW_ID}, so a row is never counted twice.
     */
    static int derive(Handle h, int limit) throws SQLException {
        Connection c = h.getConnection();
        List<Batch> batches = new ArrayList<>();
        long planned = 0;
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT id, user_id, dataset, first_row_id, last_row_id, received_ms, mapping
                FROM usage_from_datasets ORDER BY id""");
             ResultSet rs = ps.executeQuery()) {
            while (planned < limit && rs.next()) {
                Batch b = new Batch(rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getLong(4), rs.getLong(5),
                        rs.getLong(6), rs.getString(7));
                batches.add(b);
                planned += b.lastRowId() - b.firstRowId() + 1;
            }
        }
        Map<String, UsageMapping> mappings = new HashMap<>();
        try (PreparedStatement read = c.prepareStatement(
                     "SELECT id, data FROM dataset_rows WHERE segment BETWEEN ? AND ?");
             PreparedStatement done = c.prepareStatement("DELETE FROM usage_from_datasets WHERE id = ?")) {
            for (Batch b : batches) {
                UsageMapping m = mappings.computeIfAbsent(b.mapping(), UsageMapping::fromJson);
                List<UsageStore.Row> rows = new ArrayList<>();
                read.setLong(1, b.firstRowId());
                read.setLong(2, b.lastRowId());
                try (ResultSet rs = read.executeQuery()) {
                    while (rs.next()) {
                        try {
                            // as sent: a name given twice (not one the mapping reads) is kept, and the last one read
                            JsonNode row = Json.MAPPER.readTree(rs.getString(2));
                            rows.add(m.row(b.userId(), b.dataset(), (ObjectNode) row, b.receivedMs())
                                    .withRequestId("ds:" + rs.getLong(1)));
                        } catch (UsageRows.Bad | JsonProcessingException bad) {
                            // the append listed it in `skipped` (every stored row is a JSON object)
                        }
                    }
                }
                UsageStore.insert(h, rows, b.receivedMs());
                done.setLong(1, b.id());
                done.executeUpdate();
            }
        }
        return (int) planned;
    }
}
