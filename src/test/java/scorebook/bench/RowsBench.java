package scorebook.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

import scorebook.devices.LoadClient;
import scorebook.server.Json;
import scorebook.testing.TestServer;

/**
 * GET /api/runs/{id}/rows on a 10,000-result run (the rows of {@link EvalsBench}): a 50-row page at random
 * offsets, a filtered and sorted page, a search, and requests per second with 4 clients ({@link Wrk}'s 4
 * connections; also 4 threads of this JVM, for comparison).
 */
public final class RowsBench implements Benchmark {
    private static final int ROWS = 10_000;
    private static final int SAMPLES = 200;
    private static final int FRESH_SAMPLES = 60;
    private static final int CLIENTS = 4;
    private static final long LOAD_NANOS = 4_000_000_000L;
    private static final int WRK_WARM_SECONDS = 20;
    private static final int WRK_SECONDS = 10;
    private static final Random RANDOM = new Random(7);

    private final HttpClient http = HttpClient.newHttpClient();

    @Override
    public String name() {
        return "rows";
    }

    @Override
    public List<Row> run() throws Exception {
        try (TestServer server = TestServer.start()) {
            String base = server.base();
            String run = Json.MAPPER.readTree(post(base + "/api/runs", "{\"session_name\": \"bench\"}")).path("run_id").asText();
            for (int b = 0; b < ROWS / EvalsBench.BATCH; b++) {
                post(base + "/api/runs/" + run + "/results", EvalsBench.batch(b * EvalsBench.BATCH));
            }
            String rows = base + "/api/runs/" + run + "/rows?limit=50";
            String filtered = rows + "&has_error=0&score_passed=accuracy,true&dataset_out=ds3&sort=-latency&sort=function";
            String search = rows + "&search=lazy%20dog&sort=score:quality";
            for (int i = 0; i < 600; i++) {
                // warm-up: the JIT compiles the request path (cached views and, one in ten, new ones)
                LoadClient.get(URI.create(page(i % 3 == 0 ? rows : i % 3 == 1 ? filtered : search, 5000)
                        + (i % 10 == 0 ? fresh() : "")), TestServer.OWNER_TOKEN);
            }
            double[] plain = time(rows, ROWS, false, SAMPLES);
            double[] sorted = time(filtered, 2500, false, SAMPLES);
            // a new filter each time (a threshold never asked before): nothing cached, the whole run filtered
            double[] sortedFresh = time(filtered, 2500, true, FRESH_SAMPLES);
            double[] foundFresh = time(search, 1500, true, FRESH_SAMPLES);
            double inJvm = load(rows);
            // the figure: 4 connections of wrk on a warm server (the JIT needs some 30,000 of these requests to
            // settle; a first 10 s run from cold measured 720–1,100 req/s, the third 1,800–2,000)
            double rate = Double.NaN;
            if (Wrk.available()) {
                Wrk.rate(rows, TestServer.OWNER_TOKEN, ROWS - 50, CLIENTS, WRK_WARM_SECONDS);
                rate = Wrk.rate(rows, TestServer.OWNER_TOKEN, ROWS - 50, CLIENTS, WRK_SECONDS);
            }
            String work = String.format(Locale.ROOT, "%,d results", ROWS);
            return List.of(
                    new Row("GET /rows, 50-row page, random offset", work, Stats.median(plain), Stats.percentile(plain, 95), "ms",
                            "", "p50 ≤ 5 ms", Stats.median(plain) <= 5),
                    new Row("GET /rows, next page of a filtered + sorted view", work, Stats.median(sorted),
                            Stats.percentile(sorted, 95), "ms", "", "≤ 100 ms", Stats.median(sorted) <= 100),
                    new Row("GET /rows, a new filter (4 rules) + 2 sorts", work, Stats.median(sortedFresh),
                            Stats.percentile(sortedFresh, 95), "ms", "", "≤ 100 ms", Stats.median(sortedFresh) <= 100),
                    new Row("GET /rows, a new text search + score sort", work, Stats.median(foundFresh),
                            Stats.percentile(foundFresh, 95), "ms", "", "≤ 100 ms", Stats.median(foundFresh) <= 100),
                    Double.isNaN(rate)
                            ? new Row("GET /rows, 50-row pages, 4 clients: wrk is not installed", work, 0, 0, "ms", "",
                                    "≥ 2,000 req/s", false)
                            : new Row("GET /rows, 50-row pages, 4 clients (wrk)", work, 1000.0 * CLIENTS / rate, 0, "ms",
                                    String.format(Locale.ROOT, "%,.0f req/s", rate), "≥ 2,000 req/s", rate >= 2000),
                    new Row("  the same from 4 threads in this JVM (client and server share the CPU)", work,
                            1000.0 * CLIENTS / inJvm, 0, "ms", String.format(Locale.ROOT, "%,.0f req/s", inJvm),
                            "(information)", true));
        }
    }

    /** A score rule no earlier request asked, so that the server cannot answer from its cache. */
    private static String fresh() {
        return "&score_value=quality,gte,0.00" + RANDOM.nextInt(1_000_000);
    }

    /** Milliseconds per request for {@code samples} requests at random offsets below {@code span}, each a new filter if {@code fresh}. */
    private static double[] time(String url, int span, boolean fresh, int samples) throws Exception {
        double[] out = new double[samples];
        for (int i = 0; i < samples; i++) {
            URI uri = URI.create(page(url, span) + (fresh ? fresh() : ""));
            long t0 = System.nanoTime();
            int status = LoadClient.get(uri, TestServer.OWNER_TOKEN);
            out[i] = (System.nanoTime() - t0) / 1e6;
            if (status != 200) {
                throw new IllegalStateException(uri + " answered " + status);
            }
        }
        return out;
    }

    /** Requests per second from {@link #CLIENTS} threads asking for random pages one after another. */
    private static double load(String url) throws Exception {
        AtomicLong done = new AtomicLong();
        long end = System.nanoTime() + LOAD_NANOS;
        List<Thread> threads = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int c = 0; c < CLIENTS; c++) {
            threads.add(Thread.ofPlatform().start(() -> {
                Random random = new Random(Thread.currentThread().threadId());
                try {
                    while (System.nanoTime() < end) {
                        URI uri = URI.create(url + "&offset=" + random.nextInt(ROWS - 50));
                        if (LoadClient.get(uri, TestServer.OWNER_TOKEN) != 200) {
                            throw new IllegalStateException(uri + " failed");
                        }
                        done.incrementAndGet();
                    }
                } catch (java.io.IOException e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        return done.get() / ((System.nanoTime() - t0) / 1e9);
    }

    private static String page(String url, int span) {
        return url + "&offset=" + RANDOM.nextInt(Math.max(1, span - 50));
    }

    private String post(String url, String body) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).header("X-User-Token", TestServer.OWNER_TOKEN)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) {
            throw new IllegalStateException("POST " + url + " answered " + r.statusCode() + ": " + r.body());
        }
        return r.body();
    }
}
