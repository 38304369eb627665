package scorebook.datasets;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.server.Json;
import scorebook.server.ServerConfig;
import scorebook.testing.Client;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The datasets API over a real server: appends with and without adapters, bad rows and names, reads, metrics. */
class DatasetsTest {
    static final Instant NOW = Instant.parse("2026-06-15T12:00:00Z");
    static final String ADAPTER = """
            {"dataset": "srv", "enabled": true, "x_field": "ts", "device_field": "device", "model_field": "model",
             "prompt_tokens_field": "prompt_tokens", "completion_tokens_field": "completion_tokens",
             "latency_ms_field": "latency_ms", "ttft_ms_field": "ttft_ms",
             "extra_fields": [{"label": "GPU power (W)", "field": "gpu_power_w", "kind": "number"},
                              {"label": "CPU usage (%)", "field": "cpu_usage_pct", "kind": "number"}]}""";

    @AutoClose
    static final TestServer server = TestServer.start(ServerConfig.local(TestServer.tempDir(), TestServer.OWNER_TOKEN)
            .withClock(Clock.fixed(NOW, ZoneOffset.UTC)));

    static String row(String ts, Object latency, double gpu) {
        return Json.text(Json.fields("ts", ts, "device", "server-1", "model", "llama3-8b", "prompt_tokens", 50,
                "completion_tokens", 120, "latency_ms", latency, "ttft_ms", 220, "gpu_power_w", gpu, "cpu_usage_pct", 60.3));
    }

    private long usageRows(Tenant t) {
        server.running().parts().devices().usage().flush(Duration.ofSeconds(10));
        return t.user().get("/usage/summary?dataset=srv&from=2024-01-01").json().path("requests").asLong();
    }

