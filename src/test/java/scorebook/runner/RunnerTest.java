package scorebook.runner;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.ServerConfig;
import scorebook.testing.Client;
import scorebook.testing.TestServer;
import scorebook.testing.Wait;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The run endpoints over a real server, real processes and a real SQLite file. */
class RunnerTest extends RunnerServerTest {
    /** The case's shell has written its pid (the file exists as soon as the shell opens it, the number comes after). */
    private boolean pidWritten(String file) throws IOException {
        Path p = evals.resolve(file);
        return Files.exists(p) && Files.readString(p).endsWith("\n");
    }

    private static final String MATH = """
            dataset: math
            target: {command: 'read c; case "$c" in *2+2*) echo 4;; *3*3*) echo 9;; *) echo 0;; esac'}
            scorers: [equals]
            cases:
              - {name: add, input: "2+2", reference: "4"}
              - {name: mul, input: "3*3", reference: "9"}
              - {name: bad, input: "1+1", reference: "2"}
            """;

    @Test
    void discoveredCasesAreNotStartedUntilARunAndMistakesAreListedWithFileAndLine() throws Exception {
        suite("math.yaml", MATH);
        suite("broken.yaml", "target: {command: cat}\nscorers:\n  - {type: vibes}\ncases: [{input: 1}]\n");
        start();
        JsonNode r = server.owner().get("/results").json();
        assertTrue(r.path("run_id").isNull());
        assertEquals(3, r.path("results").size());
        assertEquals("not_started", r.at("/results/0/result/status").asText());
        assertEquals("add", r.at("/results/0/function").asText());
        assertEquals("math", r.at("/results/0/dataset").asText());
        assertFalse(r.has("selected_total"));

        JsonNode suites = server.owner().get("/api/suites").json();
        assertEquals(1, suites.path("suites").size());
        assertEquals("broken.yaml", suites.at("/errors/0/file").asText());
        assertEquals(3, suites.at("/errors/0/line").asInt());
        assertTrue(suites.at("/errors/0/message").asText().contains("unknown scorer 'vibes'"));
    }

    @Test
    void aNewRunRunsEveryCaseAndScoresIt() throws Exception {
        suite("math.yaml", MATH);
        start();
        Client.Response created = server.owner().post("/api/runs/new", "{\"run_name\": \"first\"}");
        assertEquals(200, created.status(), created.text());
        String runId = created.json().path("run_id").asText();
        assertTrue(runId.matches("[0-9a-f]{8}"));
        assertEquals("first", created.json().path("run_name").asText());
        assertEquals(List.of("ok", "run_id", "run_name"), fields(created.json()), "the reference's key order");
        JsonNode r = settled();
        assertTrue(r.has("selected_total") && r.path("selected_total").isNull(), "a full run: " + r.path("selected_total"));
        assertEquals(runId, r.path("run_id").asText());
        assertEquals("default", r.path("session_name").asText());
        assertEquals(3, r.path("total_evaluations").asInt());
        assertEquals(2, r.path("total_passed").asInt());
        assertEquals(0, r.path("total_errors").asInt());
        assertEquals("completed", r.at("/results/0/result/status").asText());
        assertEquals("4", r.at("/results/0/result/output").asText());
        assertTrue(r.at("/results/0/result/scores/0/passed").asBoolean());
        assertFalse(r.at("/results/2/result/scores/0/passed").asBoolean());
        assertTrue(r.at("/results/0/result/latency").asDouble() > 0);
        JsonNode chip = r.at("/score_chips/0");
        assertEquals("equals", chip.path("key").asText());
        assertEquals("ratio", chip.path("type").asText());
        assertEquals(2, chip.path("passed").asInt());
        assertEquals(3, chip.path("total").asInt());
    }

