package scorebook.evals;

import java.nio.file.Path;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.testing.Client;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Creating runs, appending rows, renaming, deleting and activating runs. */
class RunsTest {
    @AutoClose
    private static final TestServer server = TestServer.start();

    @Test
    void createARunWithOrWithoutANameAndItBecomesActive() {
        Client c = Fixtures.otherUser(server, "runs-create");
        Client.Response r = c.post("/api/runs", "{\"session_name\": \"  nightly / v2 ✓ \", \"run_name\": \"Second Run!\"}");
        assertEquals(201, r.status(), r.text());
        assertEquals(java.util.List.of("ok", "run_id", "run_name"), Fixtures.fields(r.json()));
        assertEquals("Second Run!", r.json().path("run_name").asText(), "names are kept as given, not sanitised");
        String id = r.json().path("run_id").asText();
        assertTrue(id.matches("[0-9a-f]{8}"), id);
        JsonNode active = c.get("/results").json();
        assertEquals(id, active.path("run_id").asText());
        assertEquals("nightly / v2 ✓", active.path("session_name").asText(), "trimmed");
        assertTrue(active.path("eval_path").isNull());
        assertEquals(0, active.path("results").size());

        Client.Response unnamed = c.post("/api/runs", "{\"session_name\": \"nightly / v2 ✓\"}");
        assertEquals(201, unnamed.status());
        assertTrue(unnamed.json().path("run_name").asText().matches("[a-z]+-[a-z]+"), unnamed.text());
        assertNotEquals(id, unnamed.json().path("run_id").asText());
        assertEquals(2, c.get("/api/sessions/nightly%20%2F%20v2%20%E2%9C%93/runs").json().path("runs").size());
    }

    @Test
    void badCreateBodiesAreRejectedAndCreateNothing() {
        Client c = Fixtures.otherUser(server, "runs-create-bad");
        assertEquals(400, c.post("/api/runs", "{\"session_name\": ").status());
        assertEquals(422, c.post("/api/runs", "[1]").status());
        Fixtures.assertInvalid(c.post("/api/runs", "{}"), "session_name");
        Fixtures.assertInvalid(c.post("/api/runs", "{\"session_name\": \"   \"}"), "session_name");
        Fixtures.assertInvalid(c.post("/api/runs", "{\"session_name\": \"a\\u0007b\"}"), "session_name");
        Fixtures.assertInvalid(c.post("/api/runs", "{\"session_name\": \"" + "x".repeat(201) + "\"}"), "session_name");
        Fixtures.assertInvalid(c.post("/api/runs", "{\"session_name\": 5}"), "session_name");
        Fixtures.assertInvalid(c.post("/api/runs", "{\"session_name\": \"s\", \"run_name\": \"\"}"), "run_name");
        Fixtures.assertInvalid(c.post("/api/runs", "{\"session_name\": \"s\", \"owner\": 1}"), "owner");
        Fixtures.assertInvalid(c.post("/api/runs", "{\"session_name\": \"s\", \"eval_path\": 3}"), "eval_path");
        assertEquals(0, c.get("/api/sessions").json().path("sessions").size());
        assertEquals(404, c.get("/results").status());
        assertEquals(405, c.get("/api/runs").status());
    }

    @Test
    void appendAddsRowsAtTheEndAndReportsWhere() {
        Client c = Fixtures.otherUser(server, "runs-append");
        String id = Fixtures.run(c, "s", "r");
        Client.Response first = c.post("/api/runs/" + id + "/results", Fixtures.MINI_ROWS);
        assertEquals(200, first.status(), first.text());
        assertEquals("{\"ok\":true,\"count\":9,\"first_index\":0}", first.text());
        Client.Response second = c.post("/api/runs/latest/results",
                "{\"results\": [{\"function\": \"late\", \"result\": {\"output\": 1, \"error\": \"boom\"}}]}");
        assertEquals("{\"ok\":true,\"count\":1,\"first_index\":9}", second.text());
        JsonNode row = c.get("/api/runs/" + id + "/results/9").json().path("result");
        assertEquals("late", row.path("function").asText());
        assertTrue(row.path("dataset").isNull());
        assertTrue(row.path("labels").isNull());
        assertEquals("error", row.at("/result/status").asText(), "a missing status follows the error");
        assertEquals("completed", c.get("/api/runs/" + id + "/results/1").json().at("/result/result/status").asText());
        JsonNode run = c.get("/results").json();
        assertEquals(10, run.path("total_evaluations").asInt());
        assertEquals(2, run.path("total_errors").asInt());
    }

