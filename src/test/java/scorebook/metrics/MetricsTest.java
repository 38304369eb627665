package scorebook.metrics;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.ServerConfig;
import scorebook.testing.Client;
import scorebook.testing.FakeModelServer;
import scorebook.testing.Tenant;
import scorebook.testing.TestClock;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * GET /metrics and /metrics/summary: Prometheus' own checker ({@code promtool check metrics}) accepts the text, the
 * values move with the traffic (a gateway call counts once in the request counter, the call counter and both
 * histograms), and only the owner or the metrics token may read them.
 */
class MetricsTest {
    private static final String METRICS_TOKEN = "scrape-0123456789abcdef";
    private static final TestClock clock = TestClock.now();
    @AutoClose
    private static final TestServer server = TestServer.start(
            ServerConfig.local(TestServer.tempDir(), TestServer.OWNER_TOKEN).withClock(clock).withMetricsToken(METRICS_TOKEN));

    private static String scrape() {
        Client.Response r = server.owner().get("/metrics");
        assertEquals(200, r.status(), r.text());
        assertEquals("text/plain; version=0.0.4; charset=utf-8", r.header("Content-Type").orElseThrow());
        return r.text();
    }

    /** Every sample line, by its name and labels as printed. */
    private static Map<String, Double> samples(String text) {
        Map<String, Double> m = new TreeMap<>();
        Pattern line = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\\{.*})?) (\\S+)$", Pattern.MULTILINE);
        Matcher x = line.matcher(text);
        while (x.find()) {
            m.put(x.group(1), x.group(2).equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(x.group(2)));
        }
        return m;
    }

    private static double value(Map<String, Double> samples, String key) {
        return samples.getOrDefault(key, 0.0);
    }

    /** A sample that must be there (a zero read from a missing sample would pass for the wrong reason). */
    private static double sample(Map<String, Double> samples, String key) {
        assertTrue(samples.containsKey(key), "no sample " + key + " in " + samples.keySet());
        return samples.get(key);
    }

    @Test
    void promtoolAcceptsTheTextIncludingLabelValuesThatNeedEscaping() throws Exception {
        Path promtool = Path.of("/usr/bin/promtool");
        assumeTrue(Files.isExecutable(promtool), "promtool is not installed (Debian: apt-get install prometheus; .ci/run "
                + "installs it): the Prometheus text-format check cannot run here");
        Tenant t = Tenant.create(server);
        String model = "we\"ird\\model\u00e9";
        try (FakeModelServer f = FakeModelServer.ollama(model)) {
            t.device("esc", f, "[\"we\\\"ird\\\\model\u00e9\"]");
            Client.Response ask = t.gateway().post("/ask", "{\"prompt\":\"hi\",\"model\":\"we\\\"ird\\\\model\u00e9\"}");
            assertEquals(200, ask.status(), ask.text());
        }
        server.owner().post("/api/jobs", "{\"prompt\":\"queued forever\",\"model\":\"nobody-serves-it\"}");
        String text = scrape();
        assertTrue(text.contains("model=\"we\\\"ird\\\\model\u00e9\""), "escaped per the format: " + text);
        Process p = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
        p.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "promtool did not finish");
        assertEquals(0, p.exitValue(), "promtool check metrics: " + out + "\n--- the text:\n" + text);
        assertEquals("", out.strip(), "promtool found problems:\n" + out);

        // and a broken text is refused by the same check, so the check can fail
        Process bad = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
        bad.getOutputStream().write("# TYPE x counter\nx{a=\"unterminated} 1\n".getBytes(StandardCharsets.UTF_8));
        bad.getOutputStream().close();
        bad.getInputStream().readAllBytes();
        assertTrue(bad.waitFor(60, TimeUnit.SECONDS));
        assertTrue(bad.exitValue() != 0, "promtool accepted a broken text");
    }

    @Test
    void aGatewayCallMovesTheRequestCounterTheCallCounterAndBothHistograms() {
        Tenant t = Tenant.create(server);
        String serial = "gpu-" + t.userId(); // the call series are by device and model, not by user
        String labels = "device=\"" + serial + "\",model=\"m1\"";
        try (FakeModelServer f = FakeModelServer.ollama("m1")) {
            t.device(serial, f, "[\"m1\"]");
            Map<String, Double> before = samples(scrape());
            assertEquals(200, t.gateway().post("/ask", "{\"prompt\":\"hi\",\"model\":\"m1\"}").status());
            assertEquals(404, t.gateway().post("/ask", "{\"prompt\":\"hi\",\"model\":\"nope\"}").status());
            Map<String, Double> after = samples(scrape());
            assertEquals(1, value(after, "scorebook_http_requests_total{group=\"gateway\",status=\"200\"}")
                    - value(before, "scorebook_http_requests_total{group=\"gateway\",status=\"200\"}"));
            assertEquals(1, value(after, "scorebook_http_requests_total{group=\"gateway\",status=\"404\"}")
                    - value(before, "scorebook_http_requests_total{group=\"gateway\",status=\"404\"}"));
            assertEquals(1, value(after, "scorebook_gateway_calls_total{" + labels + ",outcome=\"ok\"}"));
            assertEquals(0, sample(after, "scorebook_gateway_calls_total{" + labels + ",outcome=\"error\"}"));
            assertEquals(1, value(after, "scorebook_gateway_latency_seconds_count{" + labels + "}"));
            assertEquals(1, value(after, "scorebook_gateway_latency_seconds_bucket{" + labels + ",le=\"+Inf\"}"));
            assertEquals(1, value(after, "scorebook_gateway_ttft_seconds_count{" + labels + "}"));
            double sum = value(after, "scorebook_gateway_latency_seconds_sum{" + labels + "}");
            double latencyMs = ((Number) t.usage(1).getFirst().get("latency_ms")).doubleValue();
            assertEquals(latencyMs / 1000, sum, 1e-6, "the histogram holds the usage row's latency");
            String device = "user=\"" + t.userId() + "\",device=\"" + serial + "\"";
            assertEquals(1, value(after, "scorebook_device_healthy{" + device + "}"));
            assertEquals(0, sample(after, "scorebook_device_circuit_open{" + device + "}"));
            assertEquals(0, sample(after, "scorebook_device_inflight{" + device + ",kind=\"ollama\"}"));
            assertTrue(value(after, "scorebook_database_size_bytes") > 0);
            assertTrue(sample(after, "scorebook_database_wal_size_bytes") >= 0, "the WAL's size is reported");
            assertTrue(after.containsKey("scorebook_usage_writer_backlog"));
            assertTrue(after.containsKey("scorebook_runs_executing"));

            JsonNode summary = server.owner().get("/metrics/summary").json();
            JsonNode latency = summary.at("/metrics/scorebook_gateway_latency_seconds");
            assertEquals("histogram", latency.path("type").asText());
            JsonNode mine = null;
            for (JsonNode s : latency.path("samples")) {
                if (s.at("/labels/device").asText().equals(serial)) {
                    mine = s;
                }
            }
            assertTrue(mine != null, summary.toString());
            assertEquals(1, mine.path("count").asLong());
            assertEquals(1, mine.at("/buckets/+Inf").asLong());
            assertEquals(sum, mine.path("sum").asDouble(), 1e-9);
        }
    }

    @Test
    void jobGaugesCountTheQueueAndAgeItsOldestJobWithTheClock() {
        Tenant t = Tenant.create(server);
        Map<String, Double> before = samples(scrape());
        for (int i = 0; i < 2; i++) {
            assertEquals(201, t.user().post("/api/jobs", "{\"prompt\":\"p\",\"model\":\"no-device-" + i + "\"}").status());
        }
        clock.advance(Duration.ofSeconds(90));
        Map<String, Double> after = samples(scrape());
        assertEquals(2, value(after, "scorebook_jobs{state=\"queued\"}") - value(before, "scorebook_jobs{state=\"queued\"}"));
        assertTrue(value(after, "scorebook_jobs_oldest_queued_age_seconds") >= 90, after.toString());
    }

    /**
     * One job in each state, moved there through an agent's claims: queued, retrying, running and failed are each
     * counted once; done and cancelled jobs are counted nowhere (no series, and no other state's count moves).
     */
    @Test
    void jobGaugesCountEachLiveStateAndLeaveFinishedJobsOut() {
        Tenant t = Tenant.create(server);
        String model = "jm-" + t.userId();
        Client.Response reg = t.user().post("/devices/register", "{\"serial\":\"agent-" + t.userId()
                + "\",\"kind\":\"agent\",\"models\":[\"" + model + "\"]}");
        assertTrue(reg.status() / 100 == 2, reg.text());
        Client agent = server.withHeaders("X-Device-Token", reg.json().path("device_token").asText());
        Map<String, Double> before = samples(scrape());

        claimAndThen(t, agent, model, "/complete", "\"output\":{\"text\":\"ok\"}");                             // done
        claimAndThen(t, agent, model, "/fail", "\"error\":{\"type\":\"bad\",\"message\":\"no\",\"retryable\":false}"); // failed
        claimAndThen(t, agent, model, "/fail", "\"error\":{\"type\":\"oom\",\"message\":\"x\",\"retryable\":true}");  // retrying
        claimAndThen(t, agent, model, null, null);                                                                   // running
        String cancelled = t.user().post("/api/jobs", "{\"prompt\":\"p\",\"model\":\"" + model + "\"}").json()
                .path("job_id").asText();
        assertEquals(200, t.user().post("/api/jobs/" + cancelled + "/cancel", "").status());
        assertEquals(201, t.user().post("/api/jobs", "{\"prompt\":\"p\",\"model\":\"" + model + "\"}").status()); // queued

        Map<String, Double> after = samples(scrape());
        for (String state : java.util.List.of("queued", "retrying", "running", "failed")) {
            String key = "scorebook_jobs{state=\"" + state + "\"}";
            assertEquals(1, sample(after, key) - sample(before, key), state);
        }
        for (String state : java.util.List.of("done", "cancelled")) {
            assertTrue(after.keySet().stream().noneMatch(k -> k.contains("state=\"" + state + "\"")), state + ": " + after);
        }
        JsonNode summary = server.owner().get("/metrics/summary").json().at("/metrics/scorebook_jobs/samples");
        java.util.Set<String> states = new java.util.TreeSet<>();
        summary.forEach(x -> states.add(x.at("/labels/state").asText()));
        assertEquals(java.util.Set.of("failed", "queued", "retrying", "running"), states);
    }

    /** Enqueues a job (2 attempts), claims it with the agent and, unless {@code action} is null, ends it so. */
    private static void claimAndThen(Tenant t, Client agent, String model, String action, String body) {
        String id = t.user().post("/api/jobs", "{\"prompt\":\"p\",\"model\":\"" + model + "\",\"max_attempts\":2}").json()
                .path("job_id").asText();
        Client.Response claim = agent.post("/worker/claim", "{}");
        assertEquals(200, claim.status(), claim.text());
        JsonNode job = claim.json().path("jobs").path(0);
        assertEquals(id, job.path("job_id").asText());
        if (action != null) {
            Client.Response r = agent.post("/worker/jobs/" + id + action, "{\"lease_id\":\"" + job.path("lease_id").asText()
                    + "\"," + body + "}");
            assertEquals(200, r.status(), r.text());
        }
    }

    @Test
    void theOwnerOrTheMetricsTokenMayReadAndNobodyElse() {
        Tenant t = Tenant.create(server);
        Client scraper = server.withHeaders("Authorization", "Bearer " + METRICS_TOKEN);
        assertEquals(200, scraper.get("/metrics").status());
        assertEquals(200, scraper.get("/metrics/summary").status());
        assertEquals(200, server.withHeaders("Authorization", "Bearer " + TestServer.OWNER_TOKEN).get("/metrics").status());
        // the metrics token opens nothing else, and only as a bearer
        assertEquals(401, scraper.get("/devices").status());
        assertEquals(401, scraper.get("/usage/summary").status());
        assertEquals(401, server.withHeaders("X-Api-Key", METRICS_TOKEN).post("/ask", "{\"prompt\":\"x\"}").status());
        assertEquals(401, server.withHeaders("X-User-Token", METRICS_TOKEN).get("/metrics").status());
        // another user is refused, no credential or a wrong one is a 401 that says how to authenticate
        Client.Response user = t.user().get("/metrics");
        assertEquals(403, user.status(), user.text());
        assertEquals("forbidden", user.errorCode());
        assertEquals(403, t.user().get("/metrics/summary").status());
        assertEquals(401, server.withHeaders("X-Api-Key", t.apiKey()).get("/metrics").status());
        Client.Response none = server.client(null).get("/metrics");
        assertEquals(401, none.status());
        assertEquals("Bearer", none.header("WWW-Authenticate").orElseThrow());
        assertEquals(401, server.withHeaders("Authorization", "Bearer " + METRICS_TOKEN + "x").get("/metrics").status());
        assertEquals(405, scraper.post("/metrics", "{}").status());
    }

    @Test
    void aMetricsTokenMustBeLongVisibleAscii() {
        ServerConfig base = ServerConfig.local(Path.of("unused"), null);
        assertThrows(IllegalArgumentException.class, () -> base.withMetricsToken("short"));
        assertThrows(IllegalArgumentException.class, () -> base.withMetricsToken("sixteen chars with spaces"));
        assertEquals("0123456789abcdef", base.withMetricsToken("0123456789abcdef").metricsToken());
    }

    @Test
    void labelValuesAreEscapedAsTheFormatSays() throws IOException {
        assertEquals("a\\\\b\\\"c\\nd", TextFormat.escapeLabel("a\\b\"c\nd"));
        TextFormat text = new TextFormat(8); // grows as it needs
        text.family("x_total", "counter", "help with \\ and\nnewline");
        text.sample(3, "k", "v\"");
        text.sample(-12.5, "k", "\u00e9", "l", "2");
        assertEquals("# HELP x_total help with \\\\ and\\nnewline\n# TYPE x_total counter\nx_total{k=\"v\\\"\"} 3\n"
                + "x_total{k=\"\u00e9\",l=\"2\"} -12.5\n", text.toString());
        assertEquals(text.toString(), new String(text.buffer(), 0, text.length(), StandardCharsets.UTF_8));
        text.reset().family("y", "gauge", "h");
        text.sample(1234567890123L);
        assertEquals("# HELP y h\n# TYPE y gauge\ny 1234567890123\n", text.toString(), "reused: the buffer starts over");
    }

    @Test
    void requestGroupsAreFoundInPlaceWithoutAllocating() {
        Map<String, String> cases = new TreeMap<>(Map.ofEntries(Map.entry("/ask", "gateway"), Map.entry("/ask_trace", "gateway"),
                Map.entry("/v1/chat/completions", "openai"), Map.entry("/devices/gpu1/heartbeat", "worker"),
                Map.entry("/devices", "devices"), Map.entry("/user/data/x", "datasets"), Map.entry("/user/jobs", "jobs"),
                Map.entry("/api/runs/latest/rows", "evals"), Map.entry("/api/keys", "auth"), Map.entry("/api", "other"),
                Map.entry("/api/", "other"), Map.entry("/", "dashboard"), Map.entry("/static/app.js", "dashboard"),
                Map.entry("/askme", "other"), Map.entry("/s/sbs_x", "share"), Map.entry("/metrics/summary", "metrics")));
        cases.forEach((path, group) -> assertEquals(group, RequestCounter.group(path).label, path));
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory
                .getThreadMXBean();
        String[] paths = cases.keySet().toArray(String[]::new);
        long before = threads.getCurrentThreadAllocatedBytes();
        int sum = 0;
        for (int i = 0; i < 20_000; i++) {
            sum += RequestCounter.group(paths[i % paths.length]).ordinal();
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(sum > 0);
        // a substring per request (the first version) is 24+ bytes each: 480 KB here
        assertTrue(allocated < 20_000, "grouping 20,000 requests allocated " + allocated + " bytes");
    }
}
