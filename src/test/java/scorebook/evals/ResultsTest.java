package scorebook.evals;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;
import scorebook.testing.Client;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GET /results, GET /api/runs/{id}/data and GET /api/runs/{id}/results/{i}: shapes, totals, chips. */
class ResultsTest {
    @AutoClose
    private static final TestServer server = TestServer.start();

    @Test
    void activeRunHasTheReferenceShapeTotalsAndChips() throws Exception {
        Client c = Fixtures.otherUser(server, "results-shape");
        assertEquals(404, c.get("/results").status());
        assertEquals("Active run not found", c.get("/results").json().path("detail").asText());
        String id = Fixtures.mini(c, "mini", "frosty-reef");

        Client.Response r = c.get("/results");
        assertEquals(200, r.status(), r.text());
        assertEquals("application/json", r.header("Content-Type").orElseThrow());
        JsonNode j = r.json();
        assertEquals(java.util.List.of("session_name", "run_name", "run_id", "total_evaluations", "selected_total",
                "total_errors", "total_passed", "average_latency", "results", "score_chips", "eval_path"), Fixtures.fields(j));
        assertEquals("mini", j.path("session_name").asText());
        assertEquals("frosty-reef", j.path("run_name").asText());
        assertEquals(id, j.path("run_id").asText());
        assertTrue(id.matches("[0-9a-f]{8}"), id);
        assertEquals(9, j.path("total_evaluations").asInt());
        assertTrue(j.path("selected_total").isNull());
        assertEquals(1, j.path("total_errors").asInt());
        assertEquals(5, j.path("total_passed").asInt());
        // mean of the latencies that are neither null nor zero (the 0 of test_multi is left out)
        double expected = (9.822845458984375e-05 + 2.1219253540039062e-05 + 0.001 + 0.5 + 1.5497207641601562e-05 + 4.5) / 8;
        assertEquals(expected, j.path("average_latency").asDouble(), 1e-12);
        assertEquals("evals", j.path("eval_path").asText());
        assertEquals(Json.MAPPER.readTree("""
                [{"key":"accuracy","type":"ratio","passed":4,"total":5},
                 {"key":"quality","type":"avg","avg":0.55,"count":2},
                 {"key":"correctness","type":"ratio","passed":0,"total":1},
                 {"key":"ok","type":"ratio","passed":1,"total":1},
                 {"key":"num","type":"avg","avg":0.5,"count":1}]"""), j.path("score_chips"));
        JsonNode first = j.path("results").get(0);
        assertEquals(Json.MAPPER.readTree("""
                {"function":"test_pass","dataset":"qa","labels":["smoke"],
                 "result":{"input":"2+2","output":"4","reference":"4",
                   "scores":[{"key":"accuracy","value":null,"passed":true,"notes":"ok"},
                             {"key":"quality","value":0.8,"passed":null,"notes":null}],
                   "error":null,"latency":9.822845458984375e-05,"metadata":{"model":"m1"},
                   "trace_data":{"messages":[{"role":"user","content":"2+2"}],"trace_url":"http://example.invalid/t/1","tokens":12},
                   "status":"completed","annotation":null,"annotations":null}}"""), first);
        assertEquals("error", j.path("results").get(2).at("/result/status").asText());
        assertTrue(j.path("results").get(2).at("/result/scores").isNull());
        assertEquals(9, j.path("results").size());
    }

    @Test
    void dataServesAnyRunWithoutChangingTheActiveOne() {
        Client c = Fixtures.otherUser(server, "results-data");
        String first = Fixtures.mini(c, "s", "one");
        String second = Fixtures.run(c, "s", "two");
        Client.Response d = c.get("/api/runs/" + first + "/data");
        assertEquals(200, d.status(), d.text());
        assertEquals(java.util.List.of("session_name", "run_name", "run_id", "total_evaluations", "total_errors",
                "total_passed", "average_latency", "results", "score_chips", "eval_path"), Fixtures.fields(d.json()));
        assertEquals(9, d.json().path("total_evaluations").asInt());
        assertEquals(second, c.get("/results").json().path("run_id").asText());
        assertEquals(0, c.get("/results").json().path("total_evaluations").asInt());
        assertEquals(0, c.get("/results").json().path("score_chips").size());
        assertEquals(404, c.get("/api/runs/latest/data").status());
        assertEquals(404, c.get("/api/runs/deadbeef/data").status());
        assertEquals("Run not found", c.get("/api/runs/deadbeef/data").json().path("detail").asText());
    }

    @Test
    void oneResultByIndexWithLatestAsTheActiveRun() throws Exception {
        Client c = Fixtures.otherUser(server, "results-one");
        assertEquals(404, c.get("/api/runs/latest/results/0").status());
        String id = Fixtures.mini(c, "mini", "r");
        Client.Response r = c.get("/api/runs/latest/results/0");
        assertEquals(200, r.status(), r.text());
        JsonNode j = r.json();
        assertEquals(java.util.List.of("result", "index", "total", "run_id", "session_name", "run_name", "eval_path"), Fixtures.fields(j));
        assertEquals(0, j.path("index").asInt());
        assertEquals(9, j.path("total").asInt());
        assertEquals(id, j.path("run_id").asText());
        assertEquals("test_pass", j.at("/result/function").asText());
        assertEquals(j, c.get("/api/runs/" + id + "/results/0").json());
        assertEquals("test_slow[three]", c.get("/api/runs/" + id + "/results/8").json().at("/result/function").asText());

        for (String bad : new String[] {"9", "-1", "abc", "99999999999"}) {
            Client.Response e = c.get("/api/runs/" + id + "/results/" + bad);
            assertEquals(404, e.status(), bad);
            assertEquals("Result not found", e.json().path("detail").asText());
        }
        assertEquals("Run not found", c.get("/api/runs/zzzz/results/0").json().path("detail").asText());
        assertEquals(404, server.owner().get("/api/runs/" + id + "/results/0").status(), "another user's run is not found");
        assertEquals(405, c.delete("/api/runs/" + id + "/results/0").status());
        assertEquals(405, c.post("/results", "{}").status());
    }

    @Test
    void aUserNeverSeesAnotherUsersRunsOrActiveRun() {
        Client a = Fixtures.otherUser(server, "results-a");
        Client b = Fixtures.otherUser(server, "results-b");
        String id = Fixtures.mini(a, "shared-name", "r");
        assertEquals(404, b.get("/results").status());
        assertEquals(404, b.get("/api/runs/" + id + "/data").status());
        assertEquals(0, b.get("/api/sessions").json().path("sessions").size());
        assertEquals(200, a.get("/results").status());
    }
}
