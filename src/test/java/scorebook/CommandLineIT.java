package scorebook;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The first hour on the command line, against the packaged jar and the scripts a user types: a taken
 * port, a second server on one data folder, --help everywhere, a fresh data folder, paths relative to
 * the caller, the login link behind a proxy. Every process starts in a temporary folder outside the
 * repository.
 */
class CommandLineIT {
    private static final Path JAR = Path.of(System.getProperty("scorebook.jar", "target/scorebook.jar")).toAbsolutePath();
    private static final Path REPO = Path.of("").toAbsolutePath();
    private static final String JAVA = ProcessHandle.current().info().command().orElse("java");

    private final Path home = TestServer.tempDir();
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void clean() {
        started.forEach(Process::destroyForcibly);
        started.forEach(p -> {
            try {
                p.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        TestServer.deleteTree(home);
    }

    /** What a finished process printed. */
    record Done(int exitCode, String out, String err) {
    }

    private Done jar(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(JAVA, "-jar", JAR.toString()));
        cmd.addAll(List.of(args));
        return finish(start(cmd, Map.of()));
    }

    private Process start(List<String> cmd, Map<String, String> env) throws IOException {
        return start(cmd, env, ProcessBuilder.Redirect.PIPE);
    }

    private Process start(List<String> cmd, Map<String, String> env, ProcessBuilder.Redirect err) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(home.toFile()).redirectError(err);
        pb.environment().remove("SCOREBOOK_TOKEN");
        pb.environment().putAll(env);
        Process p = pb.start();
        started.add(p);
        return p;
    }

    private static Done finish(Process p) throws Exception {
        StringBuilder errText = new StringBuilder();
        Thread err = Thread.ofVirtual().start(() -> {
            try {
                errText.append(new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                errText.append(e);
            }
        });
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(Wait.DEADLINE.toSeconds(), TimeUnit.SECONDS), "still running: " + out);
        err.join();
        return new Done(p.exitValue(), out, errText.toString());
    }

    /** A server started from {@code home}: its first two stdout lines, once printed. */
    private List<String> serve(List<String> cmd, Map<String, String> env) throws IOException {
        Process p = start(cmd, env, ProcessBuilder.Redirect.DISCARD);
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        return List.of(String.valueOf(out.readLine()), String.valueOf(out.readLine()));
    }

    private List<String> serveJar(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(JAVA, "-jar", JAR.toString(), "serve", "--port", "0"));
        cmd.addAll(List.of(args));
        return serve(cmd, Map.of("SCOREBOOK_TOKEN", "t"));
    }

    private static String base(String listening) {
        assertTrue(listening.matches("Scorebook listening on http://127\\.0\\.0\\.1:\\d+"), "first line: " + listening);
        return listening.substring("Scorebook listening on ".length());
    }

