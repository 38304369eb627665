package scorebook.gateway;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.ServerConfig;
import scorebook.testing.Client;
import scorebook.testing.FakeModelServer;
import scorebook.testing.FakeModelServer.Failure;
import scorebook.testing.Tenant;
import scorebook.testing.TestClock;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static scorebook.testing.Streamed.parse;
import static scorebook.testing.Streamed.sseData;

/** Model servers that fail, lie or stall: clear 502/503/504 errors, the circuit breaker, retries, usage rows. */
class UpstreamFailureTest {
    /** The circuit's 30 s rest follows this clock, so a slow machine cannot outwait it and the test can pass it. */
    private static final TestClock CLOCK = TestClock.atSystemTime();
    private static final Path DATA = TestServer.tempDir();
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(ServerConfig.local(DATA, TestServer.OWNER_TOKEN).withClock(CLOCK));
    }

    @AfterAll
    static void stop() {
        server.close();
        TestServer.deleteTree(DATA);
    }

    @Test
    void aRestingDeviceGetsATrialCallOnceTheCoolDownHasPassed() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer f = FakeModelServer.openai("m").failure(Failure.HTTP_500)) {
            t.device("d", f, "[\"m\"]");
            for (int i = 0; i < 3; i++) {
                assertEquals(502, t.gateway().post("/ask", "{\"prompt\":\"x\"}").status());
            }
            f.failure(Failure.NONE);
            CLOCK.advance(Duration.ofSeconds(29));
            assertEquals(503, t.gateway().post("/ask", "{\"prompt\":\"x\"}").status(), "still resting after 29 s");
            assertEquals(3, f.chats());
            CLOCK.advance(Duration.ofSeconds(2));
            Client.Response trial = t.gateway().post("/ask", "{\"prompt\":\"x\"}");
            assertEquals(200, trial.status(), trial.text());
            assertTrue(t.user().get("/devices/d").json().at("/device/open_until").isNull(), "a passing trial closes the circuit");
        }
    }

    @Test
    void repeatedFailuresOpenTheCircuitAndAReloadThatPassesClosesIt() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer f = FakeModelServer.ollama("m").failure(Failure.HTTP_500)) {
            t.device("d", f, "[\"m\"]");
            for (int i = 0; i < 3; i++) {
                Client.Response r = t.gateway().post("/ask", "{\"prompt\":\"x\"}");
                assertEquals(502, r.status());
                assertEquals("upstream_error", r.errorCode());
                assertTrue(r.json().path("detail").asText().contains("model server answered 500: model crashed on purpose"), r.text());
            }
            Client.Response rested = t.gateway().post("/ask", "{\"prompt\":\"x\"}");
            assertEquals(503, rested.status());
            assertTrue(rested.json().path("detail").asText().contains("d: circuit open until"), rested.text());
            assertEquals(3, f.chats(), "a resting device gets no calls");

            JsonNode listed = t.user().get("/devices/d").json().path("device");
            assertTrue(listed.path("open_until").isTextual());
            assertEquals(3, listed.path("consecutive_failures").asInt());
            assertTrue(listed.path("reason").asText().startsWith("circuit open"));
            assertTrue(listed.path("last_error_at").isTextual());

            f.failure(Failure.NONE);
            JsonNode reloaded = t.user().post("/devices/reload", "").json().at("/data/0");
            assertTrue(reloaded.path("healthy").asBoolean());
            assertTrue(reloaded.path("open_until").isNull());
            assertEquals(200, t.gateway().post("/ask", "{\"prompt\":\"x\"}").status());

            List<Map<String, Object>> rows = t.usage(5);
            assertEquals(List.of("upstream_error", "upstream_error", "upstream_error", "no_device"),
                    rows.subList(0, 4).stream().map(r -> r.get("error_type")).toList());
            assertEquals(1, ((Number) rows.get(4).get("ok")).intValue());
        }
    }

    @Test
    void anUnhealthyDeviceGetsNoCalls() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer f = FakeModelServer.openai("m").healthFails(true)) {
            t.device("d", f, "[\"m\"]");
            JsonNode d = t.user().post("/devices/reload", "").json().at("/data/0");
            assertFalse(d.path("healthy").asBoolean());
            assertTrue(d.path("reason").asText().contains("500"), d.toString());
            Client.Response r = t.gateway().post("/ask", "{\"prompt\":\"x\"}");
            assertEquals(503, r.status());
            assertTrue(r.json().path("detail").asText().contains("d: unhealthy"), r.text());
            assertEquals(0, f.chats());
        }
    }

    @Test
    void aFailingDeviceIsLeftForAnotherServingTheModel() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer bad = FakeModelServer.ollama("m").failure(Failure.HTTP_500);
             FakeModelServer good = FakeModelServer.openai("m")) {
            t.device("a-bad", bad, "[\"m\"]");
            t.device("b-good", good, "[\"m\"]");
            Client.Response r = t.gateway().post("/ask", "{\"prompt\":\"x\",\"model\":\"m\"}");
            assertEquals(200, r.status(), r.text());
            assertEquals("b-good", r.json().path("device").asText());
            assertEquals(1, bad.chats());
            List<Map<String, Object>> rows = t.usage(2);
            assertEquals("a-bad", rows.get(0).get("device"));
            assertEquals("upstream_error", rows.get(0).get("error_type"));
            assertEquals("b-good", rows.get(1).get("device"));
            assertEquals(1, ((Number) rows.get(1).get("ok")).intValue());
            assertEquals(rows.get(0).get("request_id"), rows.get(1).get("request_id"), "two attempts of one call");
        }
    }

    @Test
    void aClientErrorFromTheDeviceIs502AndDoesNotCountAgainstIt() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer f = FakeModelServer.ollama("m").failure(Failure.HTTP_404)) {
            t.device("d", f, "[\"m\"]");
            for (int i = 0; i < 4; i++) {
                Client.Response r = t.gateway().post("/ask", "{\"prompt\":\"x\"}");
                assertEquals(502, r.status());
                assertTrue(r.json().path("detail").asText().contains("answered 404: model 'm' not found"), r.text());
            }
            assertEquals(4, f.chats(), "the circuit stays closed");
        }
    }

    @Test
    void malformedAnswersAre502() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer o = FakeModelServer.ollama("lm").failure(Failure.MALFORMED);
             FakeModelServer a = FakeModelServer.openai("om").failure(Failure.MALFORMED)) {
            t.device("o", o, "[\"lm\"]");
            t.device("a", a, "[\"om\"]");
            Client.Response r1 = t.gateway().post("/ask", "{\"prompt\":\"x\",\"model\":\"lm\"}");
            assertEquals(502, r1.status());
            assertEquals("bad_upstream", r1.errorCode());
            assertTrue(r1.json().path("detail").asText().contains("malformed JSON"), r1.text());
            Client.Response r2 = t.gateway().post("/v1/chat/completions",
                    "{\"model\":\"om\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
            assertEquals(502, r2.status());
            assertEquals("bad_upstream", r2.errorCode());
            Client.Response r3 = t.gateway().post("/ask", "{\"prompt\":\"x\",\"model\":\"om\"}");
            assertEquals(502, r3.status());
            assertTrue(r3.json().path("detail").asText().contains("ended without 'data: [DONE]'"), r3.text());
            assertTrue(t.usage(3).stream().allMatch(r -> "bad_upstream".equals(r.get("error_type"))));
        }
    }

    @Test
    void hugeAnswersAre502() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer o = FakeModelServer.ollama("lm").failure(Failure.HUGE);
             FakeModelServer a = FakeModelServer.openai("om").failure(Failure.HUGE)) {
            t.device("o", o, "[\"lm\"]");
            t.device("a", a, "[\"om\"]");
            Client.Response r1 = t.gateway().post("/ask", "{\"prompt\":\"x\",\"model\":\"lm\"}");
            assertEquals(502, r1.status());
            assertTrue(r1.json().path("detail").asText().contains("line longer than 1024 KiB"), r1.text());
            Client.Response r2 = t.gateway().post("/v1/chat/completions",
                    "{\"model\":\"om\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
            assertEquals(502, r2.status());
            assertTrue(r2.json().path("detail").asText().contains("larger than 16 MiB"), r2.text());
        }
    }

    @Test
    void aSlowDeviceIs504AfterTheCallsTimeLimit() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer f = FakeModelServer.ollama("m").delay(3_000)) {
            t.device("d", f, "[\"m\"]");
            Client.Response r = t.gateway().post("/ask", "{\"prompt\":\"x\",\"timeout_s\":0.2}");
            assertEquals(504, r.status(), r.text());
            assertEquals("upstream_timeout", r.errorCode());
            assertEquals("upstream_timeout", t.usage(1).getFirst().get("error_type"));
        }
    }

    @Test
    void aStallMidStreamIs504Too() throws InterruptedException {
        Tenant t = Tenant.create(server);
        try (FakeModelServer f = FakeModelServer.openai("m").holdAfterFirstToken()) {
            t.device("d", f, "[\"m\"]");
            // the limit outlasts reaching the device on a loaded machine; the hold after the first token never ends
            Client.Response r = t.gateway().post("/ask", "{\"prompt\":\"x\",\"timeout_s\":3}");
            assertEquals(504, r.status(), r.text());
            assertEquals("upstream_timeout", r.errorCode());
            assertTrue(f.awaitFirstTokenSent(), "the device had started answering");
        }
    }

    @Test
    void anErrorAfterTheStreamStartedEndsItWithTheErrorEnvelope() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer o = FakeModelServer.ollama("lm").failure(Failure.MID_STREAM);
             FakeModelServer a = FakeModelServer.openai("om").failure(Failure.MID_STREAM)) {
            t.device("o", o, "[\"lm\"]");
            t.device("a", a, "[\"om\"]");
            for (String model : List.of("lm", "om")) {
                Client.Response nd = t.gateway().post("/ask_stream", "{\"prompt\":\"x\",\"model\":\"" + model + "\"}");
                assertEquals(200, nd.status(), "the stream had started");
                List<String> lines = nd.text().lines().filter(l -> !l.isBlank()).toList();
                assertEquals("Hello", parse(lines.getFirst()).path("delta").asText(), model);
                JsonNode end = parse(lines.getLast());
                assertTrue(end.path("done").asBoolean(), nd.text());
                assertFalse(end.path("ok").asBoolean(), nd.text());
                assertEquals("upstream_error", end.at("/error/code").asText(), nd.text());
                assertTrue(end.at("/error/message").asText().contains("out of memory on purpose"), nd.text());

                Client.Response sse = t.gateway().post("/v1/chat/completions", "{\"model\":\"" + model
                        + "\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
                assertEquals(200, sse.status());
                List<String> events = sseData(sse.text());
                assertFalse(events.contains("[DONE]"), "a failed stream does not claim to be done: " + events);
                // an OpenAI SDK raises an APIError with error.message from such an event
                assertTrue(parse(events.getLast()).at("/error/message").asText().contains("out of memory on purpose"), sse.text());
            }
        }
    }

    @Test
    void anUnreachableDeviceIs502() {
        Tenant t = Tenant.create(server);
        Client.Response reg = t.user().post("/devices/register",
                "{\"serial\":\"gone\",\"kind\":\"ollama\",\"base_url\":\"http://127.0.0.1:1\",\"models\":[\"m\"]}");
        assertEquals(201, reg.status());
        Client.Response r = t.gateway().post("/ask", "{\"prompt\":\"x\",\"device_serial\":\"gone\"}");
        assertTrue(r.status() == 502 || r.status() == 503, r.text()); // 503 once its health check has run
        assertTrue(r.json().path("detail").asText().contains("127.0.0.1:1"), r.text());
    }
}
