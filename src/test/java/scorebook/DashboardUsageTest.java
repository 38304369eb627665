package scorebook;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;
import scorebook.server.ServerConfig;
import scorebook.testing.Browser;
import scorebook.testing.Client;
import scorebook.testing.NeedsBrowser;
import scorebook.testing.TestServer;
import scorebook.testing.Wait;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The usage and datasets pages in real Chromium over usage rows imported through the API and a dataset with an
 * adapter: range and group changes, a comparison of two ranges, CSV export (the file checked) and import (errors
 * per row), the adapter editor changing the dataset's charts. Screenshots go to target/screenshots.
 *
 * <p>The imported rows: 60 in the last 20 hours (fast: latency 400 or 1,000 ms, 2 errors), 40 in the day before
 * (slow: 2,000 ms, 8 errors), 20 three to six days ago; models llama-fast and qwen-slow. The dataset "bench_ds"
 * adds 30 usage rows (source dataset) in the last five hours.
 */
@NeedsBrowser
class DashboardUsageTest {
    private static final Path SHOTS = Path.of("target/screenshots");
    private static final long MIN = 60_000L;
    private static final long HOUR = 60 * MIN;
    private static Path data;
    private static Path downloads;
    private static TestServer server;
    private static Browser browser;
    private static long now;

    @BeforeAll
    static void start() throws Exception {
        data = TestServer.tempDir();
        downloads = Files.createDirectories(data.resolve("downloads"));
        Files.createDirectories(SHOTS);
        server = TestServer.start(ServerConfig.local(data, TestServer.OWNER_TOKEN));
        now = System.currentTimeMillis();
        Client owner = server.owner();
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            rows.add(usageRow("a" + i, now - (i * 20 + 5) * MIN, i % 2 == 0 ? "llama-fast" : "qwen-slow", 400 + (i % 2) * 600, i % 30 != 0));
        }
        for (int i = 0; i < 40; i++) {
            rows.add(usageRow("b" + i, now - 24 * HOUR - (i * 30 + 10) * MIN, i % 2 == 0 ? "llama-fast" : "qwen-slow", 2000, i % 5 != 0));
        }
        for (int i = 0; i < 20; i++) {
            rows.add(usageRow("c" + i, now - 72 * HOUR - i * 3 * HOUR, "llama-fast", 800, true));
        }
        Client.Response imported = owner.post("/usage/import", Json.text(rows));
        assertEquals(200, imported.status(), imported.text());
        assertEquals(120, imported.json().path("imported").asInt(), imported.text());