    @Test
    void adapterTurnsFittingRowsIntoUsageRowsAndListsTheOthers() {
        Tenant t = Tenant.create(server);
        Client.Response saved = t.user().post("/user/data/save_adapter", ADAPTER);
        assertEquals(200, saved.status(), saved.text());
        JsonNode got = t.user().get("/user/data/get_adapter?dataset=srv").json();
        assertEquals("ts", got.path("x_field").asText());
        assertEquals("GPU power (W)", got.path("extra_fields").get(0).path("label").asText());
        String body = "{\"dataset\": \"srv\", \"rows\": [" + row("2025-12-03T18:00:00Z", 900, 45.5) + ","
                + row("2025-12-03T18:05:00Z", "950", 48.2) + "," + row("2025-12-03T18:10:00Z", "fast", 50) + ","
                + "{\"device\": \"server-1\", \"latency_ms\": 5}," + row("1733249100", 1000, 47.0) + "]}";
        Client.Response r = t.user().post("/user/data/append_jsonl", body);
        assertEquals(200, r.status(), r.text());
        JsonNode a = r.json();
        assertTrue(a.path("ok").asBoolean());
        assertEquals(5, a.path("appended").asInt());
        assertEquals(3, a.path("usage_recorded").asInt());
        assertEquals(2, a.path("skipped").size());
        assertEquals(2, a.path("skipped").get(0).path("index").asInt());
        assertTrue(a.path("skipped").get(0).path("reason").asText().contains("latency_ms"));
        assertEquals(3, a.path("skipped").get(1).path("index").asInt());
        assertTrue(a.path("skipped").get(1).path("reason").asText().contains("ts"));
        assertEquals(3, usageRows(t));
        JsonNode s = t.user().get("/usage/summary?dataset=srv&from=2025-12-01&to=2025-12-31").json();
        assertEquals(900.0, s.path("latency_ms").path("p50").asDouble(), 900 * 0.01);
        JsonNode gpu = s.path("extra").path("GPU power (W)");
        assertEquals(2, gpu.path("n").asInt());
        assertEquals(45.5, gpu.path("min").asDouble());
        assertEquals(48.2, gpu.path("max").asDouble());
        JsonNode raw = t.user().get("/usage?view=raw&from=2025-12-01&to=2025-12-31").json().path("events").get(0);
        assertEquals("dataset", raw.path("source_kind").asText());
        assertEquals("srv", raw.path("dataset").asText());
        // rows come back with the _meta fields, in order, paged
        JsonNode page = t.user().get("/user/data/get?dataset=srv&limit=2").json();
        assertEquals(2, page.path("rows").size());
        JsonNode first = page.path("rows").get(0);
        assertEquals(t.userId(), first.path("_meta_user_id").asLong());
        assertEquals("srv", first.path("_meta_dataset").asText());
        assertEquals("2026-06-15T12:00:00.000Z", first.path("_meta_ts").asText());
        assertEquals(900, first.path("latency_ms").asInt());
        JsonNode next = t.user().get("/user/data/get?dataset=srv&limit=2&cursor=" + page.path("next_cursor").asText()).json();
        assertEquals("fast", next.path("rows").get(0).path("latency_ms").asText());
        JsonNode desc = t.user().get("/user/data/get?dataset=srv&order=desc&limit=10").json();
        assertEquals(5, desc.path("rows").size());
        assertTrue(desc.path("next_cursor").isNull());
        assertEquals(1000, desc.path("rows").get(0).path("latency_ms").asInt());
        String nd = t.user().get("/user/data/get?dataset=srv&format=ndjson").text();
        assertEquals(5, nd.strip().split("\n").length);
        JsonNode list = t.user().get("/user/data/list").json().path("datasets");
        assertEquals(1, list.size());
        assertEquals("srv", list.get(0).path("name").asText());
        assertEquals(5, list.get(0).path("rows").asInt());
        assertTrue(list.get(0).path("adapter_enabled").asBoolean());
        assertEquals("2026-06-15T12:00:00.000Z", list.get(0).path("first_ts").asText());
        // metrics: exact stats of every mapped numeric field, extras under their labels
        JsonNode m = t.user().get("/user/data/metrics?dataset=srv&bucket=1h").json();
        JsonNode lat = m.path("fields").path("latency_ms");
        assertEquals(3, lat.path("count").asInt());
        assertEquals(900.0, lat.path("min").asDouble());
        assertEquals(1000.0, lat.path("max").asDouble());
        assertEquals(950.0, lat.path("p50").asDouble());
        assertEquals(950.0, lat.path("avg").asDouble(), 1e-9);
        assertEquals(3, m.path("fields").path("GPU power (W)").path("count").asInt());
        assertFalse(m.path("fields").path("GPU power (W)").path("series").isEmpty());
        // §3.13: the usage summary and series of the dataset's events as well
        assertEquals(3, m.path("summary").path("requests").asInt(), m.path("summary").toString());
        assertEquals(950.0, m.path("summary").path("latency_ms").path("avg").asDouble(), 1e-9);
        assertEquals(3, m.path("summary").path("extra").path("GPU power (W)").path("n").asInt());
        assertEquals("srv", m.path("summary").path("filters").path("dataset").get(0).asText(), m.path("summary").toString());
        int requests = 0;
        for (JsonNode p : m.path("series").get(0).path("points")) {
            requests += p.path("requests").asInt();
        }
        assertEquals(3, requests, m.path("series").toString());
        // bucket=auto picks as /usage does: 200 one-minute buckets cover 200 minutes
        String window = "from=2026-06-15T09:00:00Z&to=2026-06-15T12:20:00Z";
        assertEquals("1m", t.user().get("/user/data/metrics?dataset=srv&bucket=auto&" + window).json().path("bucket")
                .asText());
        assertEquals("1m", t.user().get("/usage?bucket=auto&" + window).json().path("bucket").asText());
    }

    @Test
    void withoutAnEnabledAdapterRowsAreStoredWithoutUsage() {
        Tenant t = Tenant.create(server);
        JsonNode a = t.user().post("/user/data/append_jsonl", "{\"dataset\": \"srv\", \"rows\": [" + row("2025-12-03T18:00:00Z", 900, 1)
                + "]}").json();
        assertEquals(1, a.path("appended").asInt());
        assertEquals(0, a.path("usage_recorded").asInt());
        t.user().post("/user/data/save_adapter", ADAPTER.replace("\"enabled\": true", "\"enabled\": false"));
        assertEquals(0, t.user().post("/user/data/append_jsonl", "{\"dataset\": \"srv\", \"rows\": [" + row("2025-12-03T18:00:00Z", 900, 1)
                + "]}").json().path("usage_recorded").asInt());
        assertFalse(t.user().get("/user/data/list").json().path("datasets").get(0).path("adapter_enabled").asBoolean());
        assertEquals(0, usageRows(t));
        // NDJSON with ?dataset=
        Client.Response nd = t.user().post("/user/data/append_jsonl?dataset=other", "{\"a\": 1}\n{\"a\": 2}\n",
                "Content-Type", "application/x-ndjson");
        assertEquals(200, nd.status(), nd.text());
        assertEquals(2, nd.json().path("appended").asInt());
        // the Java entry point for other features
        Datasets ds = server.running().parts().datasets();
        assertTrue(ds.exists(t.userId(), "other"));
        assertFalse(ds.exists(t.userId(), "nope"));
        ObjectNode row = Json.MAPPER.createObjectNode().put("x", 1);
        assertEquals(1, ds.append(t.userId(), "other", List.of(row), false).appended());
        assertEquals(3, t.user().get("/user/data/get?dataset=other").json().path("rows").size());
    }

