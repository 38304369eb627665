package scorebook.usage;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;
import scorebook.server.ServerConfig;
import scorebook.testing.Client;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** POST /usage/import and GET /usage/export.csv: formats, per-row errors with lines, strict, dry runs, the round trip. */
class UsageImportExportTest {
    @AutoClose
    static final TestServer server = TestServer.start(ServerConfig.local(TestServer.tempDir(), TestServer.OWNER_TOKEN)
            .withClock(Clock.fixed(UsageApiTest.NOW, ZoneOffset.UTC)));

    private static final long TS = UsageApiTest.NOW.getEpochSecond() - 600;

    static String line(int i, String extra) {
        return "{\"ts\": " + (TS + i) + ", \"device\": \"server-1\", \"model\": \"llama3-8b\", \"tag\": \"prod\", "
                + "\"prompt_tokens\": 50, \"completion_tokens\": 120, \"latency_ms\": " + (900 + i) + ", \"ttft_ms\": 220"
                + ", \"ok\": true, \"job_id\": \"job_" + i + "\"" + extra + "}";
    }

    @Test
    void exportThenImportRoundTripsAndReimportSkipsDuplicates() {
        Tenant a = Tenant.create(server);
        StringBuilder rows = new StringBuilder("[");
        for (int i = 0; i < 30; i++) {
            String row = line(i, ", \"extra\": {\"GPU power (W)\": " + (40 + i) + "}"
                    + (i == 3 ? ", \"error_type\": \"upstream_error\"" : "")
                    + (i == 4 ? ", \"prompt_preview\": \"=HYPERLINK(\\\"x\\\")\", \"event_id\": \"evt-4\"" : ""));
            // one failed call (a field given twice is refused, so the row's own ok changes)
            rows.append(i == 0 ? "" : ",").append(i == 3 ? row.replace("\"ok\": true", "\"ok\": false") : row);
        }
        rows.append(",{\"ts\": ").append(TS).append(", \"model\": \"other\", \"decode_tok_s\": 31.5, \"load_ms\": 12}]");
        Client.Response imp = a.user().post("/usage/import", rows.toString());
        assertEquals(200, imp.status(), imp.text());
        assertEquals(31, imp.json().path("imported").asInt());
        Client.Response csv = a.user().get("/usage/export.csv");
        assertEquals(200, csv.status());
        assertTrue(csv.header("content-type").orElseThrow().startsWith("text/csv"));
        assertTrue(csv.header("content-disposition").orElseThrow().contains("usage_"));
        String[] lines = csv.text().split("\r\n");
        assertEquals(32, lines.length);
        assertEquals(String.join(",", UsageCsv.COLUMNS) + ",extra.GPU power (W)", lines[0]);
        assertTrue(csv.text().contains("\"'=HYPERLINK(\"\"x\"\")\""), "formula neutralised: " + csv.text());
        assertTrue(csv.text().contains("evt-4,"));
        // into another user: the same numbers come out
        Tenant b = Tenant.create(server);
        Client.Response back = b.user().post("/usage/import", csv.text(), "Content-Type", "text/csv");
        assertEquals(200, back.status(), back.text());
        assertEquals(31, back.json().path("imported").asInt(), back.text());
        JsonNode sa = a.user().get("/usage/summary").json();
        JsonNode sb = b.user().get("/usage/summary").json();
        for (String k : new String[] {"requests", "errors", "total_tokens"}) {
            assertEquals(sa.path(k).asLong(), sb.path(k).asLong(), k);
        }
        assertEquals(sa.path("latency_ms"), sb.path("latency_ms"));
        assertEquals(sa.path("extra"), sb.path("extra"));
        assertEquals(sa.path("decode_tok_s"), sb.path("decode_tok_s"));
        assertEquals(csv.text(), b.user().get("/usage/export.csv").text());
        // again into the first: every row is a duplicate
        JsonNode again = a.user().post("/usage/import", csv.text(), "Content-Type", "text/csv").json();
        assertEquals(0, again.path("imported").asInt());
        assertEquals(31, again.path("duplicates").asInt());
        assertEquals(31, a.user().get("/usage/summary").json().path("requests").asInt());
    }