        Client.Response adapter = owner.post("/user/data/save_adapter", Json.text(Map.of("dataset", "bench_ds", "enabled", true,
                "x_field", "ts", "device_field", "device", "latency_ms_field", "latency_ms",
                "extra_fields", List.of(Map.of("label", "GPU power (W)", "field", "gpu_power_w")))));
        assertEquals(200, adapter.status(), adapter.text());
        List<Map<String, Object>> dsRows = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            dsRows.add(Map.of("ts", (now - (i * 10 + 3) * MIN) / 1000.0, "device", "bench-box", "latency_ms", 300 + i,
                    "gpu_power_w", 40.5 + i, "cpu_pct", 10 + i, "note", "<img src=x onerror=window.pwned=1>"));
        }
        Client.Response appended = owner.post("/user/data/append_jsonl", Json.text(Map.of("dataset", "bench_ds", "rows", dsRows)));
        assertEquals(30, appended.json().path("usage_recorded").asInt(), appended.text());
        browser = Browser.start(downloads);
    }

    private static Map<String, Object> usageRow(String id, long ts, String model, int latency, boolean ok) {
        Map<String, Object> m = new java.util.LinkedHashMap<>(Map.of("event_id", id, "ts", ts / 1000.0, "model", model,
                "device", model.startsWith("llama") ? "gpu-1" : "phone-2", "tag", "nightly", "latency_ms", latency,
                "ttft_ms", latency / 4, "prompt_tokens", 20, "completion_tokens", ok ? 100 : 0, "ok", ok));
        m.put("extra", Map.of("GPU power (W)", 45.5));
        return m;
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.close();
        }
        if (server != null) {
            server.close();
        }
        if (data != null) {
            TestServer.deleteTree(data);
        }
    }

    private static void open(String query) throws Exception {
        browser.signInAsOwner(server, "/" + query);
    }

    private static String kpi(String id) throws Exception {
        return browser.text("[data-kpi='" + id + "'] .kpi-value");
    }

    private static void waitKpi(String id, String value) throws Exception {
        browser.waitFor("document.querySelector(\"[data-kpi='" + id + "'] .kpi-value\")?.innerText === '" + value + "'",
                Wait.DEADLINE.toSeconds());
    }

    private static String url() throws Exception {
        return browser.js("return location.pathname + location.search").asText();
    }

    /** The labels of a chart's lines. */
    private static List<String> lines(String canvasId) throws Exception {
        JsonNode labels = browser.js("const c = Chart.getChart(document.getElementById(arguments[0]));"
                + "return c ? c.data.datasets.map(d => d.label) : [];", canvasId);
        List<String> out = new ArrayList<>();
        labels.forEach(l -> out.add(l.asText()));
        return out;
    }

    private static void noPageErrors() throws Exception {
        assertEquals(0, browser.js("return window.scorebookCspViolations.length").asInt(),
                browser.js("return window.scorebookCspViolations").toString());
        assertTrue(browser.js("return window.pwned === undefined").asBoolean(), "markup in the data ran");
    }

    @Test
    void theRangeAndTheGroupChangeTheKpisAndChartsAndLiveInTheUrl() throws Exception {
        open("?page=usage");
        waitKpi("requests", "90");                  // 60 imported + 30 dataset rows in the last day
        assertEquals("2.22%", kpi("error_rate"));    // 2 failed of 90
        assertTrue(browser.text("[data-kpi='latency']").contains("p95"), browser.text("[data-kpi='latency']"));
        assertTrue(browser.js("return !!document.querySelector(\"[data-kpi='extra:GPU power (W)']\")").asBoolean());
        browser.waitFor("document.getElementById('chart-requests')?.dataset.ready", Wait.DEADLINE.toSeconds());
        for (String chart : List.of("requests", "errors", "tokens", "latency", "ttft", "tok_s")) {
            assertTrue(browser.js("return !!document.getElementById('chart-" + chart + "')").asBoolean(), chart);
        }
        assertEquals("GPU power (W)", browser.js("return document.querySelector('[data-chart^=extra-]').dataset.label").asText());
        assertEquals(List.of("all"), lines("chart-requests"));

        browser.click("[data-range='7d']");
        waitKpi("requests", "150");
        assertEquals("/?range=7d&page=usage", url());
        // a week is asked for from a whole hour (the server aligns it), an hour as it is
        assertTrue(requested("/usage/summary?", "minutes=10080", "align=1h"), "the week's KPIs asked with align=1h");
        assertTrue(requested("/usage?", "minutes=10080", "align=1h"), "the week's series asked with align=1h");
        browser.click("[data-range='1h']");
        waitKpi("requests", "9");                   // 3 imported + 6 dataset rows
        assertTrue(requested("/usage/summary?", "minutes=60"));
        assertFalse(requested("/usage?", "minutes=60", "align="), "an hour is not aligned");

        // a new grouping keeps the KPIs just drawn and asks for the series only
        browser.js("performance.clearResourceTimings()");
        browser.click("#group-by option[value=model]");
        browser.waitFor("(() => { const c = Chart.getChart(document.getElementById('chart-requests'));"
                + " return c && c.data.datasets.length === 3; })()", Wait.DEADLINE.toSeconds());
        assertTrue(requested("/usage?", "group_by=model"), "the grouped series was asked for");
        assertFalse(requested("/usage/summary?"), "no summary asked for a new grouping");
        assertTrue(lines("chart-requests").containsAll(List.of("llama-fast", "qwen-slow", "(none)")), lines("chart-requests").toString());
        assertTrue(lines("chart-latency").contains("llama-fast p95"), lines("chart-latency").toString());
        assertEquals("/?range=1h&group_by=model&page=usage", url());

        // a filter narrows the KPIs; back walks the steps, a reload shows the same view
        browser.type("#filter-model", "qwen-slow");
        browser.js("document.getElementById('filter-model').dispatchEvent(new Event('change'))");
        browser.waitFor("location.search.includes('model=qwen-slow')", Wait.DEADLINE.toSeconds());
        browser.click("[data-range='24h']");
        waitKpi("requests", "30");
        browser.js("history.back()");
        waitKpi("requests", "1");                   // the last hour of qwen-slow: i = 1
        browser.open(server.base() + "/?page=usage&range=24h&model=qwen-slow");
        waitKpi("requests", "30");
        assertEquals("qwen-slow", browser.js("return document.getElementById('filter-model').value").asText());
        browser.open(server.base() + "/?page=usage&range=7d&group_by=model");
        browser.waitFor("document.getElementById('chart-latency')?.dataset.ready", Wait.DEADLINE.toSeconds());
        browser.screenshot(SHOTS.resolve("usage.png"));
        noPageErrors();
    }

    @Test
    void twoRangesCompareWithTheBetterSideColoured() throws Exception {
        open("?page=usage&source_kind=import&compare=1");
        browser.waitFor("document.querySelector('#compare-table tr[data-metric=requests]')", Wait.DEADLINE.toSeconds());
        // A: the last day (60 requests, fast, 2 errors); B: the day before (40, slow, 8 errors)
        String requests = browser.text("#compare-table tr[data-metric=requests]");
        assertTrue(requests.contains("60") && requests.contains("40"), requests);
        assertEquals("a", browser.js("return document.querySelector('#compare-table tr[data-metric=\"latency_ms.p50\"]').dataset.better").asText());
        assertEquals("a", browser.js("return document.querySelector('#compare-table tr[data-metric=error_rate]').dataset.better").asText());
        assertTrue(browser.js("return document.querySelector('#compare-table tr[data-metric=error_rate] td.delta').classList.contains('down')").asBoolean());
        assertEquals("none", browser.js("return document.querySelector('#compare-table tr[data-metric=requests]').dataset.better").asText());

        // B as two filter sets instead: the same range, qwen-slow against llama-fast
        browser.click("#b-range option[value='24h']");
        browser.waitFor("location.search.includes('b_range=24h')", Wait.DEADLINE.toSeconds());
        browser.click("#b-own-filters");
        browser.waitFor("document.getElementById('filter-b_model')", Wait.DEADLINE.toSeconds());
        browser.type("#filter-b_model", "llama-fast");
        browser.js("document.getElementById('filter-b_model').dispatchEvent(new Event('change'))");
        browser.type("#filter-model", "qwen-slow");
        browser.js("document.getElementById('filter-model').dispatchEvent(new Event('change'))");
        browser.waitFor("document.querySelector('#compare-result')?.innerText.includes('model llama-fast')"
                + " && document.querySelector('#compare-result')?.innerText.includes('model qwen-slow')", Wait.DEADLINE.toSeconds());
        browser.waitFor("document.querySelector('#compare-table tr[data-metric=\"latency_ms.p50\"]')?.dataset.better === 'b'",
                Wait.DEADLINE.toSeconds());
        assertTrue(browser.js("return document.querySelector('#compare-table tr[data-metric=\"latency_ms.p50\"] td.delta').classList.contains('up')").asBoolean());

        browser.click("#group-by option[value=device]");
        browser.waitFor("document.querySelectorAll('#compare-groups tbody tr').length >= 2", Wait.DEADLINE.toSeconds());
        browser.js("document.getElementById('compare-controls').scrollIntoView()");
        browser.screenshot(SHOTS.resolve("usage-compare.png"));
        noPageErrors();
    }

    @Test
    void exportWritesTheFilteredRowsAndImportShowsEachBadRow() throws Exception {
        open("?page=usage&range=7d&model=qwen-slow");
        waitKpi("requests", "50");
        String href = browser.js("return document.getElementById('export-csv').getAttribute('href')").asText();
        assertTrue(href.contains("minutes=10080") && href.contains("model=qwen-slow"), href);
        browser.click("#export-csv");
        Path file = Browser.waitForFile(downloads, ".csv", Wait.DEADLINE.toSeconds());
        List<String> csv = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertTrue(csv.get(0).startsWith("event_id,ts,ts_iso,source_kind,device,model"), csv.get(0));
        assertEquals(51, csv.size(), "the header and the 50 qwen-slow rows of the week");
        assertTrue(csv.stream().skip(1).allMatch(l -> l.contains(",qwen-slow,")), "only the filtered model");

        // three rows of the export as new events ten days back: one good, one with a negative latency, one without a time
        String[] head = csv.get(0).split(",", -1);
        int id = List.of(head).indexOf("event_id");
        int ts = List.of(head).indexOf("ts");
        int tsIso = List.of(head).indexOf("ts_iso");
        int latency = List.of(head).indexOf("latency_ms");
        StringBuilder body = new StringBuilder(csv.get(0)).append('\n');
        for (int i = 1; i <= 3; i++) {
            String[] cells = csv.get(i).split(",", -1);
            cells[id] = "re-" + i;
            cells[ts] = String.valueOf((now - 240 * HOUR) / 1000);
            cells[tsIso] = "";
            if (i == 2) {
                cells[latency] = "-5";
            }
            if (i == 3) {
                cells[ts] = "";
            }
            body.append(String.join(",", cells)).append('\n');
        }
        long before = server.owner().get("/usage/summary?minutes=20160").json().path("requests").asLong();
        browser.click("#import-button");
        browser.js("const dt = new DataTransfer(); dt.items.add(new File([arguments[0]], 'usage.csv', {type: 'text/csv'}));"
                + "const i = document.getElementById('import-file'); i.files = dt.files; i.dispatchEvent(new Event('change'));", body.toString());
        browser.click("#import-go");
        browser.waitFor("document.querySelectorAll('#import-errors tbody tr').length === 2", Wait.DEADLINE.toSeconds());
        String summary = browser.text("#import-summary");
        assertTrue(summary.contains("3 received, 1 imported") && summary.contains("2 failed"), summary);
        assertEquals("1", browser.text("#import-errors tbody tr:nth-child(1) td:nth-child(1)"), "the row's index");
        assertEquals("latency_ms", browser.text("#import-errors tbody tr:nth-child(1) td:nth-child(4)"));
        assertEquals("re-2", browser.text("#import-errors tbody tr:nth-child(1) td:nth-child(3)"));
        assertEquals("2", browser.text("#import-errors tbody tr:nth-child(2) td:nth-child(1)"));
        assertEquals(before + 1, server.owner().get("/usage/summary?minutes=20160").json().path("requests").asLong(),
                "only the good row was stored");
        browser.screenshot(SHOTS.resolve("usage-import.png"));
        noPageErrors();
    }

    @Test
    void theDatasetsListRowsAndTheAdapterEditorChangeTheCharts() throws Exception {
        open("?page=datasets");
        browser.waitFor("document.querySelector('#datasets-table tr[data-name=bench_ds]')", Wait.DEADLINE.toSeconds());
        String listed = browser.text("#datasets-table tr[data-name=bench_ds]");
        assertTrue(listed.contains("30") && listed.contains("enabled"), listed);
        browser.screenshot(SHOTS.resolve("datasets.png"));

        browser.click("#datasets-table tr[data-name=bench_ds] a");
        browser.waitFor("document.getElementById('dataset-charts')?.dataset.metrics", Wait.DEADLINE.toSeconds());
        assertEquals("latency_ms\nGPU power (W)", browser.js("return document.getElementById('dataset-charts').dataset.metrics").asText());
        assertEquals("/?dataset=bench_ds&page=datasets", url());
        browser.waitFor("document.querySelectorAll('#rows-table tr.data-row').length === 30", Wait.DEADLINE.toSeconds());
        assertTrue(browser.text("#rows-table").contains("<img src=x onerror=window.pwned=1>"), "markup shown as text");
        assertTrue(browser.js("return document.getElementById('ndjson').getAttribute('href')").asText().contains("format=ndjson"));

        // the editor offers the dataset's own fields, and the preview maps the newest rows before saving
        browser.waitFor("document.getElementById('map-ttft_ms_field')", Wait.DEADLINE.toSeconds());
        JsonNode offered = browser.js("return [...document.querySelectorAll('#map-ttft_ms_field option')].map(o => o.value)");
        assertTrue(offered.toString().contains("\"cpu_pct\"") && offered.toString().contains("\"gpu_power_w\""), offered.toString());
        browser.click("#add-extra");
        browser.type("#extra-fields .extra-row:last-child .extra-label", "CPU (%)");
        browser.click("#extra-fields .extra-row:last-child .extra-field option[value=cpu_pct]");
        browser.waitFor("[...document.querySelectorAll('#preview-table th')].some(th => th.innerText === 'CPU (%)')", Wait.DEADLINE.toSeconds());
        assertEquals("39", browser.text("#preview-table tbody tr:first-child td:nth-child(9)"), "the newest row's cpu_pct");
        assertTrue(browser.text("#adapter-state").contains("Unsaved"));
        browser.click("#map-latency_ms_field option[value=device]");
        browser.waitFor("document.querySelector('#preview-table tbody tr.skipped')", Wait.DEADLINE.toSeconds());
        assertTrue(browser.text("#preview-table tbody tr:first-child .row-state").contains("'device' must be a number, not 'bench-box'"));
        browser.click("#map-latency_ms_field option[value=latency_ms]");
        browser.waitFor("!document.querySelector('#preview-table tbody tr.skipped')", Wait.DEADLINE.toSeconds());

        browser.js("document.getElementById('adapter-editor').scrollIntoView()");
        browser.screenshot(SHOTS.resolve("dataset-adapter.png"));
        browser.click("#adapter-save");
        browser.waitFor("document.getElementById('dataset-charts').dataset.metrics === 'latency_ms\\nGPU power (W)\\nCPU (%)'",
                Wait.DEADLINE.toSeconds());
        assertTrue(browser.text("#adapter-state").startsWith("Saved"), browser.text("#adapter-state"));
        assertEquals("cpu_pct", server.owner().get("/user/data/get_adapter?dataset=bench_ds").json()
                .path("extra_fields").path(1).path("field").asText());
        assertTrue(browser.text("[data-metric='CPU (%)'] .metric-stats").startsWith("No values yet"));

        // rows appended now are mapped the new way: the CPU chart gets its values
        Client.Response appended = server.owner().post("/user/data/append_jsonl", Json.text(Map.of("dataset", "bench_ds",
                "rows", List.of(Map.of("ts", (now - 400 * HOUR) / 1000.0, "device", "bench-box", "latency_ms", 500, "cpu_pct", 77)))));
        assertEquals(1, appended.json().path("usage_recorded").asInt(), appended.text());
        browser.open(server.base() + "/?page=datasets&dataset=bench_ds");
        browser.waitFor("document.querySelector(\"[data-metric='CPU (%)'] .metric-stats\")?.innerText.startsWith('1 value ·')",
                Wait.DEADLINE.toSeconds());
        assertEquals(1, browser.js("const c = Chart.getChart(document.querySelector(\"[data-metric='CPU (%)'] canvas\"));"
                + "return c.data.datasets[0].data.filter(v => v !== null).length").asInt());
        browser.screenshot(SHOTS.resolve("dataset.png"));
        noPageErrors();
        assertFalse(browser.js("return document.body.innerText").asText().contains("undefined"));
    }

    /** Whether the page fetched a URL holding {@code path} and every one of {@code parts} (Resource Timing). */
    private boolean requested(String path, String... parts) throws Exception {
        StringBuilder js = new StringBuilder("return performance.getEntriesByType('resource').some(e => e.name.includes(")
                .append(com.fasterxml.jackson.databind.node.TextNode.valueOf(path)).append(')');
        for (String part : parts) {
            js.append(" && e.name.includes(").append(com.fasterxml.jackson.databind.node.TextNode.valueOf(part)).append(')');
        }
        return browser.js(js.append(')').toString()).asBoolean();
    }
}
