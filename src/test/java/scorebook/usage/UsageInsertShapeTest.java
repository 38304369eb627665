package scorebook.usage;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.StringJoiner;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import scorebook.store.Database;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The insert binds a value that every row shares once a statement: whatever the batch mixes (users, columns only
 * some rows have, values that change between or inside statements) each row is stored with its own values. The
 * event key keeps its stored formula, and a bulk insert checks its rows' users itself.
 */
class UsageInsertShapeTest {
    @AutoClose
    static final TestServer server = TestServer.start();

    private static final String COLUMNS = """
            user_id, api_key_id, ts_ms, source_kind, request_id, device, model, tag, prompt_tokens, completion_tokens,
            latency_ms, ttft_ms, tok_s, ok, error_type, error_message, job_id, prompt_preview, extra, tenant, dataset,
            prefill_tok_s, decode_tok_s, load_ms, battery_start_pct, battery_end_pct, temp_max_c, thermal_status_max""";

    @Test
    void everyRowIsStoredWithItsOwnValuesWhateverTheBatchShares() throws Exception {
        Database db = server.running().db();
        long a = Tenant.create(server).userId();
        long b = Tenant.create(server).userId();
        long t = System.currentTimeMillis() - 3_600_000;
        int n = 2 * UsageStore.ROWS_A_STATEMENT + 10;
        List<UsageStore.Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            boolean second = i >= UsageStore.ROWS_A_STATEMENT; // from the second statement on, values change
            UsageStore.Hardware hw = i % 7 == 0 ? new UsageStore.Hardware(10.0 + i, null, null, null, null, null, 2.0)
                    : null;
            rows.add(new UsageStore.Row(i == n - 1 ? b : a, null, t + i * 1000L, "import", "e" + i,
                    second ? "gpu-2" : "gpu-1", "m" + i % 3, second ? null : "prod", 10 + i, second ? null : 5,
                    i % 2 == 0 ? 30.5 : null, null, null, i % 5 != 0, i == n - 2 ? "timeout" : null, null, null, null,
                    null, second ? "acme" : null, null, hw));
        }
        db.write(h -> UsageStore.insert(h, rows, t));
        assertEquals(rows.stream().map(UsageInsertShapeTest::expected).toList(), stored(db, List.of(a, b), t));

