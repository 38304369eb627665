package scorebook.retention;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;
import scorebook.server.ServerConfig;
import scorebook.testing.Client;
import scorebook.testing.DbChecksum;
import scorebook.testing.Tenant;
import scorebook.testing.TestClock;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Retention settings, and the task that drops old rows in batches while the rollups keep long-range answers whole. */
class RetentionTest {
    static final Instant START = Instant.parse("2026-03-01T12:00:00Z");
    static final TestClock clock = new TestClock(START);

    @AutoClose
    static final TestServer server = TestServer.start(ServerConfig.local(TestServer.tempDir(), TestServer.OWNER_TOKEN)
            .withClock(clock));

    private static Retention retention() {
        return server.running().parts().retention();
    }

    @Test
    void settingsDefaultToForeverAndRoundTrip() {
        Tenant t = Tenant.create(server);
        JsonNode none = t.user().get("/api/retention").json();
        assertTrue(none.path("usage_days").isNull() && none.path("dataset_days").isNull() && none.path("job_days").isNull(),
                none.toString());
        Client.Response put = t.user().put("/api/retention", "{\"usage_days\":90,\"job_days\":7}");
        assertEquals(200, put.status(), put.text());
        JsonNode got = t.user().get("/api/retention").json();
        assertEquals(90, got.path("usage_days").asInt());
        assertTrue(got.path("dataset_days").isNull());
        assertEquals(7, got.path("job_days").asInt());
        // one user's settings are theirs alone
        assertTrue(Tenant.create(server).user().get("/api/retention").json().path("usage_days").isNull());
        assertEquals(401, server.client(null).get("/api/retention").status());
    }

    @Test
    void badSettingsAre422NamingTheFieldAndChangeNothing() {
        Tenant t = Tenant.create(server);
        assertEquals(200, t.user().put("/api/retention", "{\"usage_days\":30}").status());
        Map<String, String> before = DbChecksum.of(server.dataDir(), java.util.Set.of("sessions"));
        Map<String, String> cases = Map.of(
                "{\"usage_days\":0}", "usage_days", "{\"dataset_days\":-1}", "dataset_days",
                "{\"job_days\":1.5}", "job_days", "{\"usage_days\":\"7\"}", "usage_days",
                "{\"job_days\":36501}", "job_days", "{\"usage_days\":99999999999}", "usage_days",
                "{\"usage_days\":true}", "usage_days", "{\"keep\":3}", "keep", "[1]", "JSON object");
        cases.forEach((body, field) -> {
            Client.Response r = t.user().put("/api/retention", body);
            assertEquals(422, r.status(), body + " -> " + r.text());
            assertTrue(r.json().path("detail").asText().contains(field), r.text());
        });
        assertEquals(400, t.user().put("/api/retention", "{\"usage_days\":").status());
        assertEquals(List.of(), DbChecksum.changed(before, DbChecksum.of(server.dataDir(), java.util.Set.of("sessions"))));
        assertEquals(30, t.user().get("/api/retention").json().path("usage_days").asInt());
    }

