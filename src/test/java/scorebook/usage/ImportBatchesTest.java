package scorebook.usage;

import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import scorebook.store.Database;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Imports are staged for the fold: the answer counts each event once whether its copy is stored, staged, or earlier
 * in the batch (also after a restart, when no keys are in memory); the staged rows come back exactly; every answer
 * has them at once; a dry run stages nothing; a deleted user's staged rows go with it; many small imports are inserted
 * before an import would look through more than 64 staged batches.
 */
class ImportBatchesTest {
    @AutoClose
    static final TestServer server = TestServer.start();

    private static final long T0 = System.currentTimeMillis() - 5 * 86_400_000L;

    @Test
    void stagedRowsComeBackWithEveryField() {
        List<UsageStore.Row> rows = List.of(
                new UsageStore.Row(7, 123_456_789_012L, T0, "import", "é-ü-日本-🙂", "gpu-1", "llama3", "prod", 0,
                        Integer.MAX_VALUE, 0.5, -0.0, 1e300, true, "timeout", "line\nbreak", "job_1", "hi",
                        "{\"joules\":1.5}", "acme", "runs", new UsageStore.Hardware(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0)),
                new UsageStore.Row(7, null, -1, "gateway", null, null, null, null, null, null, null, null, null, false,
                        null, null, null, null, null, null, null, null),
                new UsageStore.Row(7, null, Long.MAX_VALUE, "", "", "", "", "", -5, null, null, 3.25, null, false, null,
                        "", null, null, null, null, null, new UsageStore.Hardware(null, 9.5, null, null, null, null, null)));
        int[] order = {2, 0, 1};
        byte[] bytes = StagedRows.encode(rows, order, new boolean[] {true, true, true}, 3);
        assertEquals(List.of(rows.get(2), rows.get(0), rows.get(1)), StagedRows.decode(7, bytes));
        byte[] some = StagedRows.encode(rows, order, new boolean[] {false, true, false}, 1);
        assertEquals(List.of(rows.get(0)), StagedRows.decode(7, some));
    }

    @Test
    void eachEventCountsOnceWhetherItsCopyIsStoredStagedOrEarlierInTheBatch() throws Exception {
        Path dir = TestServer.tempDir();
        try (Database db = Database.open(dir)) {
            long u = user(db, "a");
            long other = user(db, "b");
            UsageStore store = new UsageStore(db, Clock.systemUTC()); // not started: no fold but the ones asked for
            List<UsageStore.Row> a = rows(u, "a", 200);
            List<UsageStore.Row> withCopy = new ArrayList<>(a);
            UsageStore.Row first = a.get(17);
            // the same event again (time and event id), with another model: the first copy is the one stored
            withCopy.add(new UsageStore.Row(u, null, first.tsMs(), "import", first.requestId(), first.device(),
                    "other-model", null, null, null, null, null, null, first.ok(), null, null, null, null, null));

            assertEquals(200, store.importRows(u, withCopy, true), "a dry run answers the count");
            assertEquals(0, staged(db), "and stages nothing");
            assertEquals(200, store.importRows(u, withCopy, false));
            assertEquals(1, staged(db));
            assertEquals(0, stored(db, u), "staged, not inserted");
            assertEquals(0, store.importRows(u, a, false), "staged events are duplicates");
            assertEquals(0, new UsageStore(db).importRows(u, a, false), "also where their keys are not in memory");
            List<UsageStore.Row> b = new ArrayList<>(a.subList(0, 100));
            b.addAll(rows(u, "b", 50));
            assertEquals(50, store.importRows(u, b, false), "half new");
            assertEquals(200, store.importRows(other, rows(other, "a", 200), false), "another user's are their own");

            UsageStore.derivePending(db);
            assertEquals(0, staged(db));
            assertEquals(250, stored(db, u));
            List<String> want = new ArrayList<>();
            for (UsageStore.Row r : a) {
                want.add(r.requestId() + ":" + r.model());
            }
            for (UsageStore.Row r : b.subList(100, 150)) {
                want.add(r.requestId() + ":" + r.model());
            }
            assertEquals(want.stream().sorted().toList(), db.read(h -> h.createQuery(
                    "SELECT request_id || ':' || model FROM usage_events WHERE user_id = ? ORDER BY 1")
                    .bind(0, u).mapTo(String.class).list()), "each event once, the first copy");
            assertEquals(0, store.importRows(u, withCopy, false), "stored events are duplicates");
            assertEquals(0, staged(db));
        }
    }

