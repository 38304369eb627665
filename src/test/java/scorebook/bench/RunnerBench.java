package scorebook.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;
import scorebook.server.ServerConfig;
import scorebook.testing.TestServer;

/**
 * The runner through the API: 1,000 cases of a 50 ms command at concurrency 16 against the ideal
 * wall time, and how soon a row's change reaches a server-sent-events client ({@link LlmRunnerBench}: the
 * runner's own overhead).
 */
public final class RunnerBench implements Benchmark {
    private static final int CASES = 1000;
    private static final int CONCURRENCY = 16;
    private static final int REPEATS = 3;
    private static final int SSE_CASES = 300;

    @Override
    public String name() {
        return "runner";
    }

    @Override
    public List<Row> run() throws Exception {
        List<Row> rows = new ArrayList<>();
        rows.add(throughput());
        rows.add(sseLatency());
        return rows;
    }

    private Row throughput() throws Exception {
        double ideal = CASES * 0.050 / CONCURRENCY;
        double[] walls = new double[REPEATS];
        for (int r = 0; r < REPEATS; r++) {
            Path data = TestServer.tempDir();
            Path evals = Files.createDirectories(data.resolve("evals"));
            StringBuilder yaml = new StringBuilder("target: {command: [sleep, '0.05']}\ncases:\n");
            for (int i = 0; i < CASES; i++) {
                yaml.append("  - {input: ").append(i).append("}\n");
            }
            Files.writeString(evals.resolve("sleepy.yaml"), yaml);
            try (TestServer server = TestServer.start(ServerConfig.local(data, TestServer.OWNER_TOKEN).withEvalPath(evals))) {
                server.owner().put("/api/config", "{\"concurrency\": " + CONCURRENCY + "}");
                long owner = server.owner().get("/api/me").json().at("/user/id").asLong();
                long t0 = System.nanoTime();
                int status = server.owner().post("/api/runs/new", "{}").status();
                if (status != 200) {
                    throw new IllegalStateException("new run answered " + status);
                }
                server.running().runner().await(owner);
                walls[r] = (System.nanoTime() - t0) / 1e9;
                JsonNode res = server.owner().get("/results").json();
                if (res.path("total_errors").asInt() != 0 || res.path("total_evaluations").asInt() != CASES) {
                    throw new IllegalStateException("the run did not complete cleanly");
                }
            } finally {
                TestServer.deleteTree(data);
            }
        }
        double p50 = Stats.median(walls);
        return new Row("1,000 × 50 ms command, concurrency 16", CASES + " cases × " + REPEATS, p50 * 1000,
                Stats.percentile(walls, 95) * 1000, "ms",
                String.format(Locale.ROOT, "%.0f cases/s, %.2f× ideal", CASES / p50, p50 / ideal),
                String.format(Locale.ROOT, "≤ %.0f ms (1.2×)", ideal * 1.2 * 1000), p50 <= ideal * 1.2);
    }

    /** The target prints the time it ends; the client notes when the completed row arrives. */
    private Row sseLatency() throws Exception {
        Path data = TestServer.tempDir();
        Path evals = Files.createDirectories(data.resolve("evals"));
        StringBuilder yaml = new StringBuilder("target: {command: 'sleep 0.02; date +%s%3N'}\ncases:\n");
        for (int i = 0; i < SSE_CASES; i++) {
            yaml.append("  - {input: ").append(i).append("}\n");
        }
        Files.writeString(evals.resolve("stamp.yaml"), yaml);
        List<Double> delays = new ArrayList<>();
        try (TestServer server = TestServer.start(ServerConfig.local(data, TestServer.OWNER_TOKEN).withEvalPath(evals))) {
            server.owner().put("/api/config", "{\"concurrency\": 4}");
            String runId = server.owner().post("/api/runs/new", "{\"indices\": [0]}").json().path("run_id").asText();
            long owner = server.owner().get("/api/me").json().at("/user/id").asLong();
            server.running().runner().await(owner);
            HttpRequest request = HttpRequest.newBuilder(URI.create(server.base() + "/api/runs/" + runId + "/events"))
                    .header("X-User-Token", TestServer.OWNER_TOKEN).build();
            HttpResponse<java.io.InputStream> stream = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofInputStream());
            try (BufferedReader in = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
                in.readLine();
                in.readLine();
                in.readLine();
                server.owner().post("/api/runs/rerun", null);
                String event = "";
                while (true) {
                    String line = in.readLine();
                    if (line.startsWith("event: ")) {
                        event = line.substring(7);
                    } else if (line.startsWith("data: ")) {
                        if (event.equals("done")) {
                            break;
                        }
                        long now = System.currentTimeMillis();
                        JsonNode row = Json.MAPPER.readTree(line.substring(6)).path("row");
                        if (row.at("/result/status").asText().equals("completed")) {
                            delays.add((double) (now - Long.parseLong(row.at("/result/output").asText().strip())));
                        }
                    }
                }
            }
        } finally {
            TestServer.deleteTree(data);
        }
        double[] d = delays.stream().mapToDouble(Double::doubleValue).toArray();
        return new Row("row change → SSE client (target exit included)", d.length + " rows", Stats.median(d),
                Stats.percentile(d, 95), "ms", "", "p95 ≤ 100 ms", Stats.percentile(d, 95) <= 100);
    }
}