    @Test
    void withConcurrencyOneCasesRunOneAfterAnotherInFileOrder() throws Exception {
        Path order = evals.resolve("order.txt");
        StringBuilder cases = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            cases.append(i == 0 ? "" : ", ").append("{name: c").append(i).append(", input: ").append(i).append('}');
        }
        suite("ordered.yaml", "target: {command: 'read c; echo $c >> " + order + "; echo ok'}\ncases: [" + cases + "]\n");
        start();
        server.owner().post("/api/runs/new", "{}");
        settled();
        // each line is the case a process read on its stdin
        assertEquals(java.util.stream.IntStream.range(0, 16).mapToObj(i -> "c" + i).toList(),
                Files.readAllLines(order).stream().map(l -> l.replaceFirst(".*\"function\":\"(c[0-9]+)\".*", "$1")).toList(),
                "the default concurrency is 1: the cases' threads once raced for the slot and ran in any order");
    }

    @Test
    void rerunOfSelectedRowsWorksInPlaceAndKeepsAnnotations() throws Exception {
        suite("count.yaml", """
                target: {command: 'read c; echo x >> ran-$SCOREBOOK_FUNCTION; wc -l < ran-$SCOREBOOK_FUNCTION'}
                cases: [{name: a, input: 1}, {name: b, input: 2}, {name: c, input: 3}]
                """);
        start();
        String runId = server.owner().post("/api/runs/new", "{}").json().path("run_id").asText();
        settled();
        assertEquals(200, server.owner().patch("/api/runs/" + runId + "/results/1", "{\"result\": {\"annotation\": \"looked at it\"}}").status());

        long madeAt = server.owner().get("/api/sessions/default/runs").json().at("/runs/0/timestamp").asLong();
        clock.advance(Duration.ofSeconds(5));
        Client.Response rerun = server.owner().post("/api/runs/rerun", "{\"indices\": [1, 2]}");
        assertEquals(200, rerun.status(), rerun.text());
        assertEquals(runId, rerun.json().path("run_id").asText(), "in place: same run id");
        assertEquals(List.of("ok", "run_id"), fields(rerun.json()), "the reference's key order");
        JsonNode r = settled();
        assertEquals(2, r.path("selected_total").asInt(), "the size of the selective run, for the progress bar");
        assertEquals(madeAt + 5, server.owner().get("/api/sessions/default/runs").json().at("/runs/0/timestamp").asLong(),
                "timestamp is when a run last ran, as the original's created_at");
        assertEquals("1", r.at("/results/0/result/output").asText().strip(), "a was not selected");
        assertEquals("2", r.at("/results/1/result/output").asText().strip());
        assertEquals("2", r.at("/results/2/result/output").asText().strip());
        assertEquals("looked at it", r.at("/results/1/result/annotation").asText());

        assertEquals(200, server.owner().post("/api/runs/rerun", null).status());
        JsonNode all = settled();
        assertEquals("2", all.at("/results/0/result/output").asText().strip());
        assertEquals("3", all.at("/results/1/result/output").asText().strip());
        assertEquals("looked at it", all.at("/results/1/result/annotation").asText(), "annotations survive a full rerun");
        assertEquals(runId, all.path("run_id").asText());
        assertTrue(all.path("selected_total").isNull(), "null again after a full rerun");

        Client.Response some = server.owner().post("/api/runs/new", "{\"indices\": [0]}");
        assertEquals(200, some.status(), some.text());
        assertEquals(1, settled().path("selected_total").asInt(), "a new run of some evals: len(indices)");
    }

    private static List<String> fields(JsonNode j) {
        List<String> out = new ArrayList<>();
        j.fieldNames().forEachRemaining(out::add);
        return out;
    }

    @Test
    void aFullRerunFollowsEditedSuitesWithoutLosingRows() throws Exception {
        suite("s.yaml", "target: {command: 'cat >/dev/null; echo ok'}\ncases: [{name: a, input: 1}, {name: gone, input: 2}]\n");
        start();
        String runId = server.owner().post("/api/runs/new", "{}").json().path("run_id").asText();
        settled();
        suite("s.yaml", "target: {command: 'cat >/dev/null; echo ok'}\n"
                + "cases: [{name: a, input: 10}, {name: new1, input: 3}, {name: new1, input: 4}]\n");
        assertEquals(200, server.owner().post("/api/runs/rerun", null).status());
        JsonNode r = settled();
        assertEquals(runId, r.path("run_id").asText());
        List<String> functions = new ArrayList<>();
        r.path("results").forEach(row -> functions.add(row.path("function").asText()));
        assertEquals(List.of("a", "gone", "new1", "new1"), functions, "kept rows stay where they were; new cases join at the end");
        assertEquals(10, r.at("/results/0/result/input").asInt(), "the case as the suite has it now");
        assertEquals("error", r.at("/results/1/result/status").asText());
        assertTrue(r.at("/results/1/result/error").asText().startsWith("this case is no longer in the suites"));
        assertEquals(3, r.at("/results/2/result/input").asInt());
        assertEquals(4, r.at("/results/3/result/input").asInt(), "two new cases with one name each keep their own input");
        assertEquals("completed", r.at("/results/3/result/status").asText());
    }

    @Test
    void badRunRequestsAreRejectedAndChangeNothing() throws Exception {
        suite("math.yaml", MATH);
        start();
        String runId = server.owner().post("/api/runs/new", "{}").json().path("run_id").asText();
        String before = settled().toString();
        Client.Response empty = server.owner().post("/api/runs/rerun", "{\"indices\": []}");
        assertEquals(400, empty.status());
        assertEquals("bad_request", empty.errorCode());
        Client.Response outOfRange = server.owner().post("/api/runs/rerun", "{\"indices\": [1, 99, -2]}");
        assertEquals(400, outOfRange.status());
        assertEquals("Invalid indices: [99, -2]. Only 3 results exist (indices 0-2).", outOfRange.json().path("detail").asText());
        assertEquals(422, server.owner().post("/api/runs/rerun", "{\"indices\": [\"x\"]}").status());
        assertEquals(422, server.owner().post("/api/runs/new", "{\"name\": \"typo\"}").status());
        assertEquals(400, server.owner().post("/api/runs/new", "{\"indices\": [7]}").status());
        assertEquals(400, server.owner().post("/api/runs/new", "{bad").status());
        assertEquals(405, server.owner().get("/api/runs/rerun").status());
        assertEquals(before, server.owner().get("/results").json().toString(), "nothing changed");
        assertEquals(runId, server.owner().get("/results").json().path("run_id").asText());
    }

    @Test
    void anAnnotationSavedWhileItsCaseRunsSurvivesTheCaseFinishing() throws Exception {
        // the runner changes the rows it wrote without reading them back, unless a row was changed meanwhile
        suite("gate.yaml", """
                target: {command: 'while [ ! -f go ]; do sleep 0.02; done; echo 4'}
                scorers: [equals]
                cases: [{name: gated, input: 1, reference: "4"}, {name: other, input: 2, reference: "5"}]
                """);
        start();
        String runId = server.owner().post("/api/runs/new", "{}").json().path("run_id").asText();
        Wait.until("the gated case to run", () -> "running".equals(
                server.owner().get("/api/runs/" + runId + "/results/0").json().at("/result/result/status").asText()));
        Client.Response saved = server.owner().patch("/api/runs/" + runId + "/results/0",
                "{\"result\": {\"annotation\": \"checked by hand\", \"annotations\": {\"by\": \"ana\"}}}");
        assertEquals(200, saved.status(), saved.text());
        Files.writeString(evals.resolve("go"), "");
        JsonNode r = settled();
        JsonNode row = r.at("/results/0/result");
        assertEquals("completed", row.path("status").asText(), row.toString());
        assertEquals("4", row.path("output").asText());
        assertTrue(row.at("/scores/0/passed").asBoolean());
        assertEquals("checked by hand", row.path("annotation").asText(), "the annotation was kept");
        assertEquals("ana", row.at("/annotations/by").asText());
        assertEquals("completed", r.at("/results/1/result/status").asText());
        assertEquals(1, r.path("total_passed").asInt(), "the scores were stored once: " + r);
        JsonNode rows = server.owner().get("/api/runs/" + runId + "/rows?annotation=yes&score_passed=equals,true").json();
        assertEquals(1, rows.path("filtered").asInt(), "derived columns and scores follow the kept annotation: " + rows);
    }

    @Test
    void stopCancelsPendingRowsAndKillsRunningProcesses() throws Exception {
        suite("slow.yaml", """
                target: {command: 'echo $$ > pid-$SCOREBOOK_FUNCTION; exec sleep 30'}
                cases: [{name: a, input: 1}, {name: b, input: 2}, {name: c, input: 3}, {name: d, input: 4}]
                """);
        start();
        assertEquals(200, server.owner().put("/api/config", "{\"concurrency\": 2}").status());
        server.owner().post("/api/runs/new", "{}");
        Wait.until("cases a and b to start", () -> pidWritten("pid-a") && pidWritten("pid-b"));
        Client.Response busy = server.owner().post("/api/runs/rerun", null);
        assertEquals(409, busy.status(), "one run at a time");
        assertEquals(200, server.owner().post("/api/runs/stop", null).status());
        JsonNode r = settled();
        for (JsonNode row : r.path("results")) {
            assertEquals("cancelled", row.at("/result/status").asText(), row.toString());
        }
        for (String f : List.of("pid-a", "pid-b")) {
            long pid = Long.parseLong(Files.readString(evals.resolve(f)).strip());
            ProcessHandle.of(pid).ifPresent(h -> h.onExit().join());
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), f + " still runs");
        }
        assertFalse(Files.exists(evals.resolve("pid-c")), "a pending case never started");
    }

    @Test
    void stopAlsoCancelsTheExecutingRunWhenAnotherIsActive() throws Exception {
        suite("slow.yaml", """
                target: {command: 'echo $$ > pid-$SCOREBOOK_FUNCTION; exec sleep 30'}
                cases: [{name: a, input: 1}, {name: b, input: 2}, {name: c, input: 3}]
                """);
        start();
        String runId = server.owner().post("/api/runs/new", "{}").json().path("run_id").asText();
        Wait.until("case a to start", () -> pidWritten("pid-a"));
        assertEquals(201, server.owner().post("/api/runs", "{\"session_name\": \"elsewhere\"}").status(), "now active");
        assertEquals(200, server.owner().post("/api/runs/stop", null).status());
        Wait.until("every row of the executing run to be cancelled", () -> {
            for (JsonNode row : server.owner().get("/api/runs/" + runId + "/data").json().path("results")) {
                if (!row.at("/result/status").asText().equals("cancelled")) {
                    return false;
                }
            }
            return true;
        }, () -> server.owner().get("/api/runs/" + runId + "/data").text());
        assertFalse(Files.exists(evals.resolve("pid-b")), "a pending case never started");
    }

    @Test
    void theConfigTimeoutWinsAndKillsSlowCases() throws Exception {
        suite("slow.yaml", "timeout: 60\ntarget: {command: 'exec sleep 30'}\ncases: [{input: 1}]\n");
        start();
        server.owner().put("/api/config", "{\"timeout\": 0.3}");
        server.owner().post("/api/runs/new", "{}");
        JsonNode r = settled();
        assertEquals("error", r.at("/results/0/result/status").asText());
        assertEquals("timed out after 0.3s; the process tree was killed", r.at("/results/0/result/error").asText());
        assertEquals(1, r.path("total_errors").asInt());
    }

    @Test
    void atMostConcurrencyCasesRunAtOnce() throws Exception {
        // each case waits (up to 30 s) until another has started, so two overlap however slow the machine is;
        // were three allowed at once, the log would show it
        suite("par.yaml", """
                target: {command: 'echo start >> ../log; n=0; while [ "$(grep -c start ../log)" -lt 2 ] && [ $n -lt 600 ]; do sleep 0.05; n=$((n+1)); done; echo end >> ../log'}
                cases: [{input: 1}, {input: 2}, {input: 3}, {input: 4}, {input: 5}, {input: 6}]
                """);
        Files.createDirectories(evals.resolve("sub"));
        Files.move(evals.resolve("par.yaml"), evals.resolve("sub/par.yaml"));
        start();
        server.owner().put("/api/config", "{\"concurrency\": 2}");
        server.owner().post("/api/runs/new", "{}");
        settled();
        int now = 0;
        int most = 0;
        for (String line : Files.readAllLines(evals.resolve("log"))) {
            now += line.equals("start") ? 1 : -1;
            most = Math.max(most, now);
        }
        assertEquals(2, most, "with concurrency 2, exactly two overlap");
    }

    @Test
    void aRestartDuringARunMarksInterruptedRowsAsErrors() throws Exception {
        suite("slow.yaml", "target: {command: 'exec sleep 30'}\ncases: [{input: 1}, {input: 2}]\n");
        start();
        server.owner().post("/api/runs/new", "{}");
        Wait.until("a case to run", () -> server.owner().get("/results").text().contains("\"running\""));
        server.close();
        server = TestServer.start(ServerConfig.local(data, TestServer.OWNER_TOKEN).withEvalPath(evals));
        JsonNode r = server.owner().get("/results").json();
        for (JsonNode row : r.path("results")) {
            assertEquals("error", row.at("/result/status").asText());
            assertEquals("interrupted", row.at("/result/error").asText());
        }
        assertEquals(2, r.path("total_errors").asInt());
    }

    @Test
    void rowChangesArriveAsServerSentEvents() throws Exception {
        suite("math.yaml", MATH);
        start();
        String runId = server.owner().post("/api/runs/new", "{}").json().path("run_id").asText();
        settled();
        List<String> seen = new ArrayList<>();
        List<Event> events = new ArrayList<>();
        try (BufferedReader in = subscribe(runId)) {
            assertEquals(200, server.owner().post("/api/runs/rerun", "{\"indices\": [1]}").status());
            readUntilDone(in, events);
        }
        for (Event e : events) {
            if (e.type().equals("row")) {   // "totals" after the rows: LiveEventsTest
                assertEquals(1, e.data().path("index").asInt());
                seen.add(e.data().at("/row/result/status").asText());
            }
        }
        // changes that pile up are stored together, so "running" may be folded into "completed"
        assertEquals("pending", seen.getFirst(), seen.toString());
        assertEquals("completed", seen.getLast(), seen.toString());
        assertTrue(seen.size() <= 3 && seen.stream().allMatch(List.of("pending", "running", "completed")::contains), seen.toString());
        String other = server.owner().post("/api/users", "{\"name\": \"eve\"}").json().path("token").asText();
        assertEquals(404, server.client(other).get("/api/runs/" + runId + "/events").status());
    }

}
