package scorebook.evals;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.testing.Client;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sessions (listing, their runs, deleting) and the per-user eval config. */
class SessionsConfigTest {
    @AutoClose
    private static final TestServer server = TestServer.start();

    @Test
    void sessionsAreSortedNamesAndListTheirRunsNewestFirst() {
        Client c = Fixtures.otherUser(server, "sessions-list");
        assertEquals("{\"sessions\":[]}", c.get("/api/sessions").text());
        String a = Fixtures.mini(c, "zeta", "first");
        String b = Fixtures.run(c, "zeta", "second");
        Fixtures.run(c, "alpha", "x");
        assertEquals("{\"sessions\":[\"alpha\",\"zeta\"]}", c.get("/api/sessions").text());

        Client.Response r = c.get("/api/sessions/zeta/runs");
        assertEquals(200, r.status(), r.text());
        JsonNode j = r.json();
        assertEquals(java.util.List.of("session_name", "runs"), Fixtures.fields(j));
        assertEquals("zeta", j.path("session_name").asText());
        JsonNode runs = j.path("runs");
        assertEquals(2, runs.size());
        assertEquals(b, runs.get(0).path("run_id").asText(), "newest first");
        JsonNode older = runs.get(1);
        assertEquals(java.util.List.of("run_id", "run_name", "total_evaluations", "total_passed", "total_errors", "timestamp"),
                Fixtures.fields(older));
        assertEquals(a, older.path("run_id").asText());
        assertEquals("first", older.path("run_name").asText());
        assertEquals(9, older.path("total_evaluations").asInt());
        assertEquals(5, older.path("total_passed").asInt());
        assertEquals(1, older.path("total_errors").asInt());
        long now = System.currentTimeMillis() / 1000;
        assertTrue(Math.abs(older.path("timestamp").asLong() - now) < 60, "epoch seconds");
        assertEquals("{\"session_name\":\"nope\",\"runs\":[]}", c.get("/api/sessions/nope/runs").text());
        assertEquals(0, server.owner().get("/api/sessions/zeta/runs").json().path("runs").size(), "not the owner's");
    }

    @Test
    void deletingASessionDeletesItsRunsOnly() {
        Client c = Fixtures.otherUser(server, "sessions-delete");
        String gone = Fixtures.mini(c, "tmp sess", "a");
        Fixtures.run(c, "tmp sess", "b");
        String kept = Fixtures.mini(c, "keep", "c");
        assertEquals(404, server.owner().delete("/api/sessions/tmp%20sess").status(), "another user's session");
        Client.Response r = c.delete("/api/sessions/tmp%20sess");
        assertEquals(200, r.status(), r.text());
        assertEquals("{\"ok\":true}", r.text());
        Client.Response again = c.delete("/api/sessions/tmp%20sess");
        assertEquals(404, again.status());
        assertEquals("Session not found", again.json().path("detail").asText());
        assertEquals("{\"sessions\":[\"keep\"]}", c.get("/api/sessions").text());
        assertEquals(404, c.get("/api/runs/" + gone + "/data").status());
        assertEquals(200, c.get("/api/runs/" + kept + "/data").status());
        assertEquals(405, c.get("/api/sessions/keep").status());
        assertEquals(405, c.delete("/api/sessions/keep/runs").status());
        assertEquals(405, c.post("/api/sessions", "{}").status());
        assertEquals(404, c.get("/api/sessions/keep/runs/more").status());
    }

    @Test
    void configHasDefaultsAndIsValidatedAndKeptPerUser() {
        Client c = Fixtures.otherUser(server, "config");
        assertEquals("{\"concurrency\":1,\"timeout\":null,\"verbose\":false}", c.get("/api/config").text());
        Client.Response r = c.put("/api/config", "{\"concurrency\": 8, \"timeout\": 60.0}");
        assertEquals(200, r.status(), r.text());
        assertEquals("{\"ok\":true,\"config\":{\"concurrency\":8,\"timeout\":60.0,\"verbose\":false}}", r.text());
        assertEquals("{\"concurrency\":8,\"timeout\":60.0,\"verbose\":false}", c.get("/api/config").text());
        assertEquals(200, c.put("/api/config", "{\"verbose\": true, \"timeout\": null}").status());
        assertEquals("{\"concurrency\":8,\"timeout\":null,\"verbose\":true}", c.get("/api/config").text());

        String[][] bad = {
            {"{\"concurrency\": 0}", "concurrency"}, {"{\"concurrency\": 257}", "concurrency"},
            {"{\"concurrency\": 2.5}", "concurrency"}, {"{\"concurrency\": \"4\"}", "concurrency"},
            {"{\"timeout\": 0}", "timeout"}, {"{\"timeout\": -3}", "timeout"}, {"{\"timeout\": \"30\"}", "timeout"},
            {"{\"verbose\": 1}", "verbose"}, {"{\"results_dir\": \"x\"}", "results_dir"},
            {"{\"concurrency\": 2, \"colour\": \"red\"}", "colour"},
        };
        for (String[] b : bad) {
            Fixtures.assertInvalid(c.put("/api/config", b[0]), b[1]);
        }
        assertEquals(422, c.put("/api/config", "[1,2]").status());
        assertEquals(400, c.put("/api/config", "{\"concurrency\":").status());
        assertEquals("{\"concurrency\":8,\"timeout\":null,\"verbose\":true}", c.get("/api/config").text(), "unchanged");
        assertEquals("{\"concurrency\":1,\"timeout\":null,\"verbose\":false}", server.owner().get("/api/config").text());
        assertEquals(405, c.post("/api/config", "{}").status());
    }
}
