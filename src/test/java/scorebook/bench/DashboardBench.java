package scorebook.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;
import scorebook.server.ServerConfig;
import scorebook.testing.Browser;
import scorebook.testing.TestServer;

/**
 * The dashboard in headless Chromium on a 10,000-result run (about 1 KB of input and output per row):
 * first rows after a navigation with a warm cache, bytes for the first view with an empty cache, a sort
 * or filter answered, and a live change of one row applied without fetching the run. Times come from
 * the page's own Performance API marks (scorebook:rows when a table is drawn, scorebook:live-row when
 * a row is replaced live), so the WebDriver round trips do not count.
 */
public final class DashboardBench implements Benchmark {
    private static final int ROWS = 10_000;
    private static final int BATCH = 500;
    private static final int SAMPLES = 15;

    private final HttpClient http = HttpClient.newHttpClient();

    @Override
    public String name() {
        return "dashboard";
    }

    @Override
    public List<Row> run() throws Exception {
        if (!Browser.available()) {
            System.err.println("bench: dashboard skipped: chromium and chromedriver are not installed");
            return List.of();
        }
        Path dir = TestServer.tempDir();
        Path evals = Files.createDirectories(dir.resolve("evals"));
        // five of the run's cases (rows 0, 7, 14, 21, 28: dataset ds0) as a suite, so a selective rerun changes one row live
        StringBuilder suite = new StringBuilder("dataset: ds0\ntarget: {command: cat}\nscorers: [equals]\ncases:\n");
        for (int i = 0; i < 5; i++) {
            suite.append("  - {name: \"test_case[").append(i * 7).append("]\", input: \"x\", reference: \"x\"}\n");
        }
        Files.writeString(evals.resolve("bench.yaml"), suite);
        try (TestServer server = TestServer.start(ServerConfig.local(dir, TestServer.OWNER_TOKEN).withEvalPath(evals));
             Browser browser = Browser.start()) {
            String runId = Json.MAPPER.readTree(post(server, "/api/runs", "{\"session_name\": \"bench\", \"run_name\": \"ten-k\"}"))
                    .path("run_id").asText();
            for (int b = 0; b < ROWS / BATCH; b++) {
                post(server, "/api/runs/" + runId + "/results", EvalsBench.batch(b * BATCH));
            }
            browser.open(server.base() + "/?token=" + TestServer.OWNER_TOKEN);
            waitRows(browser);

            // empty cache: every byte of the first view, the page, scripts, styles and the first page of rows
            double[] bytes = new double[5];
            for (int i = 0; i < bytes.length; i++) {
                browser.cdp("Network.clearBrowserCache", Map.of());
                browser.open(server.base() + "/");
                waitRows(browser);
                bytes[i] = browser.js("return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))"
                        + ".reduce((n, e) => n + e.transferSize, 0)").asDouble() / 1024;
            }

            // warm cache: from navigation start to the first table drawn
            double[] first = new double[SAMPLES];
            double[] firstRequest = new double[SAMPLES];
            for (int i = 0; i < first.length; i++) {
                browser.open(server.base() + "/");
                first[i] = waitRows(browser);
                firstRequest[i] = lastRowsRequest(browser);
            }

            // a sort (the Time header) and filters (has error, a score rule), each from the click to the table drawn
            List<Double> answered = new ArrayList<>();
            browser.open(server.base() + "/");
            waitRows(browser);
            browser.click("#filters-button");
            List<Double> requestMs = new ArrayList<>();
            for (int i = 0; i < SAMPLES; i++) {
                answered.add(timed(browser, "document.querySelector('th[data-col=latency]').click()"));
                requestMs.add(lastRowsRequest(browser));
                answered.add(timed(browser, "document.getElementById('toggle-has_error').click()"));
                requestMs.add(lastRowsRequest(browser));
            }
            browser.open(server.base() + "/?score_value=quality,lt,0.5");
            waitRows(browser);
            String filteredCount = browser.text("#count");

            // a live change of one row on screen (a selective rerun of it): the event's row replaces it, the
            // totals event updates the stats bar; no request fetches the run
            browser.open(server.base() + "/");
            waitRows(browser);
            double[] live = new double[5];
            long wholeRunRequests = 0;
            long requests = 0;
            for (int i = 0; i < live.length; i++) {
                browser.js("window.benchT0 = performance.now(); window.benchSeen = performance.getEntriesByType('resource').length;"
                        + "performance.clearMarks('scorebook:live-row');");
                post(server, "/api/runs/rerun", "{\"indices\": [" + i * 7 + "]}");
                live[i] = browser.waitFor("performance.getEntriesByName('scorebook:live-row').length"
                        + " && performance.getEntriesByName('scorebook:live-row')[0].startTime - window.benchT0", 15).asDouble();
                String index = String.valueOf(i * 7);
                browser.waitFor("document.querySelector('tr.row[data-index=\"" + index + "\"]').classList.contains('status-completed')"
                        + " && !document.getElementById('stop')", 30);
                JsonNode later = browser.js("return performance.getEntriesByType('resource').slice(window.benchSeen).map(e => e.name)");
                requests += later.size();
                for (JsonNode url : later) {
                    String u = url.asText();
                    if (u.contains("/results") && !u.contains("/results/") || u.contains("/data") || u.contains("/export/")
                            || u.contains("limit=" + ROWS)) {
                        wholeRunRequests++;
                    }
                }
            }

            String work = String.format(Locale.ROOT, "%,d results", ROWS);
            double[] sortFilter = answered.stream().mapToDouble(Double::doubleValue).toArray();
            return List.of(
                    new Row("dashboard: first rows, warm cache", work, Stats.median(first), Stats.percentile(first, 95), "ms", "",
                            "≤ 500 ms", Stats.median(first) <= 500),
                    new Row("  of which the rows request", work, Stats.median(firstRequest), Stats.percentile(firstRequest, 95), "ms",
                            "", "(information)", true),
                    new Row("dashboard: first view, empty cache", work, Stats.median(bytes), Stats.percentile(bytes, 95), "KB", "",
                            "≤ 300 KB", Stats.median(bytes) <= 300),
                    new Row("dashboard: sort or filter answered", work + ", " + filteredCount + " filtered", Stats.median(sortFilter),
                            Stats.percentile(sortFilter, 95), "ms", "", "≤ 100 ms", Stats.median(sortFilter) <= 100),
                    new Row("  of which the rows request", work,
                            Stats.median(requestMs.stream().mapToDouble(Double::doubleValue).toArray()),
                            Stats.percentile(requestMs.stream().mapToDouble(Double::doubleValue).toArray(), 95), "ms", "",
                            "(information)", true),
                    new Row("dashboard: live row applied (rerun to screen)",
                            work + ", " + requests + " requests, " + wholeRunRequests + " for the run",
                            Stats.median(live), Stats.percentile(live, 95), "ms", "", "no whole-run request", wholeRunRequests == 0));
        } finally {
            TestServer.deleteTree(dir);
        }
    }