    @Test
    void rowErrorsNameIndexLineAndFieldAndValidRowsAreKept() {
        Tenant t = Tenant.create(server);
        String ndjson = line(0, "") + "\n" + line(1, "") + "\n"
                + "{\"ts\": \"yesterday\", \"model\": \"m\"}\n"
                + "\n"
                + "{\"ts\": " + TS + ", \"latency_ms\": 10, \"ttft_ms\": 20}\n"
                + "{not json\n"
                + "[1]\n"
                + "{\"ts\": " + TS + ", \"prompt_tokens\": -1}\n"
                + "{\"ts\": " + TS + ", \"prompt_tokens\": 1.5}\n"
                + "{\"ts\": " + TS + ", \"ok\": \"maybe\"}\n"
                + "{\"ts\": 946684799}\n"
                + "{\"ts\": " + (TS + 7200) + "}\n"
                + "{\"ts\": " + TS + ", \"model\": \"" + "m".repeat(200) + "\"}\n"
                + "{\"ts\": " + TS + ", \"extra\": {\"x\": \"hot\"}}\n"
                + "{\"ts\": " + TS + ", \"latency_ms\": 1e400}\n";
        Client.Response r = t.user().post("/usage/import", ndjson, "Content-Type", "application/x-ndjson");
        assertEquals(200, r.status(), r.text());
        JsonNode j = r.json();
        assertEquals(14, j.path("received").asInt());
        assertEquals(2, j.path("imported").asInt(), j.toString());
        assertEquals(12, j.path("failed").asInt());
        JsonNode first = j.path("errors").get(0);
        assertEquals(2, first.path("index").asInt());
        assertEquals(3, first.path("line").asInt());
        assertEquals("ts", first.path("field").asText());
        assertEquals(5, j.path("errors").get(1).path("line").asInt());
        assertEquals("ttft_ms", j.path("errors").get(1).path("field").asText());
        assertEquals(6, j.path("errors").get(2).path("line").asInt());
        String fields = j.path("errors").toString();
        for (String f : new String[] {"prompt_tokens", "ok", "model", "extra.x", "latency_ms"}) {
            assertTrue(fields.contains("\"field\":\"" + f + "\""), f + " in " + fields);
        }
        // CSV errors carry the CSV line
        String csv = String.join(",", UsageCsv.COLUMNS) + "\r\n"
                + "e1," + TS + ",,import,d,m,,,,,true,,1,2,3,100,10,,,,,,,,,\r\n"
                + "e2,soon,,import,d,m,,,,,true,,1,2,3,100,10,,,,,,,,,\r\n";
        JsonNode c = t.user().post("/usage/import", csv, "Content-Type", "text/csv").json();
        assertEquals(1, c.path("imported").asInt(), c.toString());
        assertEquals(3, c.path("errors").get(0).path("line").asInt());
        assertEquals("e2", c.path("errors").get(0).path("event_id").asText());
        // a JSON array: the line each element starts on
        JsonNode arr = t.user().post("/usage/import", "[\n" + line(50, "") + ",\n{\"ts\": null}\n]").json();
        assertEquals(3, arr.path("errors").get(0).path("line").asInt());
        assertEquals(1, arr.path("errors").get(0).path("index").asInt());
    }

    @Test
    void unknownCsvColumnsWithNumbersAreExtraMetricsAndTextInThemIsIgnored() {
        Tenant t = Tenant.create(server);
        String csv = "ts,model,latency_ms,gpu_w,note,extra.fan\r\n"
                + TS + ",m,100,41.5,warm start,900\r\n"
                + (TS + 1) + ",m,110,n/a,,910\r\n"
                + (TS + 2) + ",m,120,43,ok,loud\r\n";
        JsonNode r = t.user().post("/usage/import", csv, "Content-Type", "text/csv").json();
        assertEquals(2, r.path("imported").asInt(), r.toString());
        JsonNode error = r.path("errors").get(0);
        assertEquals(2, error.path("index").asInt(), "an extra.* column must hold numbers: " + r);
        assertEquals(4, error.path("line").asInt());
        assertEquals("extra.fan", error.path("field").asText());
        JsonNode gpu = t.user().get("/usage/summary").json().path("extra").path("gpu_w");
        assertEquals(1, gpu.path("n").asInt(), "only the number: " + gpu);
        assertEquals(41.5, gpu.path("avg").asDouble(), 1e-9);
        assertTrue(t.user().get("/usage/summary").json().path("extra").path("note").isMissingNode(), "text is no metric");
    }

    @Test
    void strictIsAllOrNothingAndDryRunStoresNothing() {
        Tenant t = Tenant.create(server);
        String body = "[" + line(0, "") + ",{\"ts\": \"bad\"}]";
        Client.Response strict = t.user().post("/usage/import?strict=1", body);
        assertEquals(422, strict.status());
        assertEquals("invalid", strict.errorCode());
        assertEquals(0, strict.json().path("imported").asInt());
        assertEquals(1, strict.json().path("failed").asInt());
        assertEquals(0, t.user().get("/usage/summary").json().path("requests").asInt());
        JsonNode dry = t.user().post("/usage/import?dry_run=1", "[" + line(0, "") + "," + line(1, "") + "]").json();
        assertTrue(dry.path("dry_run").asBoolean());
        assertEquals(2, dry.path("imported").asInt());
        assertEquals(0, t.user().get("/usage/summary").json().path("requests").asInt());
        assertEquals(400, t.user().post("/usage/import", "[{\"ts\": 1,]").status());
        assertEquals(422, t.user().post("/usage/import", "").status());
        // a CSV header with a blank or a repeated name is malformed CSV, not a server error
        for (String header : new String[] {"ts,,model", "ts,model,model"}) {
            Client.Response csv = t.user().post("/usage/import", header + "\n" + TS + ",a,b\n", "Content-Type", "text/csv");
            assertEquals(400, csv.status(), csv.text());
            assertTrue(csv.text().contains("malformed CSV"), csv.text());
        }
        StringBuilder many = new StringBuilder("[");
        for (int i = 0; i <= UsageService.MAX_IMPORT_ROWS; i++) {
            many.append(i == 0 ? "" : ",").append("{\"ts\":").append(TS).append('}');
        }
        assertEquals(413, t.user().post("/usage/import", many.append(']').toString()).status());
        assertEquals(0, t.user().get("/usage/summary").json().path("requests").asInt());
        assertEquals(Json.text(java.util.List.of()), t.user().get("/usage?view=raw").json().path("events").toString());
    }

