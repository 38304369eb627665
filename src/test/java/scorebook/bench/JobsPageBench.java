package scorebook.bench;

import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;
import scorebook.testing.Browser;
import scorebook.testing.TestServer;

/**
 * The dashboard's jobs page in headless Chromium over 100,000 jobs of the owner: from navigation start to the
 * first rows drawn (the page's own {@code scorebook:jobs} mark), warm cache, for the queue unfiltered, filtered by
 * state and by model, and for the dead-letter queue. The jobs are written straight into the jobs table in one
 * transaction (JobsBench measures enqueueing over HTTP, which takes minutes for this many on a shared machine);
 * the mix is 85 % done, 5 % failed, 5 % cancelled and 5 % queued on a tag no device takes, over 4 models.
 */
public final class JobsPageBench implements Benchmark {
    private static final int JOBS = 100_000;
    private static final int SAMPLES = 15;
    private static final List<String> VIEWS = List.of("/?page=jobs", "/?page=jobs&state=failed", "/?page=jobs&model=model-2",
            "/?page=jobs&view=dlq");

    @Override
    public String name() {
        return "queue-page";
    }

    @Override
    public List<Row> run() throws Exception {
        if (!Browser.available()) {
            System.err.println("bench: queue-page skipped: chromium and chromedriver are not installed");
            return List.of();
        }
        try (TestServer server = TestServer.start(); Browser browser = Browser.start()) {
            seed(server, "(SELECT id FROM users WHERE is_owner = 1)", JOBS);
            // the baseline: the same page for a user with one page of jobs, in the same conditions
            JsonNode small = Json.MAPPER.readTree(server.owner().post("/api/users", "{\"name\": \"small\"}").text());
            seed(server, String.valueOf(small.at("/user/id").asLong()), 50);
            browser.open(server.base() + "/?token=" + TestServer.OWNER_TOKEN);
            browser.waitFor("document.getElementById('who').textContent === 'owner'", 30);
            // warm-up: the server's code paths and the browser's cache, over every view, before any timing
            for (int i = 0; i < 5; i++) {
                for (String url : VIEWS) {
                    browser.open(server.base() + url);
                    waitRows(browser);
                }
            }
            String work = String.format(Locale.ROOT, "%,d jobs", JOBS);
            Row big = sample(browser, server, "/?page=jobs", "jobs page: first rows", work);
            List<Row> rows = List.of(big,
                    sample(browser, server, "/?page=jobs&state=failed", "jobs page: first rows, state=failed", work),
                    sample(browser, server, "/?page=jobs&model=model-2", "jobs page: first rows, model filter", work),
                    sample(browser, server, "/?page=jobs&view=dlq", "jobs page: dead-letter queue", work));
            browser.clearCookies();
            browser.open(server.base() + "/?token=" + small.path("token").asText());
            browser.waitFor("document.getElementById('who').textContent === 'small'", 30);
            for (int i = 0; i < 5; i++) {
                browser.open(server.base() + "/?page=jobs");
                waitRows(browser);
            }
            Row b = sample(browser, server, "/?page=jobs", "  baseline: the same page over 50 jobs", "50 jobs");
            Row base = new Row(b.name(), b.work(), b.p50(), b.p95(), b.unit(), "", "(information)", true);
            return java.util.stream.Stream.concat(rows.stream(), java.util.stream.Stream.of(base,
                    new Row("  ratio 100,000 / 50 jobs (p50)", "", big.p50() / base.p50(), big.p95() / base.p95(), "x", "", "(information)", true))).toList();
        }
    }

    private static Row sample(Browser browser, TestServer server, String url, String name, String work) throws Exception {
        double[] first = new double[SAMPLES];
        double[] request = new double[SAMPLES];
        for (int i = 0; i < SAMPLES; i++) {
            browser.open(server.base() + url);
            first[i] = waitRows(browser);
            request[i] = browser.js("const r = performance.getEntriesByType('resource').filter(e => /\\/api\\/jobs\\?|\\/jobs\\/dlq\\?/.test(e.name))[0];"
                    + "return r ? r.responseEnd - r.startTime : 0;").asDouble();
        }
        return new Row(name, work + String.format(Locale.ROOT, ", request p50 %.0f ms", Stats.median(request)),
                Stats.median(first), Stats.percentile(first, 95), "ms", "", "≤ 500 ms", Stats.median(first) <= 500);
    }

    /** The first rows drawn after this navigation: their mark's time since navigation start, in ms. */
    private static double waitRows(Browser browser) throws Exception {
        return browser.waitFor("document.querySelector('tr.row') && performance.getEntriesByName('scorebook:jobs').length"
                + " && performance.getEntriesByName('scorebook:jobs')[0].startTime", 60).asDouble();
    }

    /** {@code count} jobs for the user the SQL expression names. */
    private static void seed(TestServer server, String userSql, int count) {
        server.running().db().write(h -> h.execute("""
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                INSERT INTO jobs (job_id, user_id, state, priority, queue_tag, model, device, prompt, attempt, max_attempts, backoff_s,
                                  run_at_ms, error, output, metrics, enqueued_at, started_at, finished_at)
                SELECT printf('job_bench%d_%08d', ?, i), USER_ID,
                       CASE WHEN i % 20 = 0 THEN 'failed' WHEN i % 20 = 1 THEN 'cancelled' WHEN i % 20 = 2 THEN 'queued' ELSE 'done' END,
                       i % 10, CASE WHEN i % 20 = 2 THEN 'parked' ELSE 'default' END, 'model-' || (i % 4), 'gpu' || (i % 3),
                       'prompt number ' || i, 1, 3, 10, 0,
                       CASE WHEN i % 20 = 0 THEN '{"type":"oom","message":"out of memory"}' END,
                       CASE WHEN i % 20 > 2 THEN '{"text":"answer","done_reason":"stop"}' END,
                       CASE WHEN i % 20 > 2 THEN '{"completion_tokens":12,"latency_ms":340}' END,
                       strftime('%Y-%m-%dT%H:%M:%fZ', 1700000000 + i, 'unixepoch'),
                       strftime('%Y-%m-%dT%H:%M:%fZ', 1700000001 + i, 'unixepoch'),
                       CASE WHEN i % 20 <> 2 THEN strftime('%Y-%m-%dT%H:%M:%fZ', 1700000002 + i, 'unixepoch') END
                FROM n""".replace("USER_ID", userSql), count, count));
    }
}