    @Test
    void aTakenPortIsOneClearLineAndAFailingExit() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Done d = jar("serve", "--port", String.valueOf(taken.getLocalPort()), "--data", "data");
            assertEquals(2, d.exitCode(), d.err());
            assertEquals("", d.out(), "no listening line");
            assertEquals("scorebook: port " + taken.getLocalPort() + " on 127.0.0.1 is already in use; pick another with --port N "
                    + "(or --port 0 for any free one)", d.err().strip());
        }
    }

    @Test
    void aSecondServerOnOneDataFolderRefusesNamingTheFirstWhileCommandsStillWrite() throws Exception {
        List<String> first = serveJar("--data", "data");
        String base = base(first.getFirst());
        long pid = started.getFirst().pid();
        assertEquals(pid + "\n", Files.readString(home.resolve("data/server.lock")));

        Done second = jar("serve", "--port", "0", "--data", "data");
        assertEquals(2, second.exitCode());
        assertEquals("", second.out());
        assertTrue(second.err().contains("in use by another Scorebook server (pid " + pid + ")"), second.err());

        // the command line's writes work beside the running server, which sees them
        Done user = jar("user", "add", "dana", "--data", "data");
        assertEquals(0, user.exitCode(), user.err());
        String token = user.out().lines().filter(l -> l.startsWith("sbu_")).findFirst().orElseThrow();
        assertEquals("dana", Client.forToken(base, token).get("/api/me").json().at("/user/name").asText());
        assertEquals(0, jar("device", "add", "--serial", "box", "--kind", "ollama", "--url", "http://127.0.0.1:9",
                "--data", "data").exitCode());
        assertEquals("box", Client.forToken(base, "t").post("/devices/reload", "").json().at("/data/0/serial").asText());
        assertEquals(0, jar("key", "add", "--data", "data").exitCode());

        // once the first has stopped (even killed), the folder is free again
        started.getFirst().destroyForcibly().waitFor();
        base(serveJar("--data", "data").getFirst());
    }

    @Test
    void everyCommandAndSubcommandAnswersHelp() throws Exception {
        // each ask and a line its usage holds (the texts themselves are Main's, RunCommand's, UserCommands', DeviceCommands')
        Map<List<String>, String> asks = Map.ofEntries(
                Map.entry(List.of("--help"), "usage: scorebook COMMAND"), Map.entry(List.of("-h"), "usage: scorebook COMMAND"),
                Map.entry(List.of("serve", "-h"), "--public-url URL"), Map.entry(List.of("run", "--help"), "--junit FILE"),
                Map.entry(List.of("user", "add", "--help"), "scorebook user add NAME"),
                Map.entry(List.of("key", "revoke", "-h"), "scorebook key revoke ID"),
                Map.entry(List.of("device", "list", "--help"), "scorebook device list"),
                Map.entry(List.of("device", "add", "-h"), "--api-key K"),
                Map.entry(List.of("help", "run"), "--junit FILE"));
        Map<List<String>, Process> ps = new java.util.LinkedHashMap<>();
        for (List<String> ask : asks.keySet()) {
            List<String> cmd = new ArrayList<>(List.of(JAVA, "-jar", JAR.toString()));
            cmd.addAll(ask);
            ps.put(ask, start(cmd, Map.of()));
        }
        for (var e : ps.entrySet()) {
            Done d = finish(e.getValue());
            assertEquals(0, d.exitCode(), e.getKey() + ": " + d.err());
            assertTrue(d.out().startsWith("usage: scorebook") && d.out().contains(asks.get(e.getKey())), e.getKey() + ": " + d.out());
        }
        assertTrue(Files.notExists(home.resolve("data")), "asking for help opens no data folder");
    }

    @Test
    void aFreshDataFolderIsMadeByAnyCommandWithItsOwner() throws Exception {
        Done d = jar("device", "add", "--serial", "box", "--kind", "openai", "--url", "http://127.0.0.1:9", "--data", "fresh");
        assertEquals(0, d.exitCode(), d.err());
        assertEquals("device box added for owner", d.out().strip());
        assertTrue(d.err().contains("made the data folder"), d.err());
        assertTrue(Files.exists(home.resolve("fresh/owner.token")));
        Done k = jar("key", "add", "--data", "fresh2");
        assertEquals(0, k.exitCode(), k.err());
        assertTrue(k.out().contains("for owner"), k.out());
        Done u = jar("user", "list", "--data", "fresh3");
        assertEquals(0, u.exitCode(), u.err());
        assertTrue(u.out().contains("\towner\towner\t"), u.out());
        // the server takes the folder as made: the owner's token from the file logs in
        String token = Files.readString(home.resolve("fresh/owner.token")).strip();
        List<String> lines = serve(List.of(JAVA, "-jar", JAR.toString(), "serve", "--port", "0", "--data", "fresh"), Map.of());
        assertEquals(200, Client.forToken(base(lines.getFirst()), token).get("/api/me").status());
        assertTrue(lines.get(1).endsWith("/?token=" + token), lines.get(1));
    }

    @Test
    void runShAndTheLauncherTakePathsFromTheCallersFolderAndPrintTheListeningLineFirst() throws Exception {
        Path mine = Files.createDirectories(home.resolve("my-evals"));
        Files.writeString(mine.resolve("one.yaml"), "target: {command: 'cat >/dev/null; echo a'}\nscorers: [equals]\ncases: [{input: x, reference: a}]\n");
        Done run = finish(start(List.of(REPO.resolve("scorebook").toString(), "run", "my-evals", "--data", "./mine"), Map.of()));
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().contains("1 results, 1 passed"), run.out());
        assertTrue(Files.exists(home.resolve("mine/scorebook.db")), "--data ./mine is the caller's folder");
        assertFalse(Files.exists(REPO.resolve("mine")), "not the repository's");

        Done help = finish(start(List.of(REPO.resolve("scorebook").toString(), "--help"), Map.of()));
        assertEquals(0, help.exitCode(), help.err());
        assertTrue(help.out().startsWith("usage: scorebook COMMAND"), "the general usage, not serve's: " + help.out());

        List<String> lines = serve(List.of(REPO.resolve("run.sh").toString(), "--port", "0", "--data", "./served"),
                Map.of("SCOREBOOK_TOKEN", "t"));
        assertEquals(200, Client.forToken(base(lines.getFirst()), "t").get("/api/me").status());
        assertTrue(Files.exists(home.resolve("served/scorebook.db")));
    }

    @Test
    void thePublicUrlIsTheLoginLinksAddress() throws Exception {
        List<String> lines = serveJar("--data", "data", "--public-url", "https://evals.example.com/");
        base(lines.getFirst());
        assertEquals("Dashboard: https://evals.example.com/?token=t", lines.get(1));
        Done bad = jar("serve", "--port", "0", "--data", "other", "--public-url", "https://evals.example.com/sub");
        assertEquals(2, bad.exitCode());
        assertTrue(bad.err().contains("--public-url must be http(s)://host[:port]"), bad.err());
    }
}
