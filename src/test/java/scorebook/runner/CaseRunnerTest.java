package scorebook.runner;

import scorebook.evals.Score;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import scorebook.server.Json;
import scorebook.testing.TestServer;
import scorebook.testing.Wait;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real processes and a real HTTP service as targets; every built-in scorer. */
class CaseRunnerTest {
    private static final RunContext RUN = new RunContext(1, "abcd1234", "first", "nightly", "/evals");
    private final Path dir = TestServer.tempDir();

    @AfterEach
    void clean() {
        TestServer.deleteTree(dir);
    }

    private CaseRunner suite(String yaml) throws IOException {
        Files.writeString(dir.resolve("s.yaml"), yaml);
        SuiteLoader.Discovery d = SuiteLoader.discover(dir);
        assertEquals(List.of(), d.errors());
        return new CaseRunner(d.suites().getFirst(), ModelCaller.NONE);
    }

    private static Map<String, Score> byKey(Outcome o) {
        Map<String, Score> m = new java.util.LinkedHashMap<>();
        o.scores().forEach(s -> m.put(s.key(), s));
        return m;
    }

    @Test
    void aCommandGetsTheCaseOnStdinAndTheRunInItsEnvironment() throws Exception {
        CaseRunner r = suite("""
                target: {command: 'cat > case.json; printf "%s|%s|%s" "$SCOREBOOK_RUN_ID" "$SCOREBOOK_SESSION" "$SCOREBOOK_FUNCTION"'}
                cases:
                  - {name: one, input: {q: "2+2"}, reference: 4, labels: [x], metadata: {m: 1}}
                """);
        Case c = r.suite().cases().getFirst();
        Outcome o = r.run(c, RUN, 10);
        assertNull(o.error());
        assertEquals("abcd1234|nightly|one", o.output().asText());
        JsonNode seen = Json.MAPPER.readTree(dir.resolve("case.json").toFile());
        assertEquals("one", seen.get("function").asText());
        assertEquals("s", seen.get("dataset").asText());
        assertEquals("2+2", seen.at("/input/q").asText());
        assertEquals(4, seen.get("reference").asInt());
        assertEquals(1, seen.at("/metadata/m").asInt());
        assertEquals("x", seen.at("/labels/0").asText());
        assertEquals(List.of(new Score("correctness", null, true, null)), o.scores(), "no scorer, no error: the default pass");
        assertTrue(o.latency() > 0);
    }

    @Test
    void aJsonReplyGivesOutputScoresMetadataTraceAndLatency() throws Exception {
        CaseRunner r = suite("""
                target: {command: ['sh', '-c', 'echo "{\\"output\\": {\\"a\\": 1}, \\"scores\\": [{\\"key\\": \\"own\\", \\"value\\": 0.5}], \\"metadata\\": {\\"k\\": \\"v\\"}, \\"trace_data\\": {\\"messages\\": []}, \\"latency\\": 1.25}"']}
                scorers: [{type: json, path: a, equals: 1}]
                cases: [{input: 1}]
                """);
        Outcome o = r.run(r.suite().cases().getFirst(), RUN, 10);
        assertNull(o.error());
        assertEquals(1, o.output().get("a").asInt());
        assertEquals(1.25, o.latency());
        assertEquals("v", o.metadata().get("k").asText());
        assertTrue(o.traceData().has("messages"));
        assertEquals(0.5, byKey(o).get("own").value());
        assertTrue(byKey(o).get("json").passed());
    }

    @Test
    void aNonZeroExitIsAnErrorWithTheEndOfStderrAndSkipsScorers() throws Exception {
        CaseRunner r = suite("""
                target: {command: 'echo partial; echo "something broke" >&2; exit 3'}
                scorers: [equals]
                cases: [{input: 1, reference: 1}]
                """);
        Outcome o = r.run(r.suite().cases().getFirst(), RUN, 10);
        assertEquals("exit code 3:\nsomething broke", o.error());
        assertTrue(o.scores().isEmpty());
    }

