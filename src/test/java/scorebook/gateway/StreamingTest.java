package scorebook.gateway;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.testing.Client;
import scorebook.testing.FakeModelServer;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;
import scorebook.testing.Wait;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static scorebook.testing.Streamed.parse;
import static scorebook.testing.Streamed.sseData;

/** /ask_stream and /v1/chat/completions: streaming pass-through, TTFT, the OpenAI shapes. */
class StreamingTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** A streamed response read line by line as it arrives. */
    private static HttpResponse<Stream<String>> open(Tenant t, String path, String body) throws IOException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(URI.create(server.base() + path))
                .header("Authorization", "Bearer " + t.apiKey())
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        return HTTP.send(req, HttpResponse.BodyHandlers.ofLines());
    }

    private static String nextNonBlank(Iterator<String> lines) {
        while (lines.hasNext()) {
            String l = lines.next();
            if (!l.isBlank()) {
                return l;
            }
        }
        throw new AssertionError("the stream ended");
    }

    @Test
    void askStreamRelaysTheFirstTokenBeforeTheDeviceFinishesAndMeasuresTtft() throws Exception {
        Tenant t = Tenant.create(server);
        try (FakeModelServer f = FakeModelServer.ollama("m").holdAfterFirstToken()) {
            t.device("d", f, "[\"m\"]");
            HttpResponse<Stream<String>> res = open(t, "/ask_stream", "{\"prompt\":\"hi\",\"tag\":\"s\"}");
            assertEquals(200, res.statusCode());
            assertEquals("application/x-ndjson", res.headers().firstValue("Content-Type").orElse(""));
            Iterator<String> lines = res.body().iterator();
            // the device is still holding the rest of its answer: the first token came through on its own
            assertEquals("Hello", parse(nextNonBlank(lines)).path("delta").asText());
            long heldFrom = System.nanoTime();
            // a hold of known length between the first token and the rest (what is asserted holds for any length)
            Thread.sleep(50);
            long heldMs = (System.nanoTime() - heldFrom) / 1_000_000;
            f.release();
            List<JsonNode> rest = new ArrayList<>();
            lines.forEachRemaining(l -> {
                if (!l.isBlank()) {
                    rest.add(parse(l));
                }
            });
            assertEquals(" world", rest.get(0).path("delta").asText());
            assertEquals("!", rest.get(1).path("delta").asText());
            JsonNode end = rest.getLast();
            assertTrue(end.path("done").asBoolean());
            assertTrue(end.path("ok").asBoolean());
            assertEquals("Hello world!", end.at("/message/content").asText());
            double ttft = end.at("/timings/ttft_ms").asDouble();
            double latency = end.at("/timings/latency_ms").asDouble();
            // TTFT stops at the first token; the hold happened after it and before the end
            assertTrue(latency - ttft >= heldMs, "ttft " + ttft + " latency " + latency + " held " + heldMs);
            Map<String, Object> row = t.usage(1).getFirst();
            assertEquals(ttft, ((Number) row.get("ttft_ms")).doubleValue());
            assertEquals(3, ((Number) row.get("completion_tokens")).intValue());
            assertEquals("s", row.get("tag"));
        }
    }

    @Test
    void aClientLeavingMidStreamIsRecordedAndFreesTheDevice() throws Exception {
        Tenant t = Tenant.create(server);
        try (FakeModelServer f = FakeModelServer.ollama("m").tokens("a", "b", "c", "d", "e", "f").tokenDelay(20).holdAfterFirstToken()) {
            t.device("d", f, "[\"m\"]");
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", server.port())) {
                String body = "{\"prompt\":\"hi\"}";
                s.getOutputStream().write(("POST /ask_stream HTTP/1.1\r\nHost: x\r\nX-Api-Key: " + t.apiKey()
                        + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body)
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8));
                java.io.InputStream in = s.getInputStream();
                StringBuilder seen = new StringBuilder();
                while (seen.indexOf("\"delta\":\"a\"") < 0) {
                    int ch = in.read();
                    assertTrue(ch >= 0, "the stream ended: " + seen);
                    seen.append((char) ch);
                }
            } // the client leaves after the first token
            f.release();
            Map<String, Object> row = t.usage(1).getFirst();
            assertEquals(0, ((Number) row.get("ok")).intValue());
            assertEquals("client_closed", row.get("error_type"));
            Wait.until("the slot to be given back", () -> t.user().get("/devices/d").json().at("/device/inflight").asInt() == 0);
            JsonNode device = t.user().get("/devices/d").json().path("device");
            assertEquals(0, device.path("consecutive_failures").asInt(), "not the device's fault");
        }
    }

    @Test
    void askStreamFailingBeforeTheFirstTokenIsAPlainJsonError() {
        Tenant t = Tenant.create(server);
        Client.Response r = t.gateway().post("/ask_stream", "{\"prompt\":\"hi\"}");
        assertEquals(503, r.status());
        assertEquals("no_device", r.errorCode());
    }

    @Test
    void v1WithoutStreamPassesAnOpenAiAnswerThrough() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer f = FakeModelServer.openai("qwen")) {
            t.device("d", f, "[\"qwen\"]");
            Client.Response r = t.gateway().post("/v1/chat/completions", """
                    {"model":"qwen","messages":[{"role":"user","content":"hi"}],"temperature":0.1,
                     "tag":"sdk","device_serial":"d","logprobs":false}""");
            assertEquals(200, r.status(), r.text());
            JsonNode j = r.json();
            assertEquals("fake-openai", j.path("system_fingerprint").asText(), "the device's own answer");
            assertEquals("Hello world!", j.at("/choices/0/message/content").asText());
            JsonNode sent = f.lastRequest();
            assertFalse(sent.path("stream").asBoolean());
            assertFalse(sent.has("tag") || sent.has("device_serial"), "Scorebook's own fields stay home");
            assertEquals(0.1, sent.path("temperature").asDouble());
            assertTrue(sent.has("logprobs"), "other OpenAI fields go through");
            Map<String, Object> row = t.usage(1).getFirst();
            assertEquals("v1", row.get("source_kind"));
            assertEquals("sdk", row.get("tag"));
            assertEquals(7, ((Number) row.get("prompt_tokens")).intValue());
            assertEquals(3, ((Number) row.get("completion_tokens")).intValue());
            assertNull(row.get("ttft_ms"), "not streamed: no first token to time");
        }
    }

    @Test
    void v1OnOllamaBuildsTheOpenAiAnswer() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer f = FakeModelServer.ollama("llama")) {
            t.device("d", f, "[\"llama\"]");
            Client.Response r = t.gateway().post("/v1/chat/completions", """
                    {"model":"llama","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}""");
            assertEquals(200, r.status(), r.text());
            JsonNode j = r.json();
            assertEquals("chat.completion", j.path("object").asText());
            assertTrue(j.path("id").asText().startsWith("chatcmpl-"));
            assertEquals("llama", j.path("model").asText());
            assertEquals("Hello world!", j.at("/choices/0/message/content").asText());
            assertEquals("stop", j.at("/choices/0/finish_reason").asText());
            assertEquals(10, j.at("/usage/total_tokens").asInt());
            assertEquals("ab", f.lastRequest().at("/messages/0/content").asText());
            assertEquals(5, f.lastRequest().at("/options/num_predict").asInt());
        }
    }

    @Test
    void v1StreamRelaysOpenAiEventsAsTheyArrive() throws Exception {
        Tenant t = Tenant.create(server);
        try (FakeModelServer f = FakeModelServer.openai("qwen").holdAfterFirstToken()) {
            t.device("d", f, "[\"qwen\"]");
            HttpResponse<Stream<String>> res = open(t, "/v1/chat/completions",
                    "{\"model\":\"qwen\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
            assertEquals(200, res.statusCode());
            assertTrue(res.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
            Iterator<String> lines = res.body().iterator();
            JsonNode roleChunk = parse(nextNonBlank(lines).substring(6));
            assertEquals("assistant", roleChunk.at("/choices/0/delta/role").asText());
            JsonNode first = parse(nextNonBlank(lines).substring(6));
            assertEquals("Hello", first.at("/choices/0/delta/content").asText());
            assertEquals("chatcmpl-fake1", first.path("id").asText(), "the device's events, unchanged");
            f.release();
            List<String> rest = new ArrayList<>();
            lines.forEachRemaining(l -> {
                if (!l.isBlank()) {
                    rest.add(l);
                }
            });
            assertEquals("data: [DONE]", rest.getLast());
            assertTrue(rest.stream().noneMatch(l -> l.contains("\"usage\"")), "no usage chunk unless asked: " + rest);
            assertTrue(f.lastRequest().at("/stream_options/include_usage").asBoolean(), "asked upstream for counting");
            Map<String, Object> row = t.usage(1).getFirst();
            assertEquals(3, ((Number) row.get("completion_tokens")).intValue());
            assertTrue(((Number) row.get("ttft_ms")).doubleValue() > 0);
        }
    }

    @Test
    void v1StreamGivesTheUsageChunkWhenAsked() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer o = FakeModelServer.openai("qwen"); FakeModelServer l = FakeModelServer.ollama("llama")) {
            t.device("o", o, "[\"qwen\"]");
            t.device("l", l, "[\"llama\"]");
            for (String model : List.of("qwen", "llama")) {
                Client.Response r = t.gateway().post("/v1/chat/completions", "{\"model\":\"" + model + "\",\"stream\":true,"
                        + "\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
                assertEquals(200, r.status());
                List<String> events = sseData(r.text());
                assertEquals("[DONE]", events.getLast());
                JsonNode usage = parse(events.get(events.size() - 2));
                assertEquals(0, usage.path("choices").size(), model);
                assertEquals(10, usage.at("/usage/total_tokens").asInt(), model);
                StringBuilder text = new StringBuilder();
                String finish = null;
                for (String e : events.subList(0, events.size() - 1)) {
                    JsonNode c = parse(e);
                    assertEquals("chat.completion.chunk", c.path("object").asText());
                    text.append(c.at("/choices/0/delta/content").asText(""));
                    if (c.at("/choices/0/finish_reason").isTextual()) {
                        finish = c.at("/choices/0/finish_reason").asText();
                    }
                }
                assertEquals("Hello world!", text.toString(), model);
                assertEquals("stop", finish, model);
            }
            assertEquals(2, t.usage(2).size());
        }
    }

    @Test
    void v1StreamGivesTheUsageChunkWhenTheDeviceCountsOnItsLastChunk() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer o = FakeModelServer.openai("qwen").usageOnLastChunk()) {
            t.device("o", o, "[\"qwen\"]");
            Client.Response r = t.gateway().post("/v1/chat/completions", "{\"model\":\"qwen\",\"stream\":true,"
                    + "\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
            assertEquals(200, r.status());
            List<String> events = sseData(r.text());
            assertEquals("[DONE]", events.getLast());
            JsonNode usage = parse(events.get(events.size() - 2));
            assertEquals("chat.completion.chunk", usage.path("object").asText());
            assertEquals(0, usage.path("choices").size(), "the usage chunk OpenAI defines: " + events);
            assertEquals(10, usage.at("/usage/total_tokens").asInt());
            assertEquals(parse(events.getFirst()).path("id").asText(), usage.path("id").asText(), "one id for the stream");
            assertEquals(1, events.stream().filter(e -> e.contains("\"choices\":[]")).count());
        }
    }

    @Test
    void v1ModelsListsWhatTheDevicesServe() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer o = FakeModelServer.openai("qwen", "org/m-7b"); FakeModelServer l = FakeModelServer.ollama("llama", "qwen")) {
            t.device("o", o, "[\"qwen\", \"org/m-7b\"]");
            t.device("l", l, "[\"llama\", \"qwen\"]");
            JsonNode j = t.gateway().get("/v1/models").json();
            assertEquals("list", j.path("object").asText());
            assertEquals(3, j.path("data").size());
            assertEquals("llama", j.at("/data/0/id").asText());
            assertEquals("model", j.at("/data/0/object").asText());
            assertEquals("org/m-7b", j.at("/data/1/id").asText());
            assertEquals("qwen", j.at("/data/2/id").asText());
            assertEquals(2, j.at("/data/2/devices").size());

            JsonNode one = t.gateway().get("/v1/models/qwen").json();
            assertEquals("qwen", one.path("id").asText());
            assertEquals("model", one.path("object").asText());
            assertTrue(one.path("created").isIntegralNumber());
            assertEquals("scorebook", one.path("owned_by").asText());
            Client.Response missing = t.gateway().get("/v1/models/gpt-9");
            assertEquals(404, missing.status());
            assertEquals("model_not_found", missing.errorCode());
            assertTrue(missing.json().at("/error/message").asText().contains("'gpt-9'"), missing.text());
            assertEquals("org/m-7b", t.gateway().get("/v1/models/org/m-7b").json().path("id").asText(), "an id with a slash");
        }
    }

    @Test
    void v1ValidatesMessages() {
        Tenant t = Tenant.create(server);
        Client.Response r = t.gateway().post("/v1/chat/completions", "{\"model\":\"m\"}");
        assertEquals(422, r.status());
        assertTrue(r.json().path("detail").asText().contains("'messages'"));
        assertEquals(422, t.gateway().post("/v1/chat/completions", "{\"messages\":[{\"content\":\"x\"}]}").status());
        assertEquals(503, t.gateway().post("/v1/chat/completions", "{\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}").status());
    }

    @Test
    void v1RejectsAnUnknownRoleBeforeAnyCall() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer f = FakeModelServer.openai("qwen")) {
            t.device("d", f, "[\"qwen\"]");
            Client.Response r = t.gateway().post("/v1/chat/completions",
                    "{\"model\":\"qwen\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"wizard\",\"content\":\"y\"}]}");
            assertEquals(422, r.status(), r.text());
            assertTrue(r.json().at("/error/message").asText().contains("'messages[1].role'"), r.text());
            assertEquals(0, f.chats(), "not sent to the device");
            assertTrue(t.usage(0).isEmpty(), "nothing recorded for a request that was never made");
        }
    }

    @Test
    void v1ChecksTheSamplingFieldsItTranslates() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer f = FakeModelServer.ollama("llama")) {
            t.device("d", f, "[\"llama\"]");
            String messages = "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";
            for (String bad : List.of("\"max_tokens\":\"lots\"", "\"max_tokens\":2.5", "\"temperature\":\"hot\"",
                    "\"seed\":[1]", "\"stop\":5", "\"stop\":[\"a\",1]")) {
                Client.Response r = t.gateway().post("/v1/chat/completions", "{" + bad + "," + messages + "}");
                assertEquals(422, r.status(), bad + ": " + r.text());
                String field = bad.substring(1, bad.indexOf('"', 1));
                assertTrue(r.json().at("/error/message").asText().contains("'" + field + "'"), r.text());
            }
            assertEquals(0, f.chats(), "no call for a bad body");
            assertTrue(t.usage(0).isEmpty());
            assertEquals(200, t.gateway().post("/v1/chat/completions",
                    "{\"max_tokens\":8,\"temperature\":0,\"seed\":null,\"stop\":[\"x\"]," + messages + "}").status());
        }
    }

    @Test
    void v1OnOllamaMapsTheDeveloperRoleAndAStopString() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer f = FakeModelServer.ollama("llama")) {
            t.device("d", f, "[\"llama\"]");
            Client.Response r = t.gateway().post("/v1/chat/completions", """
                    {"model":"llama","stop":"\\n","messages":[{"role":"developer","content":"Be brief"},{"role":"user","content":"hi"}]}""");
            assertEquals(200, r.status(), r.text());
            JsonNode sent = f.lastRequest();
            assertEquals("system", sent.at("/messages/0/role").asText(), "Ollama has no developer role");
            assertEquals("Be brief", sent.at("/messages/0/content").asText());
            assertTrue(sent.at("/options/stop").isArray(), "Ollama takes stop only as a list: " + sent);
            assertEquals("\n", sent.at("/options/stop/0").asText());
        }
    }
}
