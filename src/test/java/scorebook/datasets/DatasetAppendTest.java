package scorebook.datasets;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.auth.Tokens;
import scorebook.server.Json;
import scorebook.server.ServerConfig;
import scorebook.store.Database;
import scorebook.testing.Client;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The append path: rows read in one streaming pass or as trees store and answer the same, are kept as sent and read
 * back with their _meta_* fields, and the usage rows an append owes are made later (by the next usage answer, by
 * the background fold, after a restart) by the adapter the append answered with.
 */
class DatasetAppendTest {
    static final Instant NOW = Instant.parse("2026-06-15T12:00:00Z");

    @AutoClose
    static final TestServer server = TestServer.start(ServerConfig.local(TestServer.tempDir(), TestServer.OWNER_TOKEN)
            .withClock(Clock.fixed(NOW, ZoneOffset.UTC)));

    private static String rows(int from, int n) {
        StringBuilder s = new StringBuilder();
        for (int i = from; i < from + n; i++) {
            s.append(DatasetsTest.row("2025-12-03T18:" + (10 + i) + ":00Z", i % 4 == 3 ? "slow" : 900 + i, 40 + i))
                    .append('\n');
        }
        return s.toString();
    }

    private static JsonNode append(Tenant t, String dataset, String path, String body, String... headers) {
        Client.Response r = t.user().post(path, body, headers);
        assertEquals(200, r.status(), r.text());
        assertEquals(dataset, r.json().path("dataset").asText());
        return r.json();
    }

