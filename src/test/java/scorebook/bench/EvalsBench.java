package scorebook.bench;

import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import scorebook.evals.EvalStore;
import scorebook.server.Json;
import scorebook.testing.TestServer;

/**
 * The eval API on a 10,000-result run (about 1 KB of input and output per result), through a real
 * server in this process: appending in batches of 500, GET /results, one result, the chips and totals
 * views, and the CSV export.
 */
public final class EvalsBench implements Benchmark {
    private static final int ROWS = 10_000;
    static final int BATCH = 500;
    /** Enough for the JIT's second tier to finish compiling the append path on two shared cores. */
    private static final int WARM_UP_BATCHES = 150;
    private static final Random RANDOM = new Random(42);
    private static final String WORDS = "the quick brown fox jumps over a lazy dog while models answer questions about "
            + "capitals numbers code and poems with varying accuracy latency and style ";

    private final HttpClient http = HttpClient.newHttpClient();
    private String base;

    @Override
    public String name() {
        return "evals";
    }

    @Override
    public List<Row> run() throws Exception {
        try (TestServer server = TestServer.start()) {
            base = server.base();
            // warm-up: a throw-away run loaded and read a few times, so that the figures are the steady state
            String warm = createRun("warm-up");
            for (int b = 0; b < WARM_UP_BATCHES; b++) {
                post("/api/runs/" + warm + "/results", batch(b * BATCH));
            }
            for (int i = 0; i < 5; i++) {
                get("/results");
                get("/api/runs/" + warm + "/export/csv");
            }

            String run = createRun("bench");
            double[] appendMs = new double[ROWS / BATCH];
            long cpuNanos = 0;
            for (int b = 0; b < appendMs.length; b++) {
                String body = batch(b * BATCH);
                long c0 = processCpuNanos();
                long t0 = System.nanoTime();
                post("/api/runs/" + run + "/results", body);
                appendMs[b] = ms(t0);
                cpuNanos += processCpuNanos() - c0;
            }
            // the process's CPU clock ticks coarsely: a mean over the batches, not a median
            double appendCpuMs = cpuNanos / 1e6 / appendMs.length;
            // a second run appended the same way doubles the samples
            String run2 = createRun("bench-2");
            double[] appendMs2 = new double[ROWS / BATCH];
            for (int b = 0; b < appendMs2.length; b++) {
                String body = batch(b * BATCH);
                long t0 = System.nanoTime();
                post("/api/runs/" + run2 + "/results", body);
                appendMs2[b] = ms(t0);
            }
            double[] append = concat(appendMs, appendMs2);
            post("/api/runs/" + run + "/activate", "{}");

            double[] results = time(30, () -> get("/results"));
            double[] one = time(300, () -> get("/api/runs/" + run + "/results/" + RANDOM.nextInt(ROWS)));
            long userId = server.running().db().read(h -> h.createQuery("SELECT id FROM users WHERE name = 'owner'")
                    .mapTo(long.class).one());
            EvalStore store = new EvalStore(server.running().db());
            double[] chips = time(50, () -> store.readRun(userId, run, false, view -> {
                view.totals();
                return view.chips();
            }));
            double[] csv = time(20, () -> get("/api/runs/" + run + "/export/csv"));
            double[] firstByte = new double[20];
            for (int i = 0; i < firstByte.length; i++) {
                firstByte[i] = firstByte("/api/runs/" + run + "/export/csv");
            }
            long csvBytes = getBytes("/api/runs/" + run + "/export/csv");
            long resultsBytes = getBytes("/results");

            String work = String.format(Locale.ROOT, "%,d results", ROWS);
            double appendRate = BATCH / (Stats.median(append) / 1000);
            return List.of(
                    new Row("append results, batches of 500", String.format(Locale.ROOT, "%d batches", append.length),
                            Stats.median(append), Stats.percentile(append, 95), "ms",
                            String.format(Locale.ROOT, "%,.0f results/s", appendRate), "≥ 20,000 results/s",
                            appendRate >= 20_000),
                    new Row("append CPU per batch, server+client (mean)",
                            String.format(Locale.ROOT, "%d batches", appendMs.length), appendCpuMs, appendCpuMs, "ms", "",
                            "(information)", true),
                    new Row("GET /results (active run)", work + ", " + mb(resultsBytes), Stats.median(results),
                            Stats.percentile(results, 95), "ms", "", "p50 ≤ 150 ms", Stats.median(results) <= 150),
                    new Row("GET /api/runs/{id}/results/{i}", work, Stats.median(one), Stats.percentile(one, 95), "ms",
                            "", "p50 ≤ 5 ms", Stats.median(one) <= 5),
                    new Row("score chips + totals (views)", work, Stats.median(chips), Stats.percentile(chips, 95), "ms",
                            "", "≤ 20 ms", Stats.median(chips) <= 20),
                    new Row("CSV export", work + ", " + mb(csvBytes), Stats.median(csv), Stats.percentile(csv, 95), "ms",
                            "", "≤ 300 ms", Stats.median(csv) <= 300),
                    new Row("CSV export, first byte (streamed)", work, Stats.median(firstByte), Stats.percentile(firstByte, 95),
                            "ms", "", "streamed", Stats.median(firstByte) < Stats.median(csv) / 2));
        }
    }

