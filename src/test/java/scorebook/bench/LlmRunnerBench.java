package scorebook.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.ServerConfig;
import scorebook.testing.TestServer;

/**
 * Whether the runner keeps up with its model: {@code llm} cases against an OpenAI-compatible server that
 * answers at once ({@link ModelStub}, a process of its own, as a real model server is), so that what is measured
 * is the runner's own cost per case (suite reading, row writes, scoring, events), and a rerun of a few selected
 * cases of that run.
 */
public final class LlmRunnerBench implements Benchmark {
    private static final int CONCURRENCY = 16;
    private static final int LLM_CASES = 2000;
    private static final int LLM_RERUN = 200;
    private static final int LLM_WARM_UPS = 3;
    private static final int LLM_REPEATS = 5;

    @Override
    public String name() {
        return "llm-runner";
    }

    @Override
    public List<Row> run() throws Exception {
        return llm();
    }

    /** CPU time of this whole process (the server and the benchmark's calls), apart from waiting for a core. */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /**
     * 2,000 {@code llm} cases against an OpenAI-compatible server that answers at once, at concurrency 16, on
     * a warm server (a few runs first), from the API call to the run's end; then reruns of 200 random cases.
     */
    private List<Row> llm() throws Exception {
        Path data = TestServer.tempDir();
        Path evals = Files.createDirectories(data.resolve("evals"));
        StringBuilder yaml = new StringBuilder("""
                dataset: llm
                target: {llm: {model: tiny, system: "Answer with a number.", prompt: "What is {{input}}?"}}
                scorers: [equals, {type: contains, value: "4", key: has_four}]
                cases:
                """);
        for (int i = 0; i < LLM_CASES; i++) {
            yaml.append("  - {input: \"").append(i).append("+0\", reference: \"4\", labels: [l").append(i % 5).append("]}\n");
        }
        Files.writeString(evals.resolve("llm.yaml"), yaml);
        double[] runs = new double[LLM_REPEATS];
        double[] cpu = new double[LLM_REPEATS];
        double[] reruns = new double[LLM_REPEATS];
        double[] rerunCpu = new double[LLM_REPEATS];
        Random random = new Random(11);
        double[] stubCpu = new double[LLM_REPEATS];
        try (ModelStub fake = ModelStub.start("tiny", "4");
             TestServer server = TestServer.start(ServerConfig.local(data, TestServer.OWNER_TOKEN).withEvalPath(evals))) {
            server.owner().post("/devices/register", "{\"serial\": \"fake\", \"kind\": \"openai\", \"base_url\": \""
                    + fake.url() + "\", \"models\": [\"tiny\"], \"max_concurrency\": 64}");
            server.owner().put("/api/config", "{\"concurrency\": " + CONCURRENCY + "}");
            long owner = server.owner().get("/api/me").json().at("/user/id").asLong();
            for (int r = -LLM_WARM_UPS; r < LLM_REPEATS; r++) {
                long c0 = processCpuNanos();
                long s0 = fake.cpuNanos();
                long t0 = System.nanoTime();
                int status = server.owner().post("/api/runs/new", "{}").status();
                if (status != 200) {
                    throw new IllegalStateException("new run answered " + status);
                }
                server.running().runner().await(owner);
                double wall = (System.nanoTime() - t0) / 1e9;
                double cpuMs = (processCpuNanos() - c0) / 1e6;
                double stubCpuMs = (fake.cpuNanos() - s0) / 1e6;
                List<Integer> picked = new ArrayList<>();
                while (picked.size() < LLM_RERUN) {
                    int i = random.nextInt(LLM_CASES);
                    if (!picked.contains(i)) {
                        picked.add(i);
                    }
                }
                c0 = processCpuNanos();
                t0 = System.nanoTime();
                status = server.owner().post("/api/runs/rerun", "{\"indices\": " + picked + "}").status();
                if (status != 200) {
                    throw new IllegalStateException("rerun answered " + status);
                }
                server.running().runner().await(owner);
                double rerun = (System.nanoTime() - t0) / 1e9;
                double rerunCpuMs = (processCpuNanos() - c0) / 1e6;
                JsonNode res = server.owner().get("/api/runs/latest/rows?limit=0").json();
                if (res.at("/totals/total_errors").asInt() != 0 || res.path("total").asInt() != LLM_CASES
                        || res.at("/totals/statuses/completed").asInt() != LLM_CASES) {
                    throw new IllegalStateException("the llm run did not complete cleanly: " + res);
                }
                if (r >= 0) {
                    runs[r] = wall;
                    cpu[r] = cpuMs / LLM_CASES;
                    stubCpu[r] = stubCpuMs / LLM_CASES;
                    reruns[r] = rerun;
                    rerunCpu[r] = rerunCpuMs;
                }
            }
        } finally {
            TestServer.deleteTree(data);
        }
        double rate = LLM_CASES / Stats.median(runs);
        return List.of(
                new Row("2,000 llm cases, 0 ms model, concurrency 16", LLM_CASES + " cases × " + LLM_REPEATS,
                        Stats.median(runs) * 1000, Stats.percentile(runs, 95) * 1000, "ms",
                        String.format(Locale.ROOT, "%,.0f cases/s", rate), "≥ 2,000 cases/s", rate >= 2000),
                new Row("CPU per llm case: the server (runner, gateway, writes)", LLM_CASES + " cases × " + LLM_REPEATS,
                        Stats.median(cpu), Stats.percentile(cpu, 95), "ms",
                        String.format(Locale.ROOT, "%,.0f cases/s per idle core", 1 / Stats.median(cpu) * 1000),
                        "(information)", true),
                new Row("  and the model stub's process", LLM_CASES + " cases × " + LLM_REPEATS,
                        Stats.median(stubCpu), Stats.percentile(stubCpu, 95), "ms", "", "(information)", true),
                new Row("rerun 200 selected llm cases of that run", LLM_RERUN + " cases × " + LLM_REPEATS,
                        Stats.median(reruns) * 1000, Stats.percentile(reruns, 95) * 1000, "ms", "", "≤ 200 ms",
                        Stats.median(reruns) <= 0.2),
                new Row("CPU per rerun of 200 (the server)", LLM_RERUN + " cases × " + LLM_REPEATS,
                        Stats.median(rerunCpu), Stats.percentile(rerunCpu, 95), "ms", "", "(information)", true));
    }

}