    /**
     * Every kind of cell, written exactly: quoting, formula guards, non-ASCII text, nulls, whole and fractional numbers
     * (a third as Java writes it; SQLite's own text would be 0.33333333333333332).
     */
    @Test
    void exportWritesEveryKindOfCellExactly() {
        Tenant t = Tenant.create(server);
        String row = "{\"event_id\": \"e,1\", \"ts\": " + TS + ".25, \"device\": \"d\u00e9v-1 \u4e2d\", \"model\": \"m\\\"q\", "
                + "\"tag\": \"-tag\", \"job_id\": \"j\\n2\", \"ok\": false, \"error_type\": \"timeout\", "
                + "\"prompt_tokens\": 5, \"latency_ms\": 12.25, \"ttft_ms\": 3, \"tok_s\": 0.0000001, \"decode_tok_s\": 0.3333333333333333, "
                + "\"load_ms\": 123456789012345678, \"prompt_preview\": \"h\u00e9llo, \\\"w\\\"\", "
                + "\"extra\": {\"a b\": 1.5, \"z\": 2}}";
        Client.Response imp = t.user().post("/usage/import", "[" + row + "]");
        assertEquals(1, imp.json().path("imported").asInt(), imp.text());
        String[] lines = t.user().get("/usage/export.csv").text().split("\r\n", -1);
        assertEquals(String.join(",", UsageCsv.COLUMNS) + ",extra.a b,extra.z", lines[0]);
        assertEquals("\"e,1\"," + TS + ".250," + UsageStore.iso(TS * 1000 + 250) + ",import,d\u00e9v-1 \u4e2d,\"m\"\"q\",'-tag,,,"
                + "\"j\n2\",false,timeout,5,,5,12.25,3,1.0E-7,,0.3333333333333333,1.2345678901234568E17,,,,,\"h\u00e9llo, \"\"w\"\"\",1.5,2", lines[1]);
        assertEquals(3, lines.length);
        assertEquals("", lines[2]);
    }

    /**
     * An export made in slices of 7 rows (12 rows share one millisecond, more than a slice holds; a model filter
     * leaves some slices empty) is the export made in one slice, byte for byte, every row once, oldest first.
     */
    @Test
    void slicedExportIsTheWholeExportInOrder() throws Exception {
        Tenant t = Tenant.create(server);
        StringBuilder rows = new StringBuilder("[");
        for (int i = 0; i < 60; i++) {
            long ms = i >= 20 && i < 32 ? 20_000 : i * 1_000L + i % 3; // twelve rows at one millisecond
            rows.append(i == 0 ? "" : ",").append("{\"event_id\": \"s").append(i).append("\", \"ts\": ")
                    .append((TS - 100) * 1000 + ms).append(", \"model\": \"").append(i % 4 == 0 ? "m-b" : "m-a")
                    .append("\", \"latency_ms\": ").append(i).append(".5}");
        }
        assertEquals(60, t.user().post("/usage/import", rows.append(']').toString()).json().path("imported").asInt());
        scorebook.store.Database db = server.running().db();
        for (Map<String, List<String>> dims : List.of(Map.<String, List<String>>of(), Map.of("model", List.of("m-b")))) {
            UsageFilter f = new UsageFilter((TS - 200) * 1000, (TS + 10) * 1000, dims, null, List.of());
            ByteArrayOutputStream sliced = new ByteArrayOutputStream();
            ByteArrayOutputStream whole = new ByteArrayOutputStream();
            long n = UsageCsv.export(db, t.userId(), f, List.of(), sliced, 7);
            assertEquals(n, UsageCsv.export(db, t.userId(), f, List.of(), whole, 1_000_000));
            assertEquals(dims.isEmpty() ? 60 : 15, n);
            assertEquals(whole.toString(StandardCharsets.UTF_8), sliced.toString(StandardCharsets.UTF_8));
            String[] lines = sliced.toString(StandardCharsets.UTF_8).split("\r\n");
            assertEquals(n + 1, lines.length);
            double last = 0;
            java.util.Set<String> ids = new java.util.HashSet<>();
            for (int i = 1; i < lines.length; i++) {
                String[] cells = lines[i].split(",");
                assertTrue(ids.add(cells[0]), "once: " + cells[0]);
                assertTrue(Double.parseDouble(cells[1]) >= last, "oldest first: " + lines[i]);
                last = Double.parseDouble(cells[1]);
            }
        }
    }
}
