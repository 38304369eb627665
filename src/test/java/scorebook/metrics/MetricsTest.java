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
        String labels = "user=\"" + t.userId() + "\",device=\"gpu1\",model=\"m1\"";
        try (FakeModelServer f = FakeModelServer.ollama("m1")) {
            t.device("gpu1", f, "[\"m1\"]");
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
            assertEquals(1, value(after, "scorebook_device_healthy{user=\"" + t.userId() + "\",device=\"gpu1\"}"));
            assertEquals(0, sample(after, "scorebook_device_circuit_open{user=\"" + t.userId() + "\",device=\"gpu1\"}"));
            assertEquals(0, sample(after, "scorebook_device_inflight{user=\"" + t.userId() + "\",device=\"gpu1\",kind=\"ollama\"}"));
            assertTrue(value(after, "scorebook_database_size_bytes") > 0);
            assertTrue(sample(after, "scorebook_database_wal_size_bytes") >= 0, "the WAL's size is reported");
            assertTrue(after.containsKey("scorebook_usage_writer_backlog"));
            assertTrue(after.containsKey("scorebook_runs_executing"));

            JsonNode summary = server.owner().get("/metrics/summary").json();
            JsonNode latency = summary.at("/metrics/scorebook_gateway_latency_seconds");
            assertEquals("histogram", latency.path("type").asText());
            JsonNode mine = null;
            for (JsonNode s : latency.path("samples")) {
                if (s.at("/labels/user").asText().equals(String.valueOf(t.userId()))) {
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
        assertEquals("a\\\\b\\\"c\\nd", Family.escapeLabel("a\\b\"c\nd"));
        String text = Family.text(java.util.List.of(Family.of("x_total", "counter", "help with \\ and\nnewline")
                .add(3, "k", "v\"")));
        assertEquals("# HELP x_total help with \\\\ and\\nnewline\n# TYPE x_total counter\nx_total{k=\"v\\\"\"} 3\n", text);
    }
}
