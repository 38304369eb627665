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
import java.util.List;

import org.junit.jupiter.api.AfterEach;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;
import scorebook.server.ServerConfig;
import scorebook.testing.TestClock;
import scorebook.testing.TestServer;
import scorebook.testing.Wait;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What the runner's server tests share: an eval folder and a data folder of their own, a server over them with
 * a clock the test moves, suites written into the folder, waiting for a run to settle, and a run's live stream.
 */
abstract class RunnerServerTest {
    protected final Path evals = TestServer.tempDir();
    protected final Path data = TestServer.tempDir();
    protected final TestClock clock = TestClock.atSystemTime();
    protected TestServer server;

    @AfterEach
    void clean() {
        if (server != null) {
            server.close();
        }
        TestServer.deleteTree(evals);
        TestServer.deleteTree(data);
    }

    protected TestServer start() {
        server = TestServer.start(ServerConfig.local(data, TestServer.OWNER_TOKEN).withEvalPath(evals).withClock(clock));
        return server;
    }

    protected void suite(String name, String yaml) throws IOException {
        Files.writeString(evals.resolve(name), yaml);
    }

    /** Polls GET /results until no row is pending or running. */
    protected JsonNode settled() {
        JsonNode[] last = new JsonNode[1];
        Wait.until("the run to finish", () -> {
            last[0] = server.owner().get("/results").json();
            for (JsonNode row : last[0].path("results")) {
                String s = row.at("/result/status").asText();
                if (s.equals("pending") || s.equals("running")) {
                    return false;
                }
            }
            return true;
        }, () -> String.valueOf(last[0]));
        return last[0];
    }

    /** One server-sent event. */
    protected record Event(String type, JsonNode data) {
    }

    /** The owner's live stream of a run, read past its {@code hello} event; close it when done. */
    protected BufferedReader subscribe(String runId) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(server.base() + "/api/runs/" + runId + "/events"))
                .header("X-User-Token", TestServer.OWNER_TOKEN).build();
        HttpResponse<java.io.InputStream> stream = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, stream.statusCode());
        assertEquals("text/event-stream", stream.headers().firstValue("Content-Type").orElseThrow().split(";")[0].strip());
        BufferedReader in = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8));
        assertEquals("event: hello", in.readLine());
        in.readLine();
        in.readLine();
        return in;
    }

    /** Reads events into {@code out} until one of {@code until}'s type (included). */
    protected static void readUntil(BufferedReader in, List<Event> out, String until) throws IOException {
        String type = null;
        while (true) {
            String line = in.readLine();
            if (line == null) {
                throw new AssertionError("the stream ended before " + until + ": " + out);
            }
            if (line.startsWith("event: ")) {
                type = line.substring(7);
            } else if (line.startsWith("data: ") && type != null) {
                out.add(new Event(type, Json.MAPPER.readTree(line.substring(6))));
                if (type.equals(until)) {
                    return;
                }
            }
        }
    }

    /** Reads events (the first "done" included) into {@code out}. */
    protected static void readUntilDone(BufferedReader in, List<Event> out) throws IOException {
        readUntil(in, out, "done");
    }
}