    @Test
    void oldRawUsageGoesInBatchesAndTheWholeRangeSummaryStaysEqual() throws Exception {
        Tenant t = Tenant.create(server);
        Tenant other = Tenant.create(server);
        // 1,600 rows over the 40 days before now (more than two batches fall before the 10-day cutoff)
        StringBuilder rows = new StringBuilder("[");
        long now = clock.millis();
        int n = 1_600;
        for (int i = 0; i < n; i++) {
            long ts = now - 1 - (long) i * (40L * 86_400_000L / n);
            rows.append(i == 0 ? "" : ",").append(Json.text(Json.fields("ts", ts / 1000.0, "event_id", "e" + i,
                    "model", i % 2 == 0 ? "m1" : "m2", "device", "d" + i % 3, "prompt_tokens", 10 + i % 7,
                    "completion_tokens", 20, "latency_ms", 100.0 + i % 97, "ttft_ms", 5.0 + i % 13, "ok", i % 9 != 0)));
        }
        rows.append(']');
        assertEquals(200, t.user().post("/usage/import", rows.toString()).status());
        assertEquals(200, other.user().post("/usage/import", rows.toString()).status());
        String whole = "/usage/summary?from=2025-01-01T00:00:00Z&to=" + Instant.ofEpochMilli(now);
        String before = summary(t, whole);
        long rawBefore = count("SELECT count(*) FROM usage_events WHERE user_id = " + t.userId());
        assertEquals(n, rawBefore);

        assertEquals(200, t.user().put("/api/retention", "{\"usage_days\":10}").status());
        Retention.Swept swept = retention().sweep();
        long cutoff = retention().cutoff(10).toEpochMilli();
        long old = count("SELECT count(*) FROM usage_events WHERE user_id = " + t.userId() + " AND ts_ms < " + cutoff);
        assertEquals(0, old);
        long kept = count("SELECT count(*) FROM usage_events WHERE user_id = " + t.userId());
        assertTrue(kept > 0 && n - kept > 2L * Retention.BATCH, "kept " + kept);
        // (the server's own pass may have dropped some of them first, once an earlier test moved the clock past it)
        assertTrue(swept.usageRows() <= n - kept, swept.toString());
        assertEquals(before, summary(t, whole), "the rollups answer the whole range as before");
        // the other user keeps everything
        assertEquals(n, count("SELECT count(*) FROM usage_events WHERE user_id = " + other.userId()));
        // the freed pages went back to the file system
        assertEquals(2, count("PRAGMA auto_vacuum"));
        assertEquals(0, count("PRAGMA freelist_count"));
    }

    @Test
    void oldDatasetRowsAndFinishedJobsGoButRecentAndUnfinishedOnesStay() throws Exception {
        Tenant t = Tenant.create(server);
        assertEquals(200, t.user().post("/user/data/append_jsonl",
                "{\"dataset\":\"d\",\"rows\":[{\"a\":1},{\"a\":2},{\"a\":3}]}").status());
        String oldDone = job(t);
        assertEquals(200, t.user().post("/api/jobs/" + oldDone + "/cancel", "{}").status());
        String queued = job(t);
        clock.advance(Duration.ofDays(20));
        String recentTs = scorebook.store.IsoTime.format(clock.millis());
        assertEquals(200, t.user().post("/user/data/append_jsonl", "{\"dataset\":\"d\",\"rows\":[{\"a\":4}]}").status());
        String recentDone = job(t);
        assertEquals(200, t.user().post("/api/jobs/" + recentDone + "/cancel", "{}").status());

        assertEquals(200, t.user().put("/api/retention", "{\"dataset_days\":5,\"job_days\":5}").status());
        retention().sweep(); // the server's own pass, due since the clock moved 20 days, may have come first
        JsonNode list = t.user().get("/user/data/list").json().path("datasets").get(0);
        assertEquals(1, list.path("rows").asInt(), list.toString());
        assertEquals(recentTs, list.path("first_ts").asText(), "the first row left was received then");
        assertEquals(1, count("SELECT sum(s.row_count) FROM dataset_segments s JOIN datasets d ON d.id = s.dataset_id"
                + " WHERE d.user_id = " + t.userId()));
        assertEquals(404, t.user().get("/api/jobs/" + oldDone).status());
        assertEquals(200, t.user().get("/api/jobs/" + queued).status(), "an unfinished job stays however old");
        assertEquals(200, t.user().get("/api/jobs/" + recentDone).status());
    }

    private static String job(Tenant t) {
        Client.Response r = t.user().post("/api/jobs", "{\"prompt\":\"hi\",\"model\":\"none-such\"}");
        assertEquals(201, r.status(), r.text());
        return r.json().path("job_id").asText();
    }

    private static String summary(Tenant t, String path) {
        Client.Response r = t.user().get(path);
        assertEquals(200, r.status(), r.text());
        return r.json().toString();
    }

    private static long count(String sql) throws SQLException {
        Path file = server.dataDir().resolve("scorebook.db");
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement();
             ResultSet r = s.executeQuery(sql)) {
            r.next();
            return r.getLong(1);
        }
    }
}
