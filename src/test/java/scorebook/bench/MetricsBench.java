package scorebook.bench;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import scorebook.testing.FakeModelServer;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;
import scorebook.usage.UsageStore;

/**
 * GET /metrics (issue 14: answered ≤ 5 ms with 100 devices and 1,000,000 usage rows). The database holds N usage
 * rows (default 1,000,000, METRICS_BENCH_ROWS to change; generated once in the temp folder and reused), 100 model
 * servers on one fake Ollama, a call through each (so every device has its histogram series) and 1,000 queued
 * jobs (of another user, without devices). GET /health on the same server is the baseline: what an answer costs with no work in it.
 */
public final class MetricsBench implements Benchmark {
    private static final long DAY = 86_400_000L;
    private final HttpClient http = HttpClient.newHttpClient();
    private String key;

    @Override
    public String name() {
        return "metrics";
    }

    @Override
    public List<Row> run() throws Exception {
        int n = Integer.parseInt(System.getenv().getOrDefault("METRICS_BENCH_ROWS", "1000000"));
        // outside the repository, as TestServer requires; kept between runs (generating takes minutes)
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "scorebook-metrics-bench-" + n);
        if (!Files.exists(dir.resolve("generated"))) {
            TestServer.deleteTree(dir);
            Files.createDirectories(dir);
            try (TestServer server = TestServer.startOn(dir)) {
                generate(server, n);
            }
            Files.writeString(dir.resolve("generated"), "rows " + n + "\n");
        }
        List<Row> out = new ArrayList<>();
        try (TestServer server = TestServer.startOn(dir); FakeModelServer fake = FakeModelServer.ollama("m1")) {
            for (int d = 0; d < 100; d++) {
                post(server, "/devices/register", "{\"serial\":\"dev-" + d + "\",\"kind\":\"ollama\",\"base_url\":\""
                        + fake.url() + "\",\"models\":[\"m1\"],\"max_concurrency\":4}");
            }
            // devices registered by an earlier run rest after failing their first checks: check them now
            post(server, "/devices/reload", "");
            for (int d = 0; d < 100; d++) {
                post(server, "/ask", "{\"prompt\":\"hi\",\"model\":\"m1\",\"device_serial\":\"dev-" + d + "\"}");
            }
            // 1,000 queued jobs of a user without devices: the gauges count them, and no dispatcher tries to claim
            // them (each push device's claim walks the queue it may take every 500 ms, which is the jobs feature's cost)
            String parked = "bench-parked";
            long jobs = server.running().db().read(h -> h.createQuery(
                    "SELECT count(*) FROM jobs WHERE state IN ('queued', 'retrying')").mapTo(long.class).one());
            String parkedToken = Tenant.create(server).token();
            for (long j = jobs; j < 1000; j++) {
                send(server, "/api/jobs", "{\"prompt\":\"p\",\"model\":\"" + parked + "\"}", "X-User-Token", parkedToken);
            }
            String work = String.format(Locale.ROOT, "%,d rows, 100 devices", n);
            Row health = timed(server, "GET /health (baseline)", work, "/health", Double.MAX_VALUE, "");
            Row metrics = timed(server, "GET /metrics", work, "/metrics", 5, "p50 ≤ 5 ms");
            out.add(metrics);
            out.add(timed(server, "GET /metrics/summary", work, "/metrics/summary", 5, "p50 ≤ 5 ms"));
            out.add(health);
            out.add(new Row("  /metrics vs /health", "same server", metrics.p50() / health.p50(), metrics.p95() / health.p95(),
                    "×", "", "", true));
        }
        return out;
    }

    private Row timed(TestServer server, String name, String work, String path, double target, String targetText) throws Exception {
        for (int i = 0; i < 100; i++) {
            get(server, path);
        }
        double[] ms = new double[300];
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long cpu0 = os.getProcessCpuTime();
        for (int i = 0; i < ms.length; i++) {
            long s = System.nanoTime();
            get(server, path);
            ms[i] = (System.nanoTime() - s) / 1e6;
        }
        double cpuMs = (os.getProcessCpuTime() - cpu0) / 1e6 / ms.length;
        double p50 = Stats.median(ms);
        return new Row(name, work, p50, Stats.percentile(ms, 95), "ms",
                String.format(Locale.ROOT, "CPU %.2f ms/req", cpuMs), targetText, p50 <= target);
    }

    private static void generate(TestServer server, int n) {
        long userId = server.running().db().read(h -> h.createQuery("SELECT id FROM users WHERE name = 'owner'")
                .mapTo(long.class).one());
        UsageStore store = server.running().parts().devices().usage();
        Random r = new Random(3);
        long end = System.currentTimeMillis();
        double step = 30.0 * DAY / n;
        HexFormat hex = HexFormat.of();
        List<UsageStore.Row> batch = new ArrayList<>(5000);
        for (int i = 0; i < n; i++) {
            double latency = Math.exp(7 + 0.6 * r.nextGaussian());
            batch.add(new UsageStore.Row(userId, null, end - 30 * DAY + (long) (i * step), "gateway",
                    "req_" + hex.toHexDigits(r.nextLong()), "dev-" + r.nextInt(100), "m1", "prod", 20 + r.nextInt(300),
                    50 + r.nextInt(400), latency, latency / 5, 40.0, true, null, null, null, null, null));
            if (batch.size() == 5000) {
                store.insertNow(batch);
                batch.clear();
            }
        }
        if (!batch.isEmpty()) {
            store.insertNow(batch);
        }
    }

    private void post(TestServer server, String path, String body) throws Exception {
        if (path.equals("/ask")) {
            send(server, path, body, "X-Api-Key", apiKey(server)); // the gateway takes an API key
        } else {
            send(server, path, body, "Authorization", "Bearer " + TestServer.OWNER_TOKEN);
        }
    }

    private void send(TestServer server, String path, String body, String header, String value) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create(server.base() + path)).header(header, value)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
        HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) {
            throw new IllegalStateException("POST " + path + " answered " + r.statusCode() + ": " + r.body());
        }
    }

    private String apiKey(TestServer server) {
        if (key == null) {
            key = server.owner().post("/api/keys", "{\"name\":\"bench\"}").json().path("secret").asText();
        }
        return key;
    }

    /**
     * A timed GET, through the benchmarks' light HTTP/1.1 client (a kept-alive socket, the body read to its end):
     * java.net.http's client alone took 2.4 ms per /health here, which no scraper spends.
     */
    private void get(TestServer server, String path) throws Exception {
        int status = scorebook.devices.LoadClient.get(URI.create(server.base() + path), TestServer.OWNER_TOKEN);
        if (status != 200) {
            throw new IllegalStateException("GET " + path + " answered " + status);
        }
    }
}