    private String createRun(String name) throws Exception {
        String r = post("/api/runs", "{\"session_name\": \"bench\", \"run_name\": \"" + name + "\"}");
        return Json.MAPPER.readTree(r).path("run_id").asText();
    }

    /** 500 rows, each with about 500 characters of input and 500 of output, two scores and a latency. */
    static String batch(int first) {
        StringBuilder b = new StringBuilder(BATCH * 1300).append("{\"results\": [");
        for (int i = 0; i < BATCH; i++) {
            int n = first + i;
            if (i > 0) {
                b.append(',');
            }
            b.append("{\"function\": \"test_case[").append(n).append("]\", \"dataset\": \"ds").append(n % 7)
                    .append("\", \"labels\": [\"bench\"], \"result\": {\"input\": {\"prompt\": \"").append(text(480))
                    .append("\"}, \"output\": \"").append(text(500)).append("\", \"reference\": \"answer ").append(n)
                    .append("\", \"scores\": [{\"key\": \"accuracy\", \"passed\": ").append(RANDOM.nextBoolean())
                    .append("}, {\"key\": \"quality\", \"value\": ").append(RANDOM.nextDouble())
                    .append("}], \"latency\": ").append(RANDOM.nextDouble() * 2)
                    .append(", \"metadata\": {\"model\": \"m").append(n % 3).append("\"}}}");
        }
        return b.append("]}").toString();
    }

    private static String text(int length) {
        int start = RANDOM.nextInt(WORDS.length() / 2);
        StringBuilder b = new StringBuilder(length);
        while (b.length() < length) {
            b.append(WORDS, start, WORDS.length());
            start = 0;
        }
        return b.substring(0, length);
    }

    private interface Call {
        Object call() throws Exception;
    }

    private static double[] time(int n, Call call) throws Exception {
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            call.call();
            out[i] = ms(t0);
        }
        return out;
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(base + path)).header("X-User-Token", TestServer.OWNER_TOKEN);
    }

    private String post(String path, String body) throws Exception {
        HttpResponse<String> r = http.send(request(path).POST(HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) {
            throw new IllegalStateException("POST " + path + " answered " + r.statusCode() + ": " + r.body());
        }
        return r.body();
    }

    private byte[] get(String path) throws Exception {
        HttpResponse<byte[]> r = http.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("GET " + path + " answered " + r.statusCode());
        }
        return r.body();
    }

    private long getBytes(String path) throws Exception {
        return get(path).length;
    }

    /** Milliseconds until the first byte of the body arrives; the rest is read and dropped. */
    private double firstByte(String path) throws Exception {
        long t0 = System.nanoTime();
        HttpResponse<InputStream> r = http.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = r.body()) {
            in.read();
            double ms = ms(t0);
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return ms;
        }
    }

    /** CPU time of this whole process (server and client threads), for cost apart from waiting. */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static double ms(long t0) {
        return (System.nanoTime() - t0) / 1e6;
    }

    private static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1024.0 / 1024.0);
    }

    private static double[] concat(double[] a, double[] b) {
        double[] out = new double[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