    @Test
    void aTimeoutKillsTheWholeProcessTree() throws Exception {
        CaseRunner r = suite("""
                target: {command: 'sleep 30 & echo $! > child.pid; wait'}
                cases: [{input: 1}]
                """);
        // the limit only has to outlast starting two processes, however loaded the machine
        Outcome o = r.run(r.suite().cases().getFirst(), RUN, 3);
        assertEquals("timed out after 3s; the process tree was killed", o.error());
        long child = Long.parseLong(Files.readString(dir.resolve("child.pid")).strip());
        ProcessHandle.of(child).ifPresent(h -> h.onExit().join());
        assertFalse(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false), "the grandchild survived");
    }

    @Test
    void interruptingTheRunnerEndsTheProcess() throws Exception {
        CaseRunner r = suite("""
                target: {command: 'echo $$ > me.pid; exec sleep 30'}
                cases: [{input: 1}]
                """);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread t = Thread.ofVirtual().start(() -> {
            try {
                r.run(r.suite().cases().getFirst(), RUN, 60);
            } catch (Throwable e) {
                thrown.set(e);
            }
        });
        Path pidFile = dir.resolve("me.pid");
        Wait.until("the case's process to start", () -> Files.exists(pidFile) && Files.readString(pidFile).endsWith("\n"));
        long pid = Long.parseLong(Files.readString(pidFile).strip());
        t.interrupt();
        t.join();
        assertTrue(thrown.get() instanceof InterruptedException, String.valueOf(thrown.get()));
        ProcessHandle.of(pid).ifPresent(h -> h.onExit().join());
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
    }

    @Test
    void everyBuiltInScorer() throws Exception {
        CaseRunner r = suite("""
                target: {command: 'printf "The answer is 42"'}
                scorers:
                  - equals
                  - {type: contains, value: "answer"}
                  - {type: contains, value: "ANSWER", key: shout, ignore_case: true}
                  - {type: regex, pattern: "\\\\d+$"}
                  - json
                  - {type: numeric, tolerance: 0.5, key: num}
                  - {type: latency, max_ms: 60000}
                  - {type: latency, max_ms: 0, key: too_slow}
                cases: [{input: q, reference: "The answer is 42"}]
                """);
        Map<String, Score> s = byKey(r.run(r.suite().cases().getFirst(), RUN, 10));
        assertTrue(s.get("equals").passed());
        assertTrue(s.get("contains").passed());
        assertTrue(s.get("shout").passed());
        assertTrue(s.get("regex").passed());
        assertFalse(s.get("json").passed());
        assertFalse(s.get("num").passed());
        assertTrue(s.get("latency").passed());
        assertNotNull(s.get("latency").value());
        assertFalse(s.get("too_slow").passed());
        assertFalse(s.containsKey("correctness"), "scored cases get no default pass");
    }

    @Test
    void numericAndEqualsCompareNumbersLeniently() throws Exception {
        CaseRunner r = suite("""
                target: {command: 'printf 3.1'}
                scorers: [equals, {type: numeric, tolerance: 0.05}]
                cases: [{input: q, reference: 3.14}, {input: q, reference: 3.1}]
                """);
        Map<String, Score> far = byKey(r.run(r.suite().cases().get(0), RUN, 10));
        assertFalse(far.get("equals").passed());
        assertTrue(far.get("numeric").passed());
        assertEquals(0.04, far.get("numeric").value(), 1e-9);
        assertTrue(byKey(r.run(r.suite().cases().get(1), RUN, 10)).get("equals").passed());
    }

    @Test
    void aCommandScorerPrintsScores() throws Exception {
        Files.writeString(dir.resolve("grade.sh"), """
                read json
                case "$json" in
                  *'"output":"good"'*) echo '[{"key": "grade", "value": 1, "passed": true, "notes": "fine"}]' ;;
                  *) echo false ;;
                esac
                """);
        CaseRunner r = suite("""
                target: {command: 'cat >/dev/null; printf good'}
                scorers: [{type: command, command: [sh, grade.sh], key: verdict}]
                cases: [{input: 1}]
                """);
        Score s = byKey(r.run(r.suite().cases().getFirst(), RUN, 10)).get("grade");
        assertEquals(new Score("grade", 1.0, true, "fine"), s);
    }

    @Test
    void aFailingScorerMakesTheResultAnError() throws Exception {
        CaseRunner r = suite("""
                target: {command: 'printf x'}
                scorers: [{type: command, command: 'exit 2', key: broken}]
                cases: [{input: 1}]
                """);
        Outcome o = r.run(r.suite().cases().getFirst(), RUN, 10);
        assertTrue(o.error().startsWith("scorer broken: exit code 2"), o.error());
        assertEquals("x", o.output().asText());
    }

    @Test
    void anHttpTargetPostsTheCaseAndReadsTheAnswer() throws Exception {
        HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        AtomicReference<String> received = new AtomicReference<>();
        http.createContext("/solve", ex -> {
            received.set(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            byte[] body = "{\"output\": \"4\", \"metadata\": {\"server\": \"yes\"}}".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        http.createContext("/fail", ex -> {
            byte[] body = "overloaded".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(503, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        http.start();
        try {
            String base = "http://127.0.0.1:" + http.getAddress().getPort();
            CaseRunner ok = suite("target: {http: {url: \"" + base + "/solve\"}}\nscorers: [equals]\ncases: [{name: add, input: \"2+2\", reference: 4}]\n");
            Outcome o = ok.run(ok.suite().cases().getFirst(), RUN, 10);
            assertNull(o.error());
            assertTrue(byKey(o).get("equals").passed());
            assertEquals("yes", o.metadata().get("server").asText());
            assertEquals("add", Json.MAPPER.readTree(received.get()).get("function").asText());

            CaseRunner bad = suite("target: {http: \"" + base + "/fail\"}\ncases: [{input: 1}]\n");
            Outcome failed = bad.run(bad.suite().cases().getFirst(), RUN, 10);
            assertEquals("HTTP 503 from " + base + "/fail: overloaded", failed.error());
        } finally {
            http.stop(0);
        }
    }

    @Test
    void anLlmTargetWithoutAGatewayIsAClearError() throws Exception {
        CaseRunner r = suite("target: {llm: {model: tiny, prompt: 'Say {{input}}'}}\ncases: [{input: hi}]\n");
        Outcome o = r.run(r.suite().cases().getFirst(), RUN, 10);
        assertEquals("no model gateway is available to call tiny", o.error());
    }

    @Test
    void templatesFillInputReferenceAndMetadata() {
        Case c = new Case("f", "d", List.of(), Json.MAPPER.valueToTree("2+2"), Json.MAPPER.valueToTree(4),
                Json.MAPPER.valueToTree(Map.of("lang", "fr")));
        assertEquals("Q: 2+2 R: 4 L: fr ?: {{nope}}", Templates.fill("Q: {{input}} R: {{ reference }} L: {{metadata.lang}} ?: {{nope}}", c, null));
        assertThrows(IllegalArgumentException.class, () -> Reply.scores(Json.MAPPER.valueToTree(List.of(Map.of("key", "k")))));
    }
}