    @Test
    void aBadRowRejectsTheWholeBatchAndNamesTheField() {
        Client c = Fixtures.otherUser(server, "runs-append-bad");
        String id = Fixtures.mini(c, "s", "r");
        String good = "{\"function\": \"ok\", \"result\": {\"output\": 1}}";
        String[][] cases = {
            {"{\"result\": {}}", "results[1].function"},
            {"{\"function\": \"f\"}", "results[1].result"},
            {"{\"function\": \"f\", \"result\": {\"scores\": [{\"value\": 1}]}}", "results[1].result.scores[0].key"},
            {"{\"function\": \"f\", \"result\": {\"scores\": [{\"key\": \"k\"}]}}", "results[1].result.scores[0]"},
            {"{\"function\": \"f\", \"result\": {\"scores\": [{\"key\": \"k\", \"value\": \"0.8\"}]}}", "results[1].result.scores[0].value"},
            {"{\"function\": \"f\", \"result\": {\"scores\": [{\"key\": \"k\", \"passed\": 1}]}}", "results[1].result.scores[0].passed"},
            {"{\"function\": \"f\", \"result\": {\"scores\": {\"key\": \"k\", \"passed\": true}}}", "results[1].result.scores"},
            {"{\"function\": \"f\", \"result\": {\"status\": \"done\"}}", "results[1].result.status"},
            {"{\"function\": \"f\", \"result\": {\"latency\": -1}}", "results[1].result.latency"},
            {"{\"function\": \"f\", \"result\": {\"error\": 3}}", "results[1].result.error"},
            {"{\"function\": \"f\", \"result\": {\"outptu\": 3}}", "results[1].result.outptu"},
            {"{\"function\": \"f\", \"labels\": [1], \"result\": {}}", "results[1].labels[0]"},
            {"{\"function\": \"f\", \"extra\": 1, \"result\": {}}", "results[1].extra"},
        };
        for (String[] bad : cases) {
            Client.Response r = c.post("/api/runs/" + id + "/results", "{\"results\": [" + good + ", " + bad[0] + "]}");
            assertEquals(422, r.status(), bad[0] + " → " + r.text());
            assertTrue(r.json().path("detail").asText().contains("'" + bad[1]), bad[1] + " in " + r.text());
        }
        Fixtures.assertInvalid(c.post("/api/runs/" + id + "/results", "{\"results\": []}"), "results");
        Fixtures.assertInvalid(c.post("/api/runs/" + id + "/results", "{}"), "results");
        assertEquals(400, c.post("/api/runs/" + id + "/results", "{\"results\": [").status());
        assertEquals(9, c.get("/results").json().path("total_evaluations").asInt(), "nothing was written");
        assertEquals(404, server.owner().post("/api/runs/" + id + "/results", "{\"results\": [" + good + "]}").status());
        assertEquals(404, c.post("/api/runs/0badc0de/results", "{\"results\": [" + good + "]}").status());
        assertEquals(9, c.get("/results").json().path("total_evaluations").asInt());
    }

    @Test
    void renameKeepsTheIdAndValidatesTheName() {
        Client c = Fixtures.otherUser(server, "runs-rename");
        String id = Fixtures.mini(c, "s", "old");
        Client.Response r = c.patch("/api/runs/" + id, "{\"run_name\": \" new name \"}");
        assertEquals(200, r.status(), r.text());
        assertEquals("{\"ok\":true,\"run\":{\"run_id\":\"" + id + "\",\"run_name\":\"new name\"}}", r.text());
        assertEquals("new name", c.get("/results").json().path("run_name").asText());
        Fixtures.assertInvalid(c.patch("/api/runs/" + id, "{}"), "run_name");
        Fixtures.assertInvalid(c.patch("/api/runs/" + id, "{\"run_name\": null}"), "run_name");
        Fixtures.assertInvalid(c.patch("/api/runs/" + id, "{\"run_name\": \"a\\nb\"}"), "run_name");
        Fixtures.assertInvalid(c.patch("/api/runs/" + id, "{\"run_name\": \"x\", \"session_name\": \"y\"}"), "session_name");
        assertEquals(404, c.patch("/api/runs/0badc0de", "{\"run_name\": \"x\"}").status());
        assertEquals(404, c.patch("/api/runs/latest", "{\"run_name\": \"x\"}").status());
        assertEquals(404, server.owner().patch("/api/runs/" + id, "{\"run_name\": \"x\"}").status());
        assertEquals("new name", c.get("/results").json().path("run_name").asText());
        assertEquals("s", c.get("/results").json().path("session_name").asText());
    }