        // one row, and rows all alike but for time and key
        long c = Tenant.create(server).userId();
        List<UsageStore.Row> alike = new ArrayList<>();
        for (int i = 0; i < UsageStore.ROWS_A_STATEMENT + 1; i++) {
            alike.add(new UsageStore.Row(c, null, t + i, "gateway", "r" + i, "d", "m", "x", 1, 2, 3.0, 4.0, 5.0, true,
                    null, null, null, null, null));
        }
        db.write(h -> UsageStore.insert(h, alike.subList(0, 1), t));
        db.write(h -> UsageStore.insert(h, alike, t));
        assertEquals(alike.stream().map(UsageInsertShapeTest::expected).toList(), stored(db, List.of(c), t));
    }

    @Test
    void theEventKeyIsTheHashOfItsDocumentedSeed() {
        var withId = new UsageStore.Row(1, null, 5, "import", "req-é-1", null, "m", null, 1, 2, 3.0, null, null, false,
                null, null, null, null, null);
        assertEquals(hash("id|req-é-1|null|false"), UsageStore.eventKey(withId));
        var withoutId = new UsageStore.Row(1, null, 5, "import", null, "gpu", "m", null, 1, null, 3.5, null, null, true,
                null, null, "job", null, null);
        assertEquals(hash("c|gpu|m|job|1|null|3.5|null|import"), UsageStore.eventKey(withoutId));
    }

    @Test
    void aBulkInsertForAUserOrApiKeyThatIsGoneStoresNothingAndForeignKeysStayOn() throws Exception {
        Database db = server.running().db();
        long gone = 9_999_999;
        var row = new UsageStore.Row(gone, null, System.currentTimeMillis(), "import", "x", null, null, null, 1, 2,
                null, null, null, true, null, null, null, null, null);
        assertThrows(SQLException.class, () -> bulkInsert(db, List.of(row)));
        int stored = db.read(h -> h.createQuery("SELECT count(*) FROM usage_events WHERE user_id = ?")
                .bind(0, gone).mapTo(int.class).one());
        assertEquals(0, stored);
        // an API key that is gone fails the batch of a user who exists, and stores none of it
        long user = Tenant.create(server).userId();
        var fine = new UsageStore.Row(user, null, System.currentTimeMillis(), "import", "y", null, null, null, 1, 2,
                null, null, null, true, null, null, null, null, null);
        var noKey = new UsageStore.Row(user, 9_999_999L, System.currentTimeMillis(), "import", "z", null, null, null, 1,
                2, null, null, null, true, null, null, null, null, null);
        assertThrows(SQLException.class, () -> bulkInsert(db, List.of(fine, noKey)));
        int mine = db.read(h -> h.createQuery("SELECT count(*) FROM usage_events WHERE user_id = ?")
                .bind(0, user).mapTo(int.class).one());
        assertEquals(0, mine);
        assertEquals(1, bulkInsert(db, List.of(fine)), "the same batch without it is stored");
        // the writer checks foreign keys again for everything else
        SQLException e = assertThrows(SQLException.class, () -> db.write(h -> UsageStore.insert(h, List.of(row), 0)));
        assertTrue(e.getMessage().contains("FOREIGN KEY"), e.getMessage());
    }

    /** The bulk insert a fold makes of a staged import: foreign keys checked once, by the batch. */
    private static int bulkInsert(Database db, List<UsageStore.Row> rows) throws SQLException {
        return db.writeParentsChecked(h -> UsageStore.insertChecked(h, rows, System.currentTimeMillis()));
    }

    /** The stored rows of users, in time order, as {@link #expected} writes them. */
    private static List<String> stored(Database db, List<Long> users, long from) {
        return db.read(h -> h.createQuery("SELECT " + COLUMNS + " FROM usage_events WHERE user_id IN (<users>) AND ts_ms >= :from ORDER BY ts_ms")
                .bindList("users", users).bind("from", from)
                .map((rs, ctx) -> {
                    StringJoiner s = new StringJoiner("|");
                    for (int i = 1; i <= 28; i++) {
                        Object v = rs.getObject(i);
                        s.add(v instanceof Number x && !(v instanceof Double) ? String.valueOf(x.longValue())
                                : String.valueOf(v));
                    }
                    return s.toString();
                }).list());
    }

    private static String expected(UsageStore.Row r) {
        UsageStore.Hardware hw = r.hardware();
        List<Object> v = new ArrayList<>(List.of(r.userId()));
        v.add(r.apiKeyId());
        v.addAll(List.of(r.tsMs(), r.sourceKind()));
        for (Object o : new Object[] {r.requestId(), r.device(), r.model(), r.tag(), r.promptTokens(),
            r.completionTokens(), r.latencyMs(), r.ttftMs(), r.tokS(), r.ok() ? 1 : 0, r.errorType(), r.errorMessage(),
            r.jobId(), r.promptPreview(), r.extra(), r.tenant(), r.dataset()}) {
            v.add(o);
        }
        for (Object o : hw == null ? new Object[7] : new Object[] {hw.prefillTokS(), hw.decodeTokS(), hw.loadMs(),
            hw.batteryStartPct(), hw.batteryEndPct(), hw.tempMaxC(), hw.thermalStatusMax()}) {
            v.add(o);
        }
        StringJoiner s = new StringJoiner("|");
        v.forEach(o -> s.add(Objects.toString(o)));
        return s.toString();
    }

    /** The event key's formula as stored since the first version: FNV-1a of the seed's chars, then a mix. */
    private static int hash(String seed) {
        long h = 0xcbf29ce484222325L;
        for (char ch : seed.toCharArray()) {
            h ^= ch;
            h *= 0x100000001b3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        return (int) h;
    }
}