    /** The rows read back, without the _meta_* fields (which differ by dataset). */
    private static List<JsonNode> stored(Tenant t, String dataset) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode r : t.user().get("/user/data/get?limit=1000&dataset=" + dataset).json().path("rows")) {
            out.add(((ObjectNode) r.deepCopy()).without(Datasets.META));
        }
        return out;
    }

    @Test
    void everyBodyFormReadStreamingOrAsTreesStoresAndAnswersTheSame() {
        Tenant t = Tenant.create(server);
        String[] names = {"whole", "lines", "typed", "late", "trees"};
        for (String name : names) {
            t.user().post("/user/data/save_adapter", DatasetsTest.ADAPTER.replace("\"srv\"", "\"" + name + "\""));
        }
        String lines = rows(0, 8);
        String array = "[" + String.join(",", lines.strip().split("\n")) + "]";
        List<JsonNode> answers = List.of(
                append(t, "whole", "/user/data/append_jsonl", "{\"dataset\": \"whole\", \"rows\": " + array + "}"),
                append(t, "lines", "/user/data/append_jsonl?dataset=lines", "\n" + lines + "\n\n"),
                append(t, "typed", "/user/data/append_jsonl?dataset=typed", lines, "Content-Type", "application/x-ndjson"),
                // the rows before the name, and a name given twice inside a row: read as trees
                append(t, "late", "/user/data/append_jsonl", "{\"rows\": " + array + ", \"dataset\": \"late\"}"),
                append(t, "trees", "/user/data/append_jsonl", "{\"dataset\": \"trees\", \"rows\": "
                        + array.replaceFirst("\\{", "{\"ttft_ms\": 1, ") + "}"));
        for (JsonNode a : answers) {
            assertEquals(8, a.path("appended").asInt(), a.toString());
            assertEquals(6, a.path("usage_recorded").asInt(), a.toString());
            assertEquals(List.of(3, 7), List.of(a.path("skipped").get(0).path("index").asInt(),
                    a.path("skipped").get(1).path("index").asInt()));
            assertEquals(answers.getFirst().path("skipped"), a.path("skipped"));
        }
        List<JsonNode> want = stored(t, "whole");
        assertEquals(8, want.size());
        for (String name : names) {
            assertEquals(want, stored(t, name), name);
            JsonNode s = t.user().get("/usage/summary?from=2025-12-01&to=2025-12-31&dataset=" + name).json();
            assertEquals(6, s.path("requests").asLong(), name + ": " + s);
            assertEquals(906.0, s.path("latency_ms").path("max").asDouble(), name);
            assertEquals(6, s.path("extra").path("GPU power (W)").path("n").asInt(), name);
        }
    }

    @Test
    void rowsAreKeptAsSentAndReadBackWithTheirMetaFields() {
        Tenant t = Tenant.create(server);
        append(t, "kept", "/user/data/append_jsonl", """
                {"dataset": "kept", "rows": [ {"a": 1.50, "b": "x\\u00e9\\n", "c": [1, {"d": null}]}, {} ]}""");
        append(t, "kept", "/user/data/append_jsonl", """
                {"dataset": "kept", "rows": [ {"_meta_ts": "mine", "_meta_dataset": "other", "e": 1} ]}""");
        String[] nd = t.user().get("/user/data/get?dataset=kept&format=ndjson").text().split("\n");
        String meta = "\"_meta_user_id\":" + t.userId() + ",\"_meta_dataset\":\"kept\",\"_meta_ts\":\"2026-06-15T12:00:00.000Z\"}";
        assertEquals("{\"a\":1.50,\"b\":\"x\\u00e9\\n\",\"c\":[1,{\"d\":null}]," + meta, nd[0]);
        assertEquals("{" + meta, nd[1]);
        // a row's own _meta_* fields are replaced by the server's
        JsonNode third = Json.parse(nd[2].getBytes(StandardCharsets.UTF_8));
        assertEquals("kept", third.path("_meta_dataset").asText());
        assertEquals("2026-06-15T12:00:00.000Z", third.path("_meta_ts").asText());
        assertEquals(1, third.path("e").asInt());
        JsonNode page = t.user().get("/user/data/get?dataset=kept").json().path("rows");
        assertEquals(1.5, page.get(0).path("a").asDouble());
        assertEquals(t.userId(), page.get(1).path("_meta_user_id").asLong());
    }

    /** The values of field {@code a} in the dataset's rows, paged {@code limit} at a time in {@code order}. */
    private static List<Integer> paged(Tenant t, String dataset, int limit, String order) {
        List<Integer> out = new ArrayList<>();
        String cursor = null;
        do {
            JsonNode page = t.user().get("/user/data/get?dataset=" + dataset + "&limit=" + limit + "&order=" + order
                    + (cursor == null ? "" : "&cursor=" + cursor)).json();
            page.path("rows").forEach(r -> out.add(r.path("a").asInt()));
            cursor = page.path("next_cursor").isNull() ? null : page.path("next_cursor").asText();
        } while (cursor != null);
        return out;
    }

    @Test
    void interleavedAppendsOfTwoDatasetsPageAndDownloadEachInItsOwnOrder() {
        Tenant t = Tenant.create(server);
        Tenant other = Tenant.create(server);
        int a = 0;
        int b = 100;
        for (int round = 0; round < 4; round++) {
            for (int n = 0; n < round + 1; n++, a++) {
                append(t, "left", "/user/data/append_jsonl?dataset=left", "{\"a\": " + a + "}");
            }
            StringBuilder rows = new StringBuilder();
            for (int n = 0; n < 3; n++, b++) {
                rows.append("{\"a\": ").append(b).append("}\n");
            }
            append(t, "right", "/user/data/append_jsonl?dataset=right", rows.toString());
            append(other, "left", "/user/data/append_jsonl?dataset=left", "{\"a\": -1}\n{\"a\": -2}");
        }
        List<Integer> left = java.util.stream.IntStream.range(0, 10).boxed().toList();
        List<Integer> right = java.util.stream.IntStream.range(100, 112).boxed().toList();
        for (int limit : new int[] {1, 2, 3, 7, 100}) {
            assertEquals(left, paged(t, "left", limit, "asc"), "limit " + limit);
            assertEquals(right, paged(t, "right", limit, "asc"), "limit " + limit);
            assertEquals(left.reversed(), paged(t, "left", limit, "desc"), "limit " + limit);
            assertEquals(right.reversed(), paged(t, "right", limit, "desc"), "limit " + limit);
        }
        assertEquals(List.of(-1, -2, -1, -2, -1, -2, -1, -2), paged(other, "left", 3, "asc"));
        String[] nd = t.user().get("/user/data/get?dataset=left&format=ndjson").text().split("\n");
        assertEquals(10, nd.length);
        for (int i = 0; i < nd.length; i++) {
            JsonNode row = Json.parse(nd[i].getBytes(StandardCharsets.UTF_8));
            assertEquals(i, row.path("a").asInt());
            assertEquals("left", row.path("_meta_dataset").asText());
            assertEquals(t.userId(), row.path("_meta_user_id").asLong());
        }
        JsonNode list = t.user().get("/user/data/list").json().path("datasets");
        assertEquals(10, list.get(0).path("rows").asInt(), list.toString());
        assertEquals(12, list.get(1).path("rows").asInt(), list.toString());
    }

    @Test
    void aLargeAppendIsStoredInSegmentsAndReadBackAsOne() {
        Tenant t = Tenant.create(server);
        StringBuilder rows = new StringBuilder();
        for (int i = 0; i < 2500; i++) {
            rows.append("{\"a\": ").append(i).append(", \"pad\": \"").append(i < 2000 ? "" : "x".repeat(4000)).append("\"}\n");
        }
        JsonNode answer = append(t, "big", "/user/data/append_jsonl?dataset=big", rows.toString());
        assertEquals(2500, answer.path("appended").asInt());
        append(t, "big", "/user/data/append_jsonl?dataset=big", "{\"a\": 2500}");
        List<Integer> all = java.util.stream.IntStream.rangeClosed(0, 2500).boxed().toList();
        assertEquals(all, paged(t, "big", 999, "asc"));
        assertEquals(all.reversed(), paged(t, "big", 1001, "desc"));
        Database db = server.running().db();
        List<long[]> segments = db.read(h -> h.createQuery("""
                        SELECT s.row_count, length(s.json) FROM dataset_segments s JOIN datasets d ON d.id = s.dataset_id
                        WHERE d.user_id = :user ORDER BY first_row_id""").bind("user", t.userId())
                .map((rs, ctx) -> new long[] {rs.getLong(1), rs.getLong(2)}).list());
        // 2,500 rows of about 1 KB on average: 1,000 rows would be over 512 KB, so segments of about 500
        assertTrue(segments.size() > 4, segments.size() + " segments");
        assertEquals(2501, segments.stream().mapToLong(x -> x[0]).sum());
        assertTrue(segments.stream().allMatch(x -> x[0] <= 1000), "at most 1,000 rows a segment");
        String[] nd = t.user().get("/user/data/get?dataset=big&format=ndjson").text().split("\n");
        assertEquals(2501, nd.length);
        assertEquals(2499, Json.parse(nd[2499].getBytes(StandardCharsets.UTF_8)).path("a").asInt());
    }

    @Test
    void aDeletedUsersRowsGoWithThemAndOthersStay() {
        Tenant gone = Tenant.create(server);
        Tenant stays = Tenant.create(server);
        append(gone, "d", "/user/data/append_jsonl?dataset=d", "{\"a\": 1}\n{\"a\": 2}");
        append(stays, "d", "/user/data/append_jsonl?dataset=d", "{\"a\": 3}");
        append(gone, "e", "/user/data/append_jsonl?dataset=e", "{\"a\": 4}");
        Database db = server.running().db();
        String stored = "SELECT coalesce(sum(row_count), 0) FROM dataset_segments";
        long before = db.read(h -> h.createQuery(stored).mapTo(long.class).one());
        assertEquals(200, server.owner().delete("/api/users/" + gone.userId()).status());
        assertEquals(before - 3, (long) db.read(h -> h.createQuery(stored).mapTo(long.class).one()));
        assertEquals(List.of(3), paged(stays, "d", 10, "asc"));
    }

    @Test
    void rowsStoredOnePerRecordReadBackAsBeforeFromSegments() {
        String token = "sbu_rows-before-segments";
        // a database as migration 019 left it: rows from before 017 (their _meta_* fields inside) and after it, of two
        // datasets in turn
        servedAfter(dir -> scorebook.store.OlderSchema.openBefore(dir, 20), TestServer::startOn, token, (db, user) ->
                db.write(h -> {
                    h.execute("INSERT INTO datasets (id, user_id, name, rows, created_at) VALUES (1, ?, 'old', 4, "
                            + "'2026-01-01T00:00:00.000Z'), (2, ?, 'mix', 2, '2026-01-01T00:00:00.000Z')", user, user);
                    String meta = ",\"_meta_user_id\":" + user + ",\"_meta_dataset\":\"%s\",\"_meta_ts\":\"%s\"}";
                    h.execute("INSERT INTO dataset_rows (id, dataset_id, data) VALUES (1, 1, ?), (2, 1, ?), (3, 2, ?)",
                            "{\"a\":1" + meta.formatted("old", "2026-02-01T10:00:00.123Z"),
                            "{\"a\":2" + meta.formatted("old", "2026-02-01T10:00:00.123Z"),
                            "{\"a\":3" + meta.formatted("mix", "2026-02-02T10:00:00.000Z"));
                    h.execute("INSERT INTO dataset_rows (id, dataset_id, data, received_ms) VALUES (4, 1, '{\"a\":4}', ?),"
                            + " (5, 2, '{\"a\":5}', ?), (6, 1, '{\"a\":6}', ?)", 1_780_000_000_000L, 1_780_000_000_000L,
                            1_780_000_000_000L);
                    return null;
                }), (restarted, user) -> {
                    Client c = restarted.client(token);
                    String nd = c.get("/user/data/get?dataset=old&format=ndjson").text();
                    String meta = ",\"_meta_user_id\":" + user + ",\"_meta_dataset\":\"%s\",\"_meta_ts\":\"%s\"}";
                    String later = scorebook.store.IsoTime.format(1_780_000_000_000L);
                    assertEquals(String.join("\n", "{\"a\":1" + meta.formatted("old", "2026-02-01T10:00:00.123Z"),
                            "{\"a\":2" + meta.formatted("old", "2026-02-01T10:00:00.123Z"), "{\"a\":4" + meta.formatted("old", later),
                            "{\"a\":6" + meta.formatted("old", later)) + "\n", nd);
                    JsonNode mix = c.get("/user/data/get?dataset=mix&order=desc").json().path("rows");
                    assertEquals(2, mix.size(), mix.toString());
                    assertEquals(5, mix.get(0).path("a").asInt());
                    assertEquals("2026-02-02T10:00:00.000Z", mix.get(1).path("_meta_ts").asText());
                    // runs of one dataset and time: old 1-2, mix 3, old 4, mix 5, old 6; and the new append
                    c.post("/user/data/append_jsonl?dataset=mix", "{\"a\": 7}");
                    JsonNode after = c.get("/user/data/get?dataset=mix&order=desc&limit=1").json().path("rows").get(0);
                    assertEquals(7, after.path("a").asInt());
                    String cursor = c.get("/user/data/get?dataset=mix&limit=1&order=desc").json().path("next_cursor").asText();
                    assertEquals("7", new String(java.util.Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8),
                            "ids go on from the old rows'");
                    assertEquals(6, (long) restarted.running().db().read(h -> h.createQuery(
                            "SELECT count(*) FROM dataset_segments").mapTo(long.class).one()));
                });
    }

    @Test
    void theUsageRowsOfAnAppendFollowTheAdapterItWasAnsweredWith() {
        Tenant t = Tenant.create(server);
        t.user().post("/user/data/save_adapter", DatasetsTest.ADAPTER);
        JsonNode a = append(t, "srv", "/user/data/append_jsonl?dataset=srv", rows(0, 4));
        assertEquals(3, a.path("usage_recorded").asInt());
        // a new adapter before any usage answer: the rows appended under the old one keep its mapping
        t.user().post("/user/data/save_adapter", DatasetsTest.ADAPTER.replace("\"latency_ms_field\": \"latency_ms\"",
                "\"latency_ms_field\": \"prompt_tokens\""));
        JsonNode s = t.user().get("/usage/summary?from=2025-12-01&to=2025-12-31&dataset=srv").json();
        assertEquals(3, s.path("requests").asLong());
        assertEquals(902.0, s.path("latency_ms").path("max").asDouble(), s.toString());
        JsonNode raw = t.user().get("/usage?view=raw&from=2025-12-01&to=2025-12-31&dataset=srv").json().path("events");
        assertEquals(3, raw.size());
        // the next append reads the new adapter (latency from prompt_tokens, 50)
        append(t, "srv", "/user/data/append_jsonl?dataset=srv", rows(4, 4));
        JsonNode after = t.user().get("/usage?view=raw&from=2025-12-01&to=2025-12-31&dataset=srv").json().path("events");
        assertEquals(7, after.size(), after.toString());
        int fifty = 0;
        for (JsonNode e : after) {
            fifty += e.path("latency_ms").asDouble() == 50.0 ? 1 : 0;
        }
        assertEquals(4, fifty, "the four new rows, \"slow\" latency or not, map prompt_tokens: " + after);
    }

    @Test
    void theBackgroundFoldMakesOwedUsageRowsWithoutBeingAsked() throws InterruptedException {
        Tenant t = Tenant.create(server);
        t.user().post("/user/data/save_adapter", DatasetsTest.ADAPTER);
        append(t, "srv", "/user/data/append_jsonl?dataset=srv", rows(0, 4));
        Database db = server.running().db();
        // no usage answer is asked: the fold's own thread makes them (within a few of its checks)
        for (int i = 0; i < 600 && owed(db) > 0; i++) {
            Thread.sleep(50);
        }
        assertEquals(0, owed(db));
        assertEquals(3L, (long) db.read(h -> h.createQuery(
                "SELECT count(*) FROM usage_events WHERE user_id = :u AND source_kind = 'dataset'")
                .bind("u", t.userId()).mapTo(long.class).one()));
    }

    /** A user made straight in the database, who signs in with {@code token}. */
    private static long userWithToken(Database db, String token) {
        return db.write(h -> h.createQuery("""
                        INSERT INTO users (name, token_hash, created_at) VALUES ('u', :hash, '2026-01-01T00:00:00.000Z')
                        RETURNING id""").bind("hash", Tokens.hash(token)).mapTo(long.class).one());
    }

    private static long owed(Database db) {
        return db.read(h -> h.createQuery("SELECT count(*) FROM usage_from_datasets").mapTo(long.class).one());
    }

    @Test
    void usageRowsOwedWhenTheServerStoppedAreMadeAfterItStarts() {
        String token = "sbu_owed-usage-rows";
        servedAfter(Database::open, dir -> TestServer.start(ServerConfig.local(dir, TestServer.OWNER_TOKEN)
                .withClock(Clock.fixed(NOW, ZoneOffset.UTC))), token, (db, user) -> {
                    byte[] json = ("[" + String.join(",", rows(0, 4).strip().split("\n")) + "]").getBytes(StandardCharsets.UTF_8);
                    String mapping = DatasetsTest.ADAPTER;
                    // what an append commits; the server that made it stops before its fold
                    new DatasetStore(db).append(user, "srv", NOW.toEpochMilli(), new RowScan.Rows("srv", json, 0, json.length, 4),
                            mapping);
                    assertEquals(1, owed(db));
                }, (restarted, user) -> {
                    JsonNode s = restarted.client(token).get("/usage/summary?from=2025-12-01&to=2025-12-31").json();
                    assertEquals(3, s.path("requests").asLong(), s.toString());
                    assertEquals(0, owed(restarted.running().db()));
                    JsonNode m = restarted.client(token).get("/user/data/metrics?dataset=srv").json();
                    assertEquals(3, m.path("usage_rows").asInt(), m.toString());
                    assertEquals(user, restarted.client(token).get("/user/data/get?dataset=srv").json().path("rows").get(0)
                            .path("_meta_user_id").asLong());
                });
    }

    /**
     * A folder's database, opened by {@code open}, gets a user who signs in with {@code token} and what
     * {@code prepare} stores; then a server started on the folder by {@code start} is {@code check}ed.
     */
    private static void servedAfter(java.util.function.Function<Path, Database> open,
                                    java.util.function.Function<Path, TestServer> start, String token,
                                    java.util.function.ObjLongConsumer<Database> prepare,
                                    java.util.function.ObjLongConsumer<TestServer> check) {
        Path dir = TestServer.tempDir();
        try {
            long user;
            try (Database db = open.apply(dir)) {
                user = userWithToken(db, token);
                prepare.accept(db, user);
            }
            try (TestServer restarted = start.apply(dir)) {
                check.accept(restarted, user);
            }
        } finally {
            TestServer.deleteTree(dir);
        }
    }

    @Test
    void retentionMakesTheUsageRowsARowOwesBeforeDeletingIt() {
        Path dir = TestServer.tempDir();
        try (Database db = Database.open(dir)) {
            long user = db.write(h -> h.createQuery("""
                            INSERT INTO users (name, token_hash, created_at) VALUES ('u', 'x', '2026-01-01T00:00:00.000Z')
                            RETURNING id""").mapTo(long.class).one());
            byte[] json = ("[" + String.join(",", rows(0, 4).strip().split("\n")) + "]").getBytes(StandardCharsets.UTF_8);
            DatasetStore store = new DatasetStore(db);
            long old = NOW.toEpochMilli() - 30L * 86_400_000L;
            store.append(user, "srv", old, new RowScan.Rows("srv", json, 0, json.length, 4), DatasetsTest.ADAPTER);
            assertEquals(1, owed(db));
            assertEquals(4, store.deleteRowsBefore(user, NOW.toEpochMilli() - 86_400_000L, 100));
            assertEquals(0, owed(db));
            assertEquals(3L, (long) db.read(h -> h.createQuery(
                    "SELECT count(*) FROM usage_events WHERE user_id = :u AND source_kind = 'dataset'")
                    .bind("u", user).mapTo(long.class).one()), "the three rows that fit kept their usage rows");
        } finally {
            TestServer.deleteTree(dir);
        }
    }

    /** Appends {@code n} rows {"a": 0..n-1} received at {@code atMs}. */
    private static void appendAt(DatasetStore store, long user, String dataset, int n, long atMs) {
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < n; i++) {
            s.append(i == 0 ? "" : ",").append("{\"a\": ").append(i).append('}');
        }
        byte[] json = s.append(']').toString().getBytes(StandardCharsets.UTF_8);
        store.append(user, dataset, atMs, new RowScan.Rows(dataset, json, 0, json.length, n), null);
    }

    @Test
    void retentionTakesWholeExpiredSegmentsOldestFirstAboutLimitRowsAtATime() {
        Path dir = TestServer.tempDir();
        try (Database db = Database.open(dir)) {
            long user = userWithToken(db, "sbu_retention-segments");
            DatasetStore store = new DatasetStore(db);
            appendAt(store, user, "d", 2, 1_000);
            appendAt(store, user, "e", 3, 1_500);
            appendAt(store, user, "d", 2, 2_000);
            appendAt(store, user, "d", 2, 3_000);
            appendAt(store, user, "d", 1, 10_000);
            // d: segments of 2 rows with 0, 2 and 4 rows before them: two go (fewer than 3 rows came before each)
            assertEquals(4 + 3, store.deleteRowsBefore(user, 5_000, 3));
            assertEquals(2, store.deleteRowsBefore(user, 5_000, 3));
            assertEquals(0, store.deleteRowsBefore(user, 5_000, 3));
            DatasetStore.Dataset d = store.find(user, "d").orElseThrow();
            assertEquals(1, d.rows());
            assertEquals(scorebook.store.IsoTime.format(10_000), d.firstTs());
            assertEquals(List.of(10_000L), store.page(d.id(), 10, false, null).stream()
                    .map(DatasetStore.StoredRow::receivedMs).toList());
            DatasetStore.Dataset e = store.find(user, "e").orElseThrow();
            assertEquals(0, e.rows());
            assertEquals(null, e.firstTs());
        } finally {
            TestServer.deleteTree(dir);
        }
    }

    @Test
    void badLinesAre422NamingTheRowAndStoreNothing() {
        Tenant t = Tenant.create(server);
        t.user().post("/user/data/save_adapter", DatasetsTest.ADAPTER);
        Client.Response notObject = t.user().post("/user/data/append_jsonl?dataset=srv", "{\"a\": 1}\n[1]\n");
        assertEquals(422, notObject.status(), notObject.text());
        assertTrue(notObject.json().path("detail").asText().contains("rows[1]"), notObject.text());
        Client.Response huge = t.user().post("/user/data/append_jsonl?dataset=srv", "{\"a\": 1}\n{\"b\": {\"c\": 1e400}}\n");
        assertEquals(422, huge.status(), huge.text());
        assertTrue(huge.json().path("detail").asText().contains("rows[1].b.c"), huge.text());
        Client.Response broken = t.user().post("/user/data/append_jsonl?dataset=srv", "{\"a\": 1}\n{\"a\": \n");
        assertEquals(400, broken.status(), broken.text());
        assertTrue(broken.json().path("detail").asText().contains("line 2"), broken.text());
        Client.Response empty = t.user().post("/user/data/append_jsonl?dataset=srv", "\n \n");
        assertEquals(422, empty.status(), empty.text());
        assertEquals(0, t.user().get("/user/data/list").json().path("datasets").get(0).path("rows").asInt());
        assertEquals(0, t.user().get("/usage/summary?from=2025-12-01&to=2025-12-31").json().path("requests").asLong());
    }
}