    @Test
    void deleteARunAndTheActiveRunGoesWithIt() {
        Client c = Fixtures.otherUser(server, "runs-delete");
        String keep = Fixtures.mini(c, "keep", "a");
        String gone = Fixtures.mini(c, "gone", "b");
        assertEquals(404, server.owner().delete("/api/runs/" + gone).status());
        Client.Response r = c.delete("/api/runs/" + gone);
        assertEquals(200, r.status());
        assertEquals("{\"ok\":true}", r.text());
        assertEquals(404, c.delete("/api/runs/" + gone).status());
        assertEquals("Run not found", c.delete("/api/runs/" + gone).json().path("detail").asText());
        assertEquals(404, c.get("/api/runs/" + gone + "/data").status());
        assertEquals(404, c.get("/results").status(), "the deleted run was active");
        assertEquals("[\"keep\"]", c.get("/api/sessions").json().path("sessions").toString(), "a session lives while it holds runs");
        assertEquals(200, c.get("/api/runs/" + keep + "/data").status());
        assertEquals(404, c.delete("/api/runs/latest").status());
    }

    @Test
    void activateSwitchesTheActiveRunAndItSurvivesARestart() {
        Path dir = TestServer.tempDir();
        String token;
        String first;
        try (TestServer s = TestServer.startOn(dir)) {
            token = Fixtures.userToken(s, "runs-activate");
            Client c = s.client(token);
            first = Fixtures.mini(c, "s", "one");
            String second = Fixtures.run(c, "s", "two");
            assertEquals(second, c.get("/results").json().path("run_id").asText());
            Client.Response r = c.post("/api/runs/" + first + "/activate", null);
            assertEquals(200, r.status(), r.text());
            assertEquals("{\"ok\":true,\"run_id\":\"" + first + "\",\"run_name\":\"one\"}", r.text());
            assertEquals(first, c.get("/results").json().path("run_id").asText());
            assertEquals(first, c.get("/api/runs/latest/results/0").json().path("run_id").asText());
            assertEquals(404, c.post("/api/runs/nope/activate", null).status());
            assertEquals(404, c.post("/api/runs/latest/activate", null).status());
            assertEquals(404, s.owner().post("/api/runs/" + first + "/activate", null).status());
            assertEquals(first, c.get("/results").json().path("run_id").asText());
            assertEquals(405, c.get("/api/runs/" + first + "/activate").status());
        }
        try (TestServer s = TestServer.startOn(dir)) {
            Client c = s.client(token);
            assertEquals(first, c.get("/results").json().path("run_id").asText(), "the active run is kept in the database");
        } finally {
            TestServer.deleteTree(dir);
        }
    }

    @Test
    void deletingAUserDeletesTheirRunsResultsScoresAndSettings() {
        Tenant leaver = Tenant.create(server);
        long userId = leaver.userId();
        Client c = leaver.user();
        Fixtures.mini(c, "s", "r");
        assertEquals(200, c.put("/api/config", "{\"concurrency\": 3}").status());
        assertEquals(9, count("eval_results r JOIN eval_runs u ON u.id = r.run_pk WHERE u.user_id = " + userId));
        assertEquals(200, server.owner().delete("/api/users/" + userId).status());
        assertEquals(0, count("eval_runs WHERE user_id = " + userId));
        assertEquals(0, count("eval_results WHERE run_pk NOT IN (SELECT id FROM eval_runs)"));
        assertEquals(0, count("eval_scores WHERE run_pk NOT IN (SELECT id FROM eval_runs)"));
        assertEquals(0, count("eval_active WHERE user_id = " + userId));
        assertEquals(0, count("eval_config WHERE user_id = " + userId));
    }

    private static int count(String from) {
        return server.running().db().read(h -> h.createQuery("SELECT count(*) FROM " + from).mapTo(int.class).one());
    }

    @Test
    void runnerPathsAreLeftToTheRunner() {
        Client c = Fixtures.otherUser(server, "runs-runner");
        for (String p : new String[] {"rerun", "new"}) {
            Client.Response r = c.post("/api/runs/" + p, "{}");
            assertEquals(400, r.status(), p + ": " + r.text());
            assertTrue(r.json().path("detail").asText().startsWith("Eval path not found"), r.text());
        }
        assertEquals(200, c.post("/api/runs/stop", "{}").status());
        assertEquals(405, c.post("/api/runs/0badc0de", "{}").status());
        assertEquals("PATCH, DELETE", c.post("/api/runs/0badc0de", "{}").header("Allow").orElseThrow());
        assertFalse(c.get("/api/runs/import").status() == 200);
    }
}
