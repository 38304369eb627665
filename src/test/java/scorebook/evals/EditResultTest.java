package scorebook.evals;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;
import scorebook.testing.Client;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PATCH /api/runs/{id}/results/{i}: annotations and scores only, totals and chips follow at once. */
class EditResultTest {
    @AutoClose
    private static final TestServer server = TestServer.start();

    @Test
    void annotateAResultAndGetTheWholeRowBack() throws Exception {
        Client c = Fixtures.otherUser(server, "edit-annotate");
        String id = Fixtures.mini(c, "s", "r");
        Client.Response r = c.patch("/api/runs/latest/results/1",
                "{\"result\": {\"annotation\": \"Reviewed - looks good\", \"annotations\": {\"by\": \"ana\", \"tags\": [1, 2]}}}");
        assertEquals(200, r.status(), r.text());
        assertEquals(java.util.List.of("ok", "result"), Fixtures.fields(r.json()));
        JsonNode row = r.json().path("result");
        assertEquals("test_fail", row.path("function").asText());
        assertEquals("Reviewed - looks good", row.at("/result/annotation").asText());
        assertEquals(Json.MAPPER.readTree("{\"by\": \"ana\", \"tags\": [1, 2]}"), row.at("/result/annotations"));
        assertEquals("Lyon", row.at("/result/output").asText(), "other fields are untouched");
        assertEquals(row, c.get("/api/runs/" + id + "/results/1").json().path("result"), "stored");

        Client.Response cleared = c.patch("/api/runs/" + id + "/results/1", "{\"result\": {\"annotation\": null}}");
        assertEquals(200, cleared.status());
        JsonNode stored = c.get("/api/runs/" + id + "/results/1").json().at("/result/result");
        assertTrue(stored.path("annotation").isNull());
        assertEquals("ana", stored.at("/annotations/by").asText(), "fields not sent are kept");
        assertEquals(200, c.patch("/api/runs/" + id + "/results/1", "{}").status(), "nothing to change is fine");
        assertEquals(200, c.patch("/api/runs/" + id + "/results/1", "{\"result\": {}}").status());
    }

    @Test
    void editingScoresChangesTotalsAndChipsAtOnce() throws Exception {
        Client c = Fixtures.otherUser(server, "edit-scores");
        String id = Fixtures.mini(c, "s", "r");
        assertEquals(5, c.get("/results").json().path("total_passed").asInt());
        Client.Response r = c.patch("/api/runs/" + id + "/results/1",
                "{\"result\": {\"scores\": [{\"key\": \"accuracy\", \"passed\": true}, {\"key\": \"manual\", \"value\": 1}]}}");
        assertEquals(200, r.status(), r.text());
        assertEquals(Json.MAPPER.readTree("""
                [{"key":"accuracy","value":null,"passed":true,"notes":null},{"key":"manual","value":1.0,"passed":null,"notes":null}]"""),
                r.json().at("/result/result/scores"));
        JsonNode run = c.get("/results").json();
        assertEquals(6, run.path("total_passed").asInt());
        assertEquals(Json.MAPPER.readTree("""
                [{"key":"accuracy","type":"ratio","passed":5,"total":5},
                 {"key":"quality","type":"avg","avg":0.8,"count":1},
                 {"key":"manual","type":"avg","avg":1.0,"count":1},
                 {"key":"correctness","type":"ratio","passed":0,"total":1},
                 {"key":"ok","type":"ratio","passed":1,"total":1},
                 {"key":"num","type":"avg","avg":0.5,"count":1}]"""), run.path("score_chips"));

        assertEquals(200, c.patch("/api/runs/" + id + "/results/0", "{\"result\": {\"scores\": null}}").status());
        assertTrue(c.get("/api/runs/" + id + "/results/0").json().at("/result/result/scores").isNull());
        assertEquals(200, c.patch("/api/runs/" + id + "/results/4", "{\"result\": {\"scores\": []}}").status());
        assertEquals(0, c.get("/api/runs/" + id + "/results/4").json().at("/result/result/scores").size());
        JsonNode after = c.get("/results").json();
        assertEquals(4, after.path("total_passed").asInt(), "rows 1, 6, 7, 8 still pass");
        assertEquals("[\"accuracy\",\"manual\",\"correctness\",\"num\"]",
                Json.text(after.path("score_chips").findValuesAsText("key")), "chips of keys no row holds are gone");
    }

    @Test
    void onlyAnnotationAnnotationsAndScoresCanChangeAndBadEditsChangeNothing() {
        Client c = Fixtures.otherUser(server, "edit-bad");
        String id = Fixtures.mini(c, "s", "r");
        String before = c.get("/api/runs/" + id + "/data").text();
        String[][] cases = {
            {"{\"result\": {\"output\": \"5\"}}", "result.output"},
            {"{\"result\": {\"annotation\": \"x\", \"status\": \"error\"}}", "result.status"},
            {"{\"result\": {\"input\": 1}}", "result.input"},
            {"{\"function\": \"renamed\", \"result\": {}}", "function"},
            {"{\"result\": \"text\"}", "result"},
            {"{\"result\": {\"annotation\": 5}}", "result.annotation"},
            {"{\"result\": {\"scores\": [{\"key\": \"k\"}]}}", "result.scores[0]"},
            {"{\"result\": {\"scores\": [{\"passed\": true}]}}", "result.scores[0].key"},
            {"{\"result\": {\"scores\": [{\"key\": \"k\", \"value\": \"high\"}]}}", "result.scores[0].value"},
            {"{\"result\": {\"scores\": [{\"key\": \"k\", \"passed\": true, \"weight\": 2}]}}", "result.scores[0].weight"},
            {"{\"result\": {\"scores\": \"all good\"}}", "result.scores"},
        };
        for (String[] bad : cases) {
            Client.Response r = c.patch("/api/runs/" + id + "/results/0", bad[0]);
            Fixtures.assertInvalid(r, "'" + bad[1]);
        }
        assertEquals(400, c.patch("/api/runs/" + id + "/results/0", "{\"result\":").status());
        assertEquals(before, c.get("/api/runs/" + id + "/data").text(), "nothing changed");
    }

    @Test
    void onlyTheActiveRunCanBeEditedAndUnknownTargetsAre404() {
        Client c = Fixtures.otherUser(server, "edit-target");
        String old = Fixtures.mini(c, "s", "old");
        String current = Fixtures.mini(c, "s", "current");
        String body = "{\"result\": {\"annotation\": \"x\"}}";
        Client.Response notActive = c.patch("/api/runs/" + old + "/results/0", body);
        assertEquals(400, notActive.status());
        assertEquals("Only active or latest run can be updated", notActive.json().path("detail").asText());
        for (String bad : new String[] {"9", "-1", "x"}) {
            Client.Response r = c.patch("/api/runs/" + current + "/results/" + bad, body);
            assertEquals(404, r.status(), bad);
        }
        assertEquals("Result index out of range", c.patch("/api/runs/latest/results/9", body).json().path("detail").asText());
        assertEquals("Run not found", c.patch("/api/runs/0badc0de/results/0", body).json().path("detail").asText());
        assertEquals(404, server.owner().patch("/api/runs/" + current + "/results/0", body).status());
        assertEquals(404, server.owner().patch("/api/runs/latest/results/0", body).status(), "the owner has no active run");
        assertTrue(c.get("/api/runs/" + old + "/results/0").json().at("/result/result/annotation").isNull());
        assertTrue(c.get("/api/runs/" + current + "/results/0").json().at("/result/result/annotation").isNull());
    }
}
