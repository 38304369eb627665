package scorebook.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.IntFunction;

import scorebook.testing.Browser;
import scorebook.testing.TestServer;

/**
 * The usage page in headless Chromium over N gateway-like usage rows spread over the last 30 days (default
 * 1,000,000; DASHBOARD_USAGE_ROWS=10000000 for the size). The rows are generated once by UsageBench's
 * generator into TMP/scorebook-usage-dashboard-bench-N/ and reused (delete the folder to regenerate: the views are of the
 * last 30 days, so rows generated days ago drift out of them). Times come from the page's own Performance API
 * mark {@code scorebook:usage} (set when the KPIs and every chart are drawn): from navigation start for a first
 * view (warm cache), from the click for a range or group change.
 */
public final class UsageDashboardBench implements Benchmark {
    private static final int SAMPLES = 11;

    @Override
    public String name() {
        return "dashboard-usage";
    }

    @Override
    public List<Row> run() throws Exception {
        if (!Browser.available()) {
            System.err.println("bench: dashboard-usage skipped: chromium and chromedriver are not installed");
            return List.of();
        }
        int n = Integer.parseInt(System.getenv().getOrDefault("DASHBOARD_USAGE_ROWS", "1000000"));
        // cached in the temp folder: a server's data folder may not be inside the repository (TestServer checks)
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "scorebook-usage-dashboard-bench-" + n);
        Path done = dir.resolve("generated");
        String generated = "cached";
        if (!Files.exists(done)) {
            TestServer.deleteTree(dir);
            Files.createDirectories(dir);
            try (TestServer server = TestServer.startOn(dir)) {
                generated = String.format(Locale.ROOT, "generated in %.0f s", UsageBench.generate(server, n));
            }
            Files.writeString(done, "rows " + n + "\n");
        }
        System.err.println("bench: dashboard-usage: " + n + " rows, " + generated);
        String work = String.format(Locale.ROOT, "%,d rows / 30 d", n);
        try (TestServer server = TestServer.startOn(dir); Browser browser = Browser.start()) {
            browser.open(server.base() + "/?page=usage&token=" + TestServer.OWNER_TOKEN);
            drawn(browser);

            double[][] day = firstViews(browser, server.base() + "/?page=usage");
            double[][] dayGrouped = firstViews(browser, server.base() + "/?page=usage&group_by=model");
            double[][] month = firstViews(browser, server.base() + "/?page=usage&range=30d");

            // range changes (last day ↔ last week), then group changes (model ↔ device) over the last day and week
            browser.open(server.base() + "/?page=usage&range=7d");
            drawn(browser);
            double[][] ranges = changes(browser, i -> "document.querySelector('[data-range=\"" + (i % 2 == 0 ? "24h" : "7d")
                    + "\"]').click()");
            timed(browser, "document.querySelector('[data-range=\"24h\"]').click()");
            String group = "const s = document.getElementById('group-by'); s.value = '%s'; s.dispatchEvent(new Event('change'));";
            IntFunction<String> groupChange = i -> String.format(group, i % 2 == 0 ? "model" : "device");
            double[][] dayGroups = changes(browser, groupChange);
            timed(browser, "document.querySelector('[data-range=\"7d\"]').click()");
            double[][] weekGroups = changes(browser, groupChange);
            List<Row> out = new ArrayList<>();
            firstViewRows(out, "last day", work + ", " + generated, day);
            firstViewRows(out, "last day by model", work, dayGrouped);
            firstViewRows(out, "last 30 days", work, month);
            changeRows(out, "range change", "24 h ↔ 7 d", ranges);
            changeRows(out, "group change", "model ↔ device, 24 h", dayGroups);
            changeRows(out, "group change", "model ↔ device, 7 d", weekGroups);
            return out;
        }
    }

    /** SAMPLES changes made by action(i), each timed to its drawing: [0] the redraw, [1] its slowest request. */
    private static double[][] changes(Browser browser, IntFunction<String> action) throws Exception {
        double[][] out = new double[2][SAMPLES];
        for (int i = 0; i < SAMPLES; i++) {
            out[0][i] = timed(browser, action.apply(i));
            out[1][i] = slowestRequest(browser);
        }
        return out;
    }

    private static void changeRows(List<Row> out, String change, String work, double[][] samples) {
        out.add(row("usage page: " + change + " redrawn", work, samples[0], "≤ 300 ms", 300));
        out.add(row("  of which the slowest request", work, samples[1], "(information)", Double.MAX_VALUE));
    }

    private static Row row(String name, String work, double[] ms, String target, double limit) {
        return new Row(name, work, Stats.median(ms), Stats.percentile(ms, 95), "ms", "", target, Stats.median(ms) <= limit);
    }

    /**
     * Opens a view SAMPLES times (the cache warm): [0] from navigation start to the KPIs and charts drawn, [1] the
     * slowest usage request of it, [2] the rest (the page's own share: scripts, the dashboard's own requests, drawing).
     */
    private static double[][] firstViews(Browser browser, String url) throws Exception {
        double[][] out = new double[3][SAMPLES];
        for (int i = 0; i < SAMPLES; i++) {
            browser.open(url);
            out[0][i] = drawn(browser);
            out[1][i] = slowestRequest(browser);
            out[2][i] = out[0][i] - out[1][i];
        }
        return out;
    }

    private static void firstViewRows(List<Row> out, String view, String work, double[][] samples) {
        out.add(row("usage page: KPIs + charts, " + view, work, samples[0], "≤ 1000 ms", 1000));
        out.add(row("  of which the slowest request", work, samples[1], "(information)", Double.MAX_VALUE));
        out.add(row("  the rest (page, scripts, drawing)", work, samples[2], "(information)", Double.MAX_VALUE));
    }

    /** Waits for the page's first drawing after the current navigation; its mark's time since navigation start, ms. */
    private static double drawn(Browser browser) throws Exception {
        return browser.waitFor("performance.getEntriesByName('scorebook:usage').length"
                + " && performance.getEntriesByName('scorebook:usage')[0].startTime", 120).asDouble();
    }

    /** Runs an action in the page and waits for the next drawing; ms from the action to it. */
    private static double timed(Browser browser, String action) throws Exception {
        browser.js("performance.clearMarks('scorebook:usage'); performance.clearResourceTimings(); window.benchT0 = performance.now();" + action);
        return browser.waitFor("performance.getEntriesByName('scorebook:usage').length"
                + " && performance.getEntriesByName('scorebook:usage')[0].startTime - window.benchT0", 120).asDouble();
    }

    /** The slowest of the usage API requests of the last drawing (summary and series run side by side), ms. */
    private static double slowestRequest(Browser browser) throws Exception {
        return browser.js("return Math.max(0, ...performance.getEntriesByType('resource').filter(e => e.name.includes('/usage'))"
                + ".map(e => e.responseEnd - e.startTime));").asDouble();
    }
}