    @Test
    void badRowsAndNamesAre422AndStoreNothing() {
        Tenant t = Tenant.create(server);
        t.user().post("/user/data/save_adapter", ADAPTER);
        for (String name : new String[] {"../etc", "a/b", "", ".hidden", "x".repeat(129), "a b"}) {
            Client.Response r = t.user().post("/user/data/append_jsonl",
                    Json.text(Json.fields("dataset", name, "rows", List.of(Json.fields("a", 1)))));
            assertEquals(422, r.status(), name + ": " + r.text());
            assertEquals("invalid", r.errorCode());
        }
        Client.Response notObject = t.user().post("/user/data/append_jsonl", "{\"dataset\": \"srv\", \"rows\": [{\"a\": 1}, 5]}");
        assertEquals(422, notObject.status());
        assertTrue(notObject.json().path("detail").asText().contains("rows[1]"));
        Client.Response huge = t.user().post("/user/data/append_jsonl", "{\"dataset\": \"srv\", \"rows\": [{\"latency_ms\": 1e400}]}");
        assertEquals(422, huge.status(), huge.text());
        assertEquals(400, t.user().post("/user/data/append_jsonl", "{\"dataset\": ").status());
        assertEquals(422, t.user().post("/user/data/append_jsonl", "{\"dataset\": \"srv\", \"rows\": 3}").status());
        assertEquals(0, t.user().get("/user/data/list").json().path("datasets").get(0).path("rows").asInt());
        // values that do not fit a usage row: the row is stored, no usage row
        JsonNode big = t.user().post("/user/data/append_jsonl", "{\"dataset\": \"srv\", \"rows\": ["
                + "{\"ts\": \"2025-12-03T18:00:00Z\", \"prompt_tokens\": 1e12},"
                + "{\"ts\": \"not a time\", \"latency_ms\": 5},"
                + "{\"ts\": \"2025-12-03T18:00:00Z\", \"latency_ms\": -5}]}").json();
        assertEquals(3, big.path("appended").asInt());
        assertEquals(0, big.path("usage_recorded").asInt());
        assertEquals(3, big.path("skipped").size());
        // adapters: wrong types and kinds are 422, saving again replaces
        for (String bad : new String[] {"{\"dataset\": \"srv\", \"x_field\": 5}",
            "{\"dataset\": \"srv\", \"enabled\": \"yes\"}",
            "{\"dataset\": \"srv\", \"extra_fields\": [{\"label\": \"x\", \"field\": \"y\", \"kind\": \"string\"}]}",
            "{\"dataset\": \"srv\", \"extra_fields\": [{\"label\": 3, \"field\": \"y\"}]}",
            "{\"dataset\": \"srv\", \"extra_fields\": {}}", "{\"dataset\": \"../srv\"}"}) {
            assertEquals(422, t.user().post("/user/data/save_adapter", bad).status(), bad);
        }
        assertEquals("ts", t.user().get("/user/data/get_adapter?dataset=srv").json().path("x_field").asText());
        t.user().post("/user/data/save_adapter", "{\"dataset\": \"srv\", \"x_field\": \"time\"}");
        JsonNode replaced = t.user().get("/user/data/get_adapter?dataset=srv").json();
        assertEquals("time", replaced.path("x_field").asText());
        assertTrue(replaced.path("extra_fields").isEmpty());
    }

