package scorebook.evals;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.testing.Client;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GET /api/compare: runs matched by function and dataset, regressions first, one page at a time. */
class CompareTest {
    private final TestServer server = TestServer.start();

    @AfterEach
    void stop() {
        server.close();
    }

    /** A run of {@code n} cases, as a baseline has them or as a {@code later} run changes them (and one case more). */
    private String run(String name, int n, boolean later) {
        Client c = server.owner();
        Client.Response created = c.post("/api/runs", "{\"session_name\": \"s\", \"run_name\": \"" + name + "\"}");
        assertEquals(201, created.status(), created.text());
        String id = created.json().path("run_id").asText();
        List<String> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            boolean pass = i % 2 == 0 || (later ? i == 3 : i == 5);                  // 5 regresses, 3 improves
            String output = later && i == 7 ? "seven" : "out " + i;                  // 7 changes its output only
            String error = later && i == 9 ? ", \"error\": \"boom\"" : "";          // 9 errors (a regression)
            rows.add("{\"function\": \"case_" + i + "\", \"dataset\": \"d\", \"result\": {\"input\": \"in " + i
                    + "\", \"output\": \"" + output + "\", \"scores\": [{\"key\": \"acc\", \"passed\": " + pass + "}]" + error + "}}");
        }
        if (later) {
            rows.add("{\"function\": \"only_later\", \"result\": {\"output\": \"new\"}}");
        }
        Client.Response added = c.post("/api/runs/" + id + "/results", "{\"results\": [" + String.join(",", rows) + "]}");
        assertEquals(200, added.status(), added.text());
        return id;
    }

    private static List<String> keysAndChanges(JsonNode answer) {
        List<String> out = new ArrayList<>();
        answer.path("cases").forEach(c -> out.add(c.path("key").asText() + " " + c.path("change").asText()));
        return out;
    }

    @Test
    void casesAreMatchedAndOrderedRegressionsFirstAndPaged() {
        String a = run("base", 12, false);
        String b = run("next", 12, true);
        JsonNode all = server.owner().get("/api/compare?run_id=" + a + "&run_id=" + b + "&limit=5").json();
        assertEquals(13, all.path("total").asInt(), all.toString());
        assertEquals(13, all.path("filtered").asInt());
        assertEquals(2, all.at("/counts/regression").asInt());
        assertEquals(1, all.at("/counts/improvement").asInt());
        assertEquals(1, all.at("/counts/changed").asInt());
        assertEquals(9, all.at("/counts/same").asInt());
        assertEquals(List.of("case_5::d regression", "case_9::d regression", "case_3::d improvement", "case_7::d changed",
                "case_0::d same"), keysAndChanges(all));
        JsonNode first = all.at("/cases/0");
        assertEquals(a, first.at("/at/run_id").asText());
        assertEquals(5, first.at("/at/index").asInt());
        assertEquals("out 5", first.at("/rows/0/result/output").asText());
        assertEquals(5, first.at("/rows/1/index").asInt());
        assertTrue(first.at("/changes/0").isNull());
        assertEquals("regression", first.at("/changes/1").asText());
        assertEquals(List.of("base", "next"), List.of(all.at("/runs/0/run_name").asText(), all.at("/runs/1/run_name").asText()));
        assertEquals(13, all.at("/runs/1/total_evaluations").asInt());
        assertEquals("acc", all.at("/runs/0/score_chips/0/key").asText());
        assertTrue(all.at("/runs/0/results").isMissingNode(), "a run's rows are not sent whole");

        JsonNode next = server.owner().get("/api/compare?run_id=" + a + "&run_id=" + b + "&limit=5&offset=10").json();
        assertEquals(3, next.path("cases").size());
        JsonNode last = next.at("/cases/2");
        assertEquals("only_later::", last.path("key").asText(), "a case of the later run alone comes last: " + next);
        assertTrue(last.at("/rows/0").isNull());
        assertEquals(b, last.at("/at/run_id").asText());

        JsonNode changed = server.owner().get("/api/compare?run_id=" + a + "&run_id=" + b + "&only_changed=1").json();
        assertEquals(4, changed.path("filtered").asInt());
        assertEquals(13, changed.path("total").asInt());
        JsonNode found = server.owner().get("/api/compare?run_id=" + a + "&run_id=" + b + "&search=SEVEN").json();
        assertEquals(List.of("case_7::d changed"), keysAndChanges(found));
    }

    @Test
    void badParametersAre422NamingThemAndOtherUsersRunsAre404() {
        String a = run("base", 3, false);
        for (String[] bad : new String[][] {{"", "run_id"}, {"run_id=" + a + "&limit=x", "limit"},
                {"run_id=" + a + "&offset=-1", "offset"}, {"run_id=" + a + "&only_changed=maybe", "only_changed"},
                {"run_id=" + a + "&colour=red", "colour"}, {"run_id=a&run_id=b&run_id=c&run_id=d&run_id=e", "run_id"}}) {
            Client.Response r = server.owner().get("/api/compare?" + bad[0]);
            assertEquals(422, r.status(), bad[0] + ": " + r.text());
            assertTrue(r.json().path("detail").asText().contains("'" + bad[1] + "'"), r.text());
        }
        assertEquals(404, server.owner().get("/api/compare?run_id=" + a + "&run_id=0000ffff").status());
        Client other = server.client(Tenant.create(server).token());
        assertEquals(404, other.get("/api/compare?run_id=" + a).status(), "another user's run is not found");
        assertEquals(3, server.owner().get("/api/compare?run_id=" + a).json().path("total").asInt(), "one run compares with itself");
    }
}