    /** Waits for a table drawn after the current navigation; its mark's time since navigation start, in ms. */
    private static double waitRows(Browser browser) throws Exception {
        return browser.waitFor("document.querySelector('tr.row') && performance.getEntriesByName('scorebook:rows').length"
                + " && performance.getEntriesByName('scorebook:rows')[0].startTime", 30).asDouble();
    }

    /** The last rows request's time from its start to its response's end, in ms. */
    private static double lastRowsRequest(Browser browser) throws Exception {
        return browser.js("const r = performance.getEntriesByType('resource').filter(e => e.name.includes('/rows?')).pop();"
                + "return r ? r.responseEnd - r.startTime : 0;").asDouble();
    }

    /** Runs an action in the page and waits for the next table drawn; ms from the action to the drawing. */
    private static double timed(Browser browser, String action) throws Exception {
        browser.js("performance.clearMarks('scorebook:rows'); window.benchT0 = performance.now();" + action);
        return browser.waitFor("performance.getEntriesByName('scorebook:rows').length"
                + " && performance.getEntriesByName('scorebook:rows')[0].startTime - window.benchT0", 30).asDouble();
    }

    private String post(TestServer server, String path, String body) throws Exception {
        return send(server, "POST", path, body);
    }

    private String send(TestServer server, String method, String path, String body) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(server.base() + path))
                .header("X-User-Token", TestServer.OWNER_TOKEN).header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) {
            throw new IllegalStateException(method + " " + path + " answered " + r.statusCode() + ": " + r.body());
        }
        return r.body();
    }
}