    @Test
    void manySmallImportsAreInsertedBeforeAnImportWouldCheckAgainstTooManyBatches() {
        Path dir = TestServer.tempDir();
        try (Database db = Database.open(dir)) {
            long u = user(db, "a");
            List<UsageStore.Row> a = rows(u, "a", 100);
            UsageStore store = new UsageStore(db);
            for (UsageStore.Row r : a) {
                assertEquals(1, store.importRows(u, List.of(r), false));
                assertTrue(staged(db) <= 65, "batches staged: " + staged(db));
            }
            assertTrue(stored(db, u) > 0, "the first 65 were inserted when the 66th came");
            assertEquals(100, stored(db, u) + db.read(h -> h.createQuery("SELECT sum(row_count) FROM usage_import_batches")
                    .mapTo(long.class).one()));
            assertEquals(0, store.importRows(u, a, false), "every one is a duplicate, stored or staged");
            UsageStore.derivePending(db);
            assertEquals(100, stored(db, u));
        }
    }

    @Test
    void rowsStagedBeforeARestartAreCheckedAgainstAndInserted() {
        Path dir = TestServer.tempDir();
        long u;
        List<UsageStore.Row> a;
        try (Database db = Database.open(dir)) {
            u = user(db, "a");
            a = rows(u, "a", 300);
            assertEquals(300, new UsageStore(db).importRows(u, a, false));
        }
        try (Database db = Database.open(dir)) {
            assertEquals(1, staged(db));
            assertEquals(0, new UsageStore(db).importRows(u, a.subList(0, 10), false));
            UsageStore.foldPending(db);
            assertEquals(300, stored(db, u));
            long folded = db.read(h -> h.createQuery("""
                    SELECT sum(requests) FROM usage_rollups WHERE user_id = ? AND level = 1""")
                    .bind(0, u).mapTo(long.class).one());
            assertEquals(300, folded, "folded into the hour cells");
        }
    }

    @Test
    void aDeletedUsersStagedRowsGoWithIt() {
        Path dir = TestServer.tempDir();
        try (Database db = Database.open(dir)) {
            long u = user(db, "a");
            assertEquals(20, new UsageStore(db).importRows(u, rows(u, "a", 20), false));
            db.write(h -> h.execute("DELETE FROM users WHERE id = ?", u));
            assertEquals(0, staged(db));
            UsageStore.foldPending(db);
            assertEquals(0, stored(db, u));
        }
    }

    @Test
    void everyAnswerHasTheImportedRowsAtOnce() {
        Tenant t = Tenant.create(server);
        StringBuilder body = new StringBuilder("[");
        for (int i = 0; i < 3; i++) {
            body.append(i == 0 ? "" : ",").append("{\"ts\": ").append(T0 + i * 1000).append(", \"model\": \"m\", ")
                    .append("\"latency_ms\": ").append(100 * (i + 1)).append(", \"event_id\": \"e").append(i).append("\"}");
        }
        JsonNode answer = t.user().post("/usage/import", body.append(']').toString()).json();
        assertEquals(3, answer.path("imported").asInt(), answer.toString());
        String range = "from=" + (T0 - 1000) + "&to=" + (T0 + 60_000);
        assertEquals(3, t.user().get("/usage/summary?" + range).json().path("requests").asInt());
        assertEquals(3, t.user().get("/usage?view=raw&" + range).json().path("events").size());
        String csv = t.user().get("/usage/export.csv?" + range).text();
        assertEquals(4, csv.strip().split("\n").length, csv);
        assertTrue(csv.contains("\ne2,"), csv);
    }

    private static List<UsageStore.Row> rows(long user, String prefix, int n) {
        Random r = new Random(prefix.hashCode());
        List<UsageStore.Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            rows.add(new UsageStore.Row(user, null, T0 + r.nextInt(3 * 86_400_000), "import", prefix + "-" + i,
                    "gpu-" + i % 3, "m" + i % 4, "prod", 10 + i, 20, 100.0 + i, null, null, i % 9 != 0, null, null, null,
                    null, null));
        }
        return rows;
    }

    private static long user(Database db, String name) {
        return db.write(h -> h.createQuery("INSERT INTO users (name, token_hash, created_at) VALUES (?, ?, 'now') RETURNING id")
                .bind(0, name).bind(1, "h-" + name).mapTo(long.class).one());
    }

    private static long staged(Database db) {
        return db.read(h -> h.createQuery("SELECT count(*) FROM usage_import_batches").mapTo(long.class).one());
    }

    private static long stored(Database db, long user) {
        return db.read(h -> h.createQuery("SELECT count(*) FROM usage_events WHERE user_id = ?").bind(0, user)
                .mapTo(long.class).one());
    }
}