    @Test
    void usersSeeOnlyTheirOwnDatasets() {
        Tenant a = Tenant.create(server);
        Tenant b = Tenant.create(server);
        a.user().post("/user/data/save_adapter", ADAPTER);
        a.user().post("/user/data/append_jsonl", "{\"dataset\": \"srv\", \"rows\": [{\"x\": 1}]}");
        assertEquals(404, b.user().get("/user/data/get?dataset=srv").status());
        assertEquals(404, b.user().get("/user/data/get_adapter?dataset=srv").status());
        assertEquals(404, b.user().get("/user/data/metrics?dataset=srv").status());
        assertTrue(b.user().get("/user/data/list").json().path("datasets").isEmpty());
        assertEquals(404, a.user().get("/user/data/get_adapter?dataset=none").status());
        a.user().post("/user/data/append_jsonl", "{\"dataset\": \"plain\", \"rows\": []}");
        assertEquals(404, a.user().get("/user/data/get_adapter?dataset=plain").status());
        assertEquals(401, server.client(null).get("/user/data/list").status());
        assertEquals(405, a.user().get("/user/data/append_jsonl").status());
        assertEquals(422, a.user().get("/user/data/get?dataset=srv&limit=10001").status());
    }
    /** The editor's preview maps stored rows by the append's own rules, saves nothing, and refuses what a save refuses. */
    @Test
    void previewMapsTheNewestRowsAsAnAppendWouldWithoutSaving() {
        Tenant t = Tenant.create(server);
        String body = "{\"dataset\": \"srv\", \"rows\": [" + row("2025-12-03T18:00:00Z", 900, 45.5) + ","
                + row("2025-12-03T18:05:00Z", "fast", 48.2) + "," + row("2025-12-03T18:10:00Z", "950", 50) + "]}";
        assertEquals(200, t.user().post("/user/data/append_jsonl", body).status());
        Client.Response preview = t.user().post("/user/data/preview_adapter?limit=2", ADAPTER);
        assertEquals(200, preview.status(), preview.text());
        JsonNode rows = preview.json().path("rows");
        assertEquals(2, rows.size(), "the limit, newest first: " + rows);
        JsonNode newest = rows.get(0);
        assertEquals("2025-12-03T18:10:00Z", newest.path("row").path("ts").asText());
        assertEquals("srv", newest.path("row").path("_meta_dataset").asText());
        assertTrue(newest.path("skipped").isNull(), newest.toString());
        JsonNode usage = newest.path("usage");
        assertEquals("2025-12-03T18:10:00.000Z", usage.path("ts").asText());
        assertEquals("server-1", usage.path("device").asText());
        assertEquals(950.0, usage.path("latency_ms").asDouble(), "\"950\" is read as 950, as an append reads it");
        assertEquals(50.0, usage.path("extra").path("GPU power (W)").asDouble());
        assertEquals(60.3, usage.path("extra").path("CPU usage (%)").asDouble());
        JsonNode bad = rows.get(1);
        assertTrue(bad.path("usage").isNull(), bad.toString());
        // the reason an append gives for the same row
        Client.Response appended = t.user().post("/user/data/save_adapter", ADAPTER);
        assertEquals(200, appended.status());
        JsonNode skipped = t.user().post("/user/data/append_jsonl", "{\"dataset\": \"srv\", \"rows\": ["
                + row("2025-12-03T18:05:00Z", "fast", 48.2) + "]}").json().path("skipped").get(0);
        assertEquals(skipped.path("reason").asText(), bad.path("skipped").asText());
        // nothing saved by a preview: another adapter previewed leaves the saved one
        Client.Response other = t.user().post("/user/data/preview_adapter",
                "{\"dataset\": \"srv\", \"enabled\": false, \"latency_ms_field\": \"device\"}");
        assertEquals(200, other.status(), other.text());
        assertFalse(other.json().path("enabled").asBoolean());
        assertTrue(other.json().path("rows").get(0).path("skipped").asText().startsWith("'device' must be a number"),
                other.text());
        assertEquals("latency_ms", t.user().get("/user/data/get_adapter?dataset=srv").json().path("latency_ms_field").asText());
        // refused as a save would be, and no such dataset
        assertEquals(422, t.user().post("/user/data/preview_adapter", "{\"dataset\": \"srv\", \"x_field\": 5}").status());
        assertEquals(422, t.user().post("/user/data/preview_adapter", ADAPTER.replace("\"srv\"", "\"../etc\"")).status());
        assertEquals(422, t.user().post("/user/data/preview_adapter?limit=101", ADAPTER).status());
        assertEquals(404, t.user().post("/user/data/preview_adapter", ADAPTER.replace("\"srv\"", "\"nope\"")).status());
        assertEquals(404, Tenant.create(server).user().post("/user/data/preview_adapter", ADAPTER).status(),
                "another user's dataset");
        assertEquals(405, t.user().get("/user/data/preview_adapter").status());
    }
}
