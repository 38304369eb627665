package scorebook.runner;

import java.io.BufferedReader;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A run's live stream carries the changed rows and, after them, the run's new totals and chips: a page
 * can apply a change of one row without fetching the run again.
 */
class LiveEventsTest extends RunnerServerTest {
    @Test
    void rowEventsAreFollowedByTheRunsNewTotalsAndChips() throws Exception {
        suite("math.yaml", """
                dataset: math
                target: {command: 'read c; case "$c" in *2+2*) echo 4;; *) echo 0;; esac'}
                scorers: [equals]
                cases:
                  - {name: add, input: "2+2", reference: "4"}
                  - {name: bad, input: "1+1", reference: "2"}
                """);
        start();
        String runId = server.owner().post("/api/runs/new", "{}").json().path("run_id").asText();
        long owner = server.owner().get("/api/me").json().at("/user/id").asLong();
        server.running().runner().await(owner);
        List<Event> events = new ArrayList<>();
        try (BufferedReader in = subscribe(runId)) {
            assertEquals(200, server.owner().post("/api/runs/rerun", "{\"indices\": [1]}").status());
            readUntilDone(in, events);
        }
        assertFalse(events.isEmpty());
        assertEquals("row", events.getFirst().type(), events.toString());
        assertEquals("totals", events.get(events.size() - 2).type(), events.toString());
        for (int i = 0; i < events.size() - 1; i++) {
            if (events.get(i).type().equals("totals")) {
                // totals always come after the rows of their change
                assertEquals("row", events.get(i - 1).type(), events.toString());
            }
        }
        assertTrue(events.stream().filter(e -> e.type().equals("row")).allMatch(e -> e.data().path("index").asInt() == 1));
        JsonNode last = events.get(events.size() - 2).data();
        JsonNode results = server.owner().get("/results").json();
        assertEquals(runId, last.path("run_id").asText());
        assertEquals(results.path("score_chips"), last.path("chips"));
        for (String f : List.of("total_evaluations", "selected_total", "total_errors", "total_passed", "average_latency")) {
            assertEquals(results.path(f), last.path("totals").path(f), f);
        }
        assertEquals(Json.MAPPER.readTree("{\"completed\": 2}"), last.path("totals").path("statuses"));
        assertEquals(Json.MAPPER.readTree("[{\"key\":\"equals\",\"type\":\"ratio\",\"passed\":1,\"total\":2}]"), last.path("chips"));
        // a totals event while the case was pending counted it so
        assertTrue(events.stream().anyMatch(e -> e.type().equals("totals") && e.data().at("/totals/statuses/pending").asInt() == 1),
                events.toString());
        // the rows endpoint agrees with the stream
        JsonNode rows = server.owner().get("/api/runs/" + runId + "/rows").json();
        assertEquals(last.path("totals"), rows.path("totals"));
        assertEquals(last.path("chips"), rows.path("chips"));
    }

    @Test
    void stopSendsTheCancelledTotalsBeforeDone() throws Exception {
        suite("slow.yaml", "target: {command: 'exec sleep 30'}\ncases: [{input: 1}, {input: 2}, {input: 3}]\n");
        start();
        String runId = server.owner().post("/api/runs/new", "{}").json().path("run_id").asText();
        List<Event> events = new ArrayList<>();
        try (BufferedReader in = subscribe(runId)) {
            for (int i = 0; i < 600 && !server.owner().get("/results").text().contains("\"running\""); i++) {
                Thread.sleep(50);
            }
            assertEquals(200, server.owner().post("/api/runs/stop", null).status());
            readUntilDone(in, events);
        }
        Event totals = events.get(events.size() - 2);
        assertEquals("totals", totals.type(), events.toString());
        assertEquals(3, totals.data().at("/totals/statuses/cancelled").asInt(), totals.toString());
        assertEquals(3, totals.data().at("/totals/total_evaluations").asInt());
    }

    @Test
    void anEditedResultIsSentAsARowEventWithTheNewTotals() throws Exception {
        suite("math.yaml", "target: {command: 'echo 4'}\nscorers: [equals]\ncases: [{input: 1, reference: '4'}, {input: 2, reference: '5'}]\n");
        start();
        String runId = server.owner().post("/api/runs/new", "{}").json().path("run_id").asText();
        settled();
        List<Event> events = new ArrayList<>();
        try (BufferedReader in = subscribe(runId)) {
            assertEquals(200, server.owner().patch("/api/runs/latest/results/1",
                    "{\"result\": {\"annotation\": \"look again\", \"scores\": [{\"key\": \"equals\", \"passed\": true}]}}").status());
            readUntil(in, events, "totals");
        }
        assertEquals(List.of("row", "totals"), events.stream().map(Event::type).toList(), events.toString());
        JsonNode row = events.getFirst().data();
        assertEquals(1, row.path("index").asInt());
        assertEquals("look again", row.at("/row/result/annotation").asText());
        assertEquals(server.owner().get("/api/runs/latest/results/1").json().path("result"), row.path("row"));
        JsonNode totals = events.getLast().data();
        assertEquals(2, totals.at("/totals/total_passed").asInt(), totals.toString());
        assertEquals(server.owner().get("/api/runs/latest/rows?limit=0").json().path("chips"), totals.path("chips"));
        // a rejected edit sends nothing and changes nothing: the next event is the one of the next good edit
        events.clear();
        try (BufferedReader in = subscribe(runId)) {
            assertEquals(422, server.owner().patch("/api/runs/latest/results/0", "{\"result\": {\"output\": \"x\"}}").status());
            assertEquals(200, server.owner().patch("/api/runs/latest/results/0", "{\"result\": {\"annotation\": \"ok\"}}").status());
            readUntil(in, events, "totals");
        }
        assertEquals(List.of("row", "totals"), events.stream().map(Event::type).toList(), events.toString());
        assertEquals("ok", events.getFirst().data().at("/row/result/annotation").asText());
        assertEquals(0, events.getFirst().data().path("index").asInt());
    }
}
