package scorebook.jobs;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.testing.Client;
import scorebook.testing.FakeModelServer;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static scorebook.jobs.JobsFixture.until;

/** The packaged jar as a real process: kill -9 with jobs in every state, the job and dlq commands, the agent. */
class JobsJarIT {
    private static final Path JAR = Path.of(System.getProperty("scorebook.jar", "target/scorebook.jar")).toAbsolutePath();
    private static final String JAVA = ProcessHandle.current().info().command().orElse("java");
    private static final String TOKEN = "jobs-it-token";

    private final Path home = TestServer.tempDir();
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void clean() {
        started.forEach(Process::destroyForcibly);
        TestServer.deleteTree(home);
    }

    private record Served(Process process, Client owner, String base) {
    }

    private Served serve() throws IOException {
        ProcessBuilder pb = new ProcessBuilder(JAVA, "-jar", JAR.toString(), "serve", "--port", "0", "--data", "data")
                .directory(home.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("SCOREBOOK_TOKEN", TOKEN);
        Process p = pb.start();
        started.add(p);
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String listening = out.readLine();
        assertTrue(listening != null && listening.startsWith("Scorebook listening on "), "first line: " + listening);
        String base = listening.substring("Scorebook listening on ".length());
        return new Served(p, Client.forToken(base, TOKEN), base);
    }

    private Process start(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(JAVA, "-jar", JAR.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(home.toFile()).redirectErrorStream(true);
        pb.environment().put("SCOREBOOK_TOKEN", TOKEN);
        Process p = pb.start();
        started.add(p);
        return p;
    }

    private String run(int exitCode, String... args) throws Exception {
        Process p = start(args);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(exitCode, p.exitValue(), out);
        return out;
    }

    private static String id(Client.Response r) {
        assertEquals(201, r.status(), r.text());
        return r.json().path("job_id").asText();
    }

    private static String state(Client owner, String id) {
        return owner.get("/api/jobs/" + id).json().path("state").asText();
    }

    @Test
    void afterKillDashNineNoJobIsLostAndNoneStaysRunningPastItsLease() throws Exception {
        try (FakeModelServer model = FakeModelServer.ollama("pushed").holdAfterFirstToken()) {
            Served first = serve();
            Client owner = first.owner();
            Client.Response reg = owner.post("/devices/register", "{\"serial\":\"phone\",\"kind\":\"agent\",\"models\":[\"pulled\"]}");
            Client agent = Client.forToken(first.base(), null);
            String device = reg.json().path("device_token").asText();
            assertEquals(201, owner.post("/devices/register", "{\"serial\":\"gpu\",\"kind\":\"ollama\",\"base_url\":\""
                    + model.url() + "\",\"models\":[\"pushed\"]}").status());

            Map<String, String> jobs = new LinkedHashMap<>();
            jobs.put("done", id(owner.post("/api/jobs", "{\"prompt\":\"d\",\"model\":\"pulled\"}")));
            jobs.put("failed", id(owner.post("/api/jobs", "{\"prompt\":\"f\",\"model\":\"pulled\",\"max_attempts\":1}")));
            jobs.put("retrying", id(owner.post("/api/jobs", "{\"prompt\":\"r\",\"model\":\"pulled\",\"backoff_s\":3600}")));
            jobs.put("running", id(owner.post("/api/jobs", "{\"prompt\":\"u\",\"model\":\"pulled\",\"backoff_s\":3600}")));
            for (String what : List.of("done", "failed", "retrying")) {
                JsonNode c = agent.post("/worker/claim", "{\"lease_s\":60}", "X-Device-Token", device).json()
                        .path("jobs").path(0);
                assertEquals(jobs.get(what), c.path("job_id").asText(), what);
                String lease = "\"lease_id\":\"" + c.path("lease_id").asText() + "\"";
                String path = "/worker/jobs/" + jobs.get(what);
                switch (what) {
                    case "done" -> agent.post(path + "/complete", "{" + lease + ",\"output\":{\"text\":\"ok\"}}",
                            "X-Device-Token", device);
                    case "failed", "retrying" -> agent.post(path + "/fail", "{" + lease + ",\"error\":{\"type\":\"oom\","
                            + "\"message\":\"x\"}}", "X-Device-Token", device);
                    default -> throw new AssertionError(what);
                }
            }
            jobs.put("cancelled", id(owner.post("/api/jobs", "{\"prompt\":\"c\",\"model\":\"pulled\"}")));
            owner.post("/api/jobs/" + jobs.get("cancelled") + "/cancel", "");
            jobs.put("queued", id(owner.post("/api/jobs", "{\"prompt\":\"q\",\"model\":\"pulled\",\"priority\":9}")));
            jobs.put("pushed", id(owner.post("/api/jobs", "{\"prompt\":\"p\",\"model\":\"pushed\",\"backoff_s\":3600}")));
            assertTrue(model.awaitFirstTokenSent(), "the push job is running on the model server");
            for (Map.Entry<String, String> e : jobs.entrySet()) {
                if (!e.getKey().equals("running")) {
                    assertEquals(e.getKey().equals("pushed") ? "running" : e.getKey(), state(owner, e.getValue()), e.getKey());
                }
            }
            // Claimed last, right before the kill: on a loaded machine the setup above can outlast a short lease,
            // and the test is about the restarted server sweeping it, not the first one.
            JsonNode running = agent.post("/worker/claim", "{\"lease_s\":10}", "X-Device-Token", device).json()
                    .path("jobs").path(0);
            assertEquals(jobs.get("running"), running.path("job_id").asText(), "the claim takes the priority-5 job first");

            first.process().destroyForcibly();
            assertTrue(first.process().waitFor(30, TimeUnit.SECONDS));
            model.release();

            Served second = serve();
            Client after = second.owner();
            assertEquals(jobs.size(), after.get("/api/jobs?limit=100").json().path("jobs").size(), "no job lost");
            for (String same : List.of("done", "failed", "retrying", "cancelled", "queued")) {
                assertEquals(same, state(after, jobs.get(same)), same);
            }
            assertEquals("retrying", state(after, jobs.get("pushed")), "the server's own attempt ended with it");
            until("the pulled job's 10 s lease is swept", () -> "retrying".equals(state(after, jobs.get("running"))));
            assertEquals("lease_expired", after.get("/api/jobs/" + jobs.get("running")).json().at("/error/type").asText());
        }
    }

    @Test
    void theJobAndDlqCommandsAndTheReferenceAgentWorkAgainstARunningServer() throws Exception {
        try (FakeModelServer model = FakeModelServer.openai("tiny")) {
            Served s = serve();
            String added = run(0, "job", "add", "--prompt", "2+2?", "--model", "tiny", "--priority", "1", "--data", "data");
            String id = added.strip().split("\t")[0];
            assertTrue(id.startsWith("job_"), added);

            Process agent = start("agent", "--server", s.base(), "--token", TOKEN, "--model", "tiny", "--kind", "openai",
                    "--upstream", model.url(), "--serial", "board1", "--once");
            assertTrue(agent.waitFor(60, TimeUnit.SECONDS), "the agent ran one job and stopped");
            String out = new String(agent.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, agent.exitValue(), out);
            assertEquals("done", state(s.owner(), id));
            assertEquals("Hello world!", s.owner().get("/api/jobs/" + id + "/result?format=text").text());

            String doomed = run(0, "job", "add", "--prompt", "x", "--model", "nobody-serves-this", "--data", "data")
                    .strip().split("\t")[0];
            assertTrue(run(0, "job", "cancel", doomed, "--data", "data").contains("cancelled"));
            assertEquals("cancelled", state(s.owner(), doomed));
            assertTrue(run(1, "dlq", "requeue", doomed, "--data", "data").contains("cannot requeue"));
        }
    }
}
