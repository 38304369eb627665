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
import java.util.Arrays;
import java.util.List;

import scorebook.testing.TestServer;

/**
 * Cold start of the real jar (process spawn to the first 200 from /health, launched the way
 * run.sh launches it, AOT cache included when there is one), idle resident memory, jar size.
 */
public final class StartupBench implements Benchmark {
    private static final int RUNS = 9;

    @Override
    public String name() {
        return "startup";
    }

    @Override
    public List<Row> run() throws Exception {
        Path jar = Path.of(System.getProperty("scorebook.jar", "target/scorebook.jar"));
        String java = System.getProperty("scorebook.java", "java");
        List<String> aot = Arrays.stream(System.getProperty("scorebook.aot", "").split(" ")).filter(s -> !s.isBlank()).toList();
        HttpClient http = HttpClient.newHttpClient();
        double[] startMs = new double[RUNS];
        double[] rssMb = new double[RUNS];
        for (int i = 0; i < RUNS; i++) {
            Path dir = TestServer.tempDir();
            List<String> cmd = new ArrayList<>(List.of(java));
            cmd.addAll(aot);
            cmd.addAll(List.of("-jar", jar.toString(), "serve", "--port", "0", "--data", dir.toString()));
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try {
                BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
                String line = out.readLine();
                if (line == null || !line.startsWith("Scorebook listening on ")) {
                    throw new IllegalStateException("unexpected first line: " + line);
                }
                String url = line.substring("Scorebook listening on ".length());
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url + "/health")).build(),
                        HttpResponse.BodyHandlers.ofString());
                startMs[i] = (System.nanoTime() - t0) / 1e6;
                if (r.statusCode() != 200) {
                    throw new IllegalStateException("/health answered " + r.statusCode());
                }
                Thread.sleep(2000);
                rssMb[i] = rssKb(p.pid()) / 1024.0;
            } finally {
                p.destroy();
                p.waitFor();
                TestServer.deleteTree(dir);
            }
        }
        double jarMb = Files.size(jar) / 1024.0 / 1024.0;
        String work = RUNS + " starts" + (aot.isEmpty() ? "" : ", AOT cache");
        return List.of(
                new Row("cold start to first served request", work, Stats.median(startMs), Stats.percentile(startMs, 95), "ms",
                        "", "p50 ≤ 1000 ms", Stats.median(startMs) <= 1000),
                new Row("resident memory, idle server", work, Stats.median(rssMb), Stats.percentile(rssMb, 95), "MB",
                        "", "≤ 200 MB", Stats.median(rssMb) <= 200),
                new Row("jar size", "target/scorebook.jar", jarMb, jarMb, "MB", "", "≤ 40 MB", jarMb <= 40));
    }

    private static long rssKb(long pid) throws Exception {
        for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (l.startsWith("VmRSS:")) {
                return Long.parseLong(l.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS for " + pid);
    }
}
