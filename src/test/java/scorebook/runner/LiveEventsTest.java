package scorebook.runner;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;
import scorebook.server.ServerConfig;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A run's live stream carries the changed rows and, after them, the run's new totals and chips: a page
 * can apply a change of one row without fetching the run again.
 */
class LiveEventsTest {
    private final Path evals = TestServer.tempDir();
    private final Path data = TestServer.tempDir();
    private TestServer server;

    @AfterEach
    void clean() {
        if (server != null) {
            server.close();
        }
        TestServer.deleteTree(evals);
        TestServer.deleteTree(data);
    }

    /** One server-sent event. */
    private record Event(String type, JsonNode data) {
    }

    @Test
    void rowEventsAreFollowedByTheRunsNewTotalsAndChips() throws Exception {
        Files.writeString(evals.resolve("math.yaml"), """
                dataset: math
                target: {command: 'read c; case "$c" in *2+2*) echo 4;; *) echo 0;; esac'}
                scorers: [equals]
                cases:
                  - {name: add, input: "2+2", reference: "4"}
                  - {name: bad, input: "1+1", reference: "2"}
                """);
        server = TestServer.start(ServerConfig.local(data, TestServer.OWNER_TOKEN).withEvalPath(evals));
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
        Files.writeString(evals.resolve("slow.yaml"), "target: {command: 'exec sleep 30'}\ncases: [{input: 1}, {input: 2}, {input: 3}]\n");
        server = TestServer.start(ServerConfig.local(data, TestServer.OWNER_TOKEN).withEvalPath(evals));
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

    private BufferedReader subscribe(String runId) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(server.base() + "/api/runs/" + runId + "/events"))
                .header("X-User-Token", TestServer.OWNER_TOKEN).build();
        HttpResponse<java.io.InputStream> stream = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, stream.statusCode());
        BufferedReader in = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8));
        assertEquals("event: hello", in.readLine());
        in.readLine();
        in.readLine();
        return in;
    }

    /** Reads events (the first "done" included) into {@code out}. */
    private static void readUntilDone(BufferedReader in, List<Event> out) throws IOException {
        String type = null;
        while (true) {
            String line = in.readLine();
            if (line == null) {
                throw new AssertionError("the stream ended before done: " + out);
            }
            if (line.startsWith("event: ")) {
                type = line.substring(7);
            } else if (line.startsWith("data: ") && type != null) {
                out.add(new Event(type, Json.MAPPER.readTree(line.substring(6))));
                if (type.equals("done")) {
                    return;
                }
            }
        }
    }
}
