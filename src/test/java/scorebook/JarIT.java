package scorebook;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import scorebook.testing.Client;
import scorebook.testing.TestServer;
import scorebook.testing.Wait;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The packaged jar as a user runs it: a real process, started from a folder outside the repository. */
class JarIT {
    private static final Path JAR = Path.of(System.getProperty("scorebook.jar", "target/scorebook.jar")).toAbsolutePath();
    private static final String JAVA = ProcessHandle.current().info().command().orElse("java");

    private final Path home = TestServer.tempDir();
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void clean() {
        started.forEach(Process::destroyForcibly);
        TestServer.deleteTree(home);
    }

    /** A started server: its process, the two lines it printed and a client for it. */
    record Served(Process process, String listening, String login, String base) {
        Client client(String token) {
            return Client.forToken(base, token);
        }
    }

    private Served serve(Map<String, String> env) throws IOException {
        List<String> cmd = List.of(JAVA, "-jar", JAR.toString(), "serve", "--port", "0", "--data", "data");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(home.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().remove("SCOREBOOK_TOKEN");
        pb.environment().putAll(env);
        Process p = pb.start();
        started.add(p);
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String listening = out.readLine();
        String login = out.readLine();
        assertTrue(listening != null && listening.matches("Scorebook listening on http://127\\.0\\.0\\.1:\\d+"), "first line: " + listening);
        String base = listening.substring("Scorebook listening on ".length());
        return new Served(p, listening, login, base);
    }

    private String run(String... args) throws Exception {
        return runExpecting(0, args);
    }

    private String runExpecting(int exitCode, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(JAVA, "-jar", JAR.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(home.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(exitCode, p.exitValue(), out);
        return out;
    }

    @Test
    void theRunCommandRunsTheExampleSuitesIntoTheStoreAndFailsForCi() throws Exception {
        Path examples = Path.of("evals").toAbsolutePath();
        String out = runExpecting(1, "run", examples.toString(), "--data", "data", "--session", "ci", "--run-name", "nightly",
                "--junit", "report.xml");
        assertTrue(out.contains("Run nightly ("), out);
        // divide passes its numeric score and fails equals: failed, as the FAILED line and the exit code say
        assertTrue(out.contains(": 7 results, 6 passed, 1 failed a score, 0 errors, avg latency"), out);
        assertTrue(out.contains("FAILED  arithmetic/divide: equals"), out);
        assertTrue(out.contains("close_enough             100% (5/5)"), out);
        String junit = Files.readString(home.resolve("report.xml"));
        assertTrue(junit.contains("<testsuite name=\"arithmetic\" tests=\"5\" failures=\"1\" errors=\"0\""), junit);
        assertTrue(junit.contains("<failure message=\"equals: expected 3.1429, got 3.142857\""), junit);

        assertTrue(runExpecting(0, "run", examples.toString(), "--data", "data", "--dataset", "greeting")
                .contains("2 results, 2 passed"));
        String easy = runExpecting(0, "run", examples.toString(), "--data", "data", "--label", "easy,nothing", "--concurrency", "2");
        assertTrue(easy.contains("2 results, 2 passed"), "add and precedence carry the label easy: " + easy);

        Served s = serve(Map.of());
        String token = Files.readString(home.resolve("data/owner.token")).strip();
        var sessions = s.client(token).get("/api/sessions/ci/runs").json();
        assertEquals("nightly", sessions.at("/runs/0/run_name").asText());
        assertEquals(7, sessions.at("/runs/0/total_evaluations").asInt());
    }

    @Test
    void servesFromTheJarWithAGeneratedOwnerTokenKeptPrivate() throws Exception {
        Served s = serve(Map.of());
        Path tokenFile = home.resolve("data/owner.token");
        String token = Files.readString(tokenFile).strip();
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tokenFile)));
        assertEquals("Dashboard: " + s.base() + "/?token=" + token, s.login());
        assertTrue(Files.exists(home.resolve("data/scorebook.db")));

        assertEquals(200, s.client(null).get("/health").status());
        assertEquals(401, s.client(null).get("/api/me").status());
        assertEquals(200, s.client(token).get("/api/me").status());
        Client.Response missing = s.client(token).get("/api/nope");
        assertEquals(404, missing.status());
        assertEquals("not_found", missing.errorCode());
    }

    @Test
    void scorebookTokenSetsTheOwnerTokenOfANewDataDirectory() throws Exception {
        Served s = serve(Map.of("SCOREBOOK_TOKEN", "from-the-environment"));
        assertEquals(200, s.client("from-the-environment").get("/api/me").status());
        assertTrue(Files.notExists(home.resolve("data/owner.token")));
        assertEquals("Dashboard: " + s.base() + "/?token=from-the-environment", s.login());
    }

    @Test
    void anAcknowledgedWriteSurvivesKillDashNine() throws Exception {
        Served first = serve(Map.of("SCOREBOOK_TOKEN", "t0"));
        Client owner = first.client("t0");
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String name = "survivor-" + i;
            assertEquals(201, owner.post("/api/keys", "{\"name\": \"" + name + "\"}").status());
            names.add(name);
        }
        first.process().destroyForcibly();
        assertTrue(first.process().waitFor(30, TimeUnit.SECONDS));
        assertEquals(137, first.process().exitValue(), "killed with SIGKILL");

        Served second = serve(Map.of());
        String keys = second.client("t0").get("/api/keys").text();
        for (String name : names) {
            assertTrue(keys.contains("\"" + name + "\""), name + " lost after kill -9: " + keys);
        }
    }

    @Test
    void usersAndKeysFromTheCommandLineWorkAgainstARunningServer() throws Exception {
        Served s = serve(Map.of("SCOREBOOK_TOKEN", "t1"));
        String added = run("user", "add", "dana", "--data", "data");
        String token = added.lines().filter(l -> l.startsWith("sbu_")).findFirst().orElseThrow(() -> new AssertionError(added));
        assertEquals("dana", s.client(token).get("/api/me").json().at("/user/name").asText());

        String key = run("key", "add", "--user", "dana", "--name", "cli", "--data", "data");
        String secret = key.lines().filter(l -> l.startsWith("sbk_")).findFirst().orElseThrow(() -> new AssertionError(key));
        assertEquals(200, s.client(null).send("GET", "/v1/models", null, "X-Api-Key", secret).status());
        long id = s.client(token).get("/api/keys").json().path("keys").get(0).path("id").asLong();
        run("key", "revoke", String.valueOf(id), "--user", "dana", "--data", "data");
        // the server caches found keys for 2 s, so another process's revocation lands within that
        Wait.until("the revoked key to be refused", () -> s.client(null).send("GET", "/v1/models", null, "X-Api-Key", secret).status() == 401);
        assertTrue(run("user", "list", "--data", "data").contains("dana"));
    }
}
