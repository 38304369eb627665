package scorebook.gateway;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.testing.Client;
import scorebook.testing.FakeModelServer;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** /ask, /ask_batch, /warmup over fake Ollama and OpenAI servers on real ports, and the usage rows they write. */
class GatewayTest {
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void askOnOllamaReturnsTheEnvelopeAndWritesAUsageRow() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer ollama = FakeModelServer.ollama("llama3.2")) {
            t.device("gpu1", ollama, "[\"llama3.2\"]");
            long before = System.currentTimeMillis();
            Client.Response r = t.gateway().post("/ask", """
                    {"prompt":"Say hello","system":"Be brief","model":"llama3.2","options":{"num_predict":16},"tag":"smoke"}""");
            long after = System.currentTimeMillis();
            assertEquals(200, r.status(), r.text());
            JsonNode e = r.json();
            assertTrue(e.path("id").asText().startsWith("req_"));
            assertEquals("llama3.2", e.path("model").asText());
            assertEquals("gpu1", e.path("device").asText());
            assertEquals("assistant", e.at("/message/role").asText());
            assertEquals("Hello world!", e.at("/message/content").asText());
            assertEquals("stop", e.path("done_reason").asText());
            assertEquals(FakeModelServer.PROMPT_TOKENS, e.at("/usage/prompt_tokens").asInt());
            assertEquals(3, e.at("/usage/completion_tokens").asInt());
            double latency = e.at("/timings/latency_ms").asDouble();
            double ttft = e.at("/timings/ttft_ms").asDouble();
            assertTrue(ttft > 0 && ttft <= latency, e.toString());
            assertEquals(100.0, e.at("/timings/load_ms").asDouble());
            assertEquals(100.0, e.at("/timings/prefill_tok_s").asDouble()); // 7 tokens in 70 ms
            assertEquals(10.0, e.at("/timings/decode_tok_s").asDouble()); // 3 tokens in 300 ms
            assertFalse(e.path("cached").asBoolean());
            assertTrue(e.path("raw").isMissingNode());

            JsonNode sent = ollama.lastRequest();
            assertEquals("llama3.2", sent.path("model").asText());
            assertEquals("system", sent.at("/messages/0/role").asText());
            assertEquals("Be brief", sent.at("/messages/0/content").asText());
            assertEquals("Say hello", sent.at("/messages/1/content").asText());
            assertEquals(16, sent.at("/options/num_predict").asInt());

            List<Map<String, Object>> rows = t.usage(1);
            assertEquals(1, rows.size());
            Map<String, Object> row = rows.getFirst();
            assertEquals(t.apiKeyId(), ((Number) row.get("api_key_id")).longValue());
            assertEquals("gateway", row.get("source_kind"));
            assertEquals(e.path("id").asText(), row.get("request_id"));
            assertEquals("gpu1", row.get("device"));
            assertEquals("llama3.2", row.get("model"));
            assertEquals("smoke", row.get("tag"));
            assertEquals(7, ((Number) row.get("prompt_tokens")).intValue());
            assertEquals(3, ((Number) row.get("completion_tokens")).intValue());
            assertEquals(latency, ((Number) row.get("latency_ms")).doubleValue());
            assertEquals(ttft, ((Number) row.get("ttft_ms")).doubleValue());
            assertEquals(10.0, ((Number) row.get("tok_s")).doubleValue());
            assertEquals(1, ((Number) row.get("ok")).intValue());
            assertNull(row.get("error_type"));
            long ts = ((Number) row.get("ts_ms")).longValue();
            assertTrue(ts >= before && ts <= after, ts + " not in [" + before + ", " + after + "]");
        }
    }

    @Test
    void askOnAnOpenAiServerMapsOptionsAndReadsTheUsageChunk() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer openai = FakeModelServer.openai("qwen2.5")) {
            t.device("vllm", openai, "[\"qwen2.5\"]");
            Client.Response r = t.gateway().post("/ask?raw=1", """
                    {"prompt":"Hi","options":{"num_predict":32,"temperature":0.2}}""");
            assertEquals(200, r.status(), r.text());
            JsonNode e = r.json();
            assertEquals("qwen2.5", e.path("model").asText(), "the device's first model is the default");
            assertEquals("Hello world!", e.at("/message/content").asText());
            assertEquals(7, e.at("/usage/prompt_tokens").asInt());
            assertEquals(3, e.at("/usage/completion_tokens").asInt());
            assertTrue(e.at("/timings/ttft_ms").asDouble() > 0);
            assertTrue(e.path("raw").isObject());

            JsonNode sent = openai.lastRequest();
            assertEquals(32, sent.path("max_tokens").asInt());
            assertEquals(0.2, sent.path("temperature").asDouble());
            assertTrue(sent.path("stream").asBoolean());
            assertTrue(sent.at("/stream_options/include_usage").asBoolean());
            assertEquals("user", sent.at("/messages/0/role").asText());
        }
    }

    @Test
    void routesByModelAndSerialAndWeighsDevices() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer a = FakeModelServer.ollama("m1");
             FakeModelServer b = FakeModelServer.ollama("m1");
             FakeModelServer c = FakeModelServer.openai("m2")) {
            t.device("a", a, "[\"m1\"]", "\"weight\": 3", "\"max_concurrency\": 4");
            t.device("b", b, "[\"m1\"]", "\"weight\": 1", "\"max_concurrency\": 4");
            t.device("c", c, "[\"m2\"]");
            for (int i = 0; i < 8; i++) {
                assertEquals(200, t.gateway().post("/ask", "{\"prompt\":\"x\",\"model\":\"m1\"}").status());
            }
            assertEquals(6, a.chats());
            assertEquals(2, b.chats());
            assertEquals(0, c.chats());

            Client.Response m2 = t.gateway().post("/ask", "{\"prompt\":\"x\",\"model\":\"m2\"}");
            assertEquals("c", m2.json().path("device").asText());
            Client.Response pinned = t.gateway().post("/ask", "{\"prompt\":\"x\",\"model\":\"m1\",\"device_serial\":\"b\"}");
            assertEquals("b", pinned.json().path("device").asText());
            assertEquals(3, b.chats());

            Client.Response wrongModel = t.gateway().post("/ask", "{\"prompt\":\"x\",\"model\":\"m2\",\"device_serial\":\"a\"}");
            assertEquals(404, wrongModel.status());
            assertEquals("model_not_found", wrongModel.errorCode());
            assertTrue(wrongModel.json().path("detail").asText().contains("does not serve model 'm2'"), wrongModel.text());
            Client.Response unknownModel = t.gateway().post("/ask", "{\"prompt\":\"x\",\"model\":\"gpt-9\"}");
            assertEquals(404, unknownModel.status());
            assertEquals("model_not_found", unknownModel.errorCode());
            assertTrue(unknownModel.json().path("detail").asText().contains("no device serves model 'gpt-9'; served: m1, m2"),
                    unknownModel.text());
            Client.Response unknownSerial = t.gateway().post("/ask", "{\"prompt\":\"x\",\"device_serial\":\"zz\"}");
            assertEquals(404, unknownSerial.status());
        }
    }

    @Test
    void nothingToServeIsRecorded() {
        Tenant t = Tenant.create(server);
        Client.Response anyModel = t.gateway().post("/ask", "{\"prompt\":\"x\"}");
        assertEquals(503, anyModel.status(), "no model named and no device: nothing can serve");
        assertEquals("no_device", anyModel.errorCode());
        assertTrue(anyModel.json().path("detail").asText().contains("no model server is registered"));
        Client.Response r = t.gateway().post("/ask", "{\"prompt\":\"x\",\"model\":\"m\",\"tag\":\"t1\"}");
        assertEquals(404, r.status(), "a model no device serves");
        assertEquals("model_not_found", r.errorCode());
        assertTrue(r.json().path("detail").asText().contains("no model server is registered"));
        Map<String, Object> row = t.usage(2).get(1);
        assertEquals(0, ((Number) row.get("ok")).intValue());
        assertEquals("model_not_found", row.get("error_type"));
        assertEquals("m", row.get("model"));
        assertEquals("t1", row.get("tag"));
        assertNull(row.get("device"));
    }

    @Test
    void aModelNoDeviceServesIs404ModelNotFoundAndAServedModelNoDeviceCanTakeIs503() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer f = FakeModelServer.openai("m").healthFails(true)) {
            t.device("d", f, "[\"m\"]");
            assertFalse(t.user().post("/devices/reload", "").json().at("/data/0/healthy").asBoolean());
            String unknown = "{\"model\":\"gpt-9\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}";
            Client.Response r = t.gateway().post("/v1/chat/completions", unknown);
            assertEquals(404, r.status(), r.text());
            // OpenAI's shape: the SDKs read error.code, and do not retry a 404 (they retried the 503 twice)
            assertEquals("model_not_found", r.json().at("/error/code").asText());
            assertTrue(r.json().at("/error/message").asText().contains("no device serves model 'gpt-9'; served: m"), r.text());
            Client.Response streamed = t.gateway().post("/v1/chat/completions", unknown.replace("{", "{\"stream\":true,"));
            assertEquals(404, streamed.status(), streamed.text());
            assertEquals("model_not_found", streamed.errorCode());

            Client.Response served = t.gateway().post("/v1/chat/completions", unknown.replace("gpt-9", "m"));
            assertEquals(503, served.status(), "served, but its only device is unhealthy: " + served.text());
            assertEquals("no_device", served.errorCode());
            List<Map<String, Object>> rows = t.usage(3);
            assertEquals(List.of("model_not_found", "model_not_found", "no_device"), rows.stream().map(u -> u.get("error_type")).toList());
            assertEquals(0, f.chats());
        }
    }

    @Test
    void anotherUsersDevicesAreInvisible() {
        Tenant owner = Tenant.create(server);
        Tenant other = Tenant.create(server);
        try (FakeModelServer f = FakeModelServer.ollama("m")) {
            owner.device("mine", f, "[\"m\"]");
            assertEquals(404, other.gateway().post("/ask", "{\"prompt\":\"x\",\"device_serial\":\"mine\"}").status());
            assertEquals(404, other.gateway().post("/ask", "{\"prompt\":\"x\",\"model\":\"m\"}").status());
            assertEquals(0, f.chats());
        }
    }

    @Test
    void gatewayNeedsAValidApiKey() {
        Tenant t = Tenant.create(server);
        String ask = "{\"prompt\":\"x\"}";
        Client.Response none = server.client(null).post("/ask", ask);
        assertEquals(401, none.status());
        assertEquals("unauthorized", none.errorCode());
        assertEquals(401, server.withHeaders("X-Api-Key", "sbk_wrong").post("/ask", ask).status());
        assertEquals(401, server.client(t.token()).post("/ask", ask).status(), "a user token is not an API key");
        assertEquals(401, server.withHeaders("Authorization", "Bearer " + t.token()).post("/v1/chat/completions", ask).status());
        assertEquals(401, server.withHeaders("Authorization", "Bearer nope").get("/v1/models").status());
        assertEquals(200, server.withHeaders("Authorization", "Bearer " + t.apiKey()).get("/v1/models").status());
        assertEquals(200, t.user().delete("/api/keys/" + t.apiKeyId()).status());
        assertEquals(401, t.gateway().post("/ask", ask).status(), "a revoked key");
    }

    @Test
    void badBodiesAre4xxAndCallNothing() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer f = FakeModelServer.ollama("m")) {
            t.device("d", f, "[\"m\"]");
            assertEquals(400, t.gateway().post("/ask", "{bad").status());
            Client.Response deep = t.gateway().post("/ask", "{\"prompt\":\"x\",\"options\":{\"a\":" + "[".repeat(2000) + "]".repeat(2000) + "}}");
            assertEquals(400, deep.status(), "nested past Jackson's limit: " + deep.text());
            Client.Response longNumber = t.gateway().post("/ask", "{\"prompt\":\"x\",\"timeout_s\":" + "9".repeat(2000) + "}");
            assertEquals(400, longNumber.status(), "a number past Jackson's length limit: " + longNumber.text());
            assertEquals("bad_request", longNumber.errorCode());
            Client.Response noPrompt = t.gateway().post("/ask", "{\"model\":\"m\"}");
            assertEquals(422, noPrompt.status());
            assertTrue(noPrompt.json().path("detail").asText().contains("'prompt'"));
            assertEquals(422, t.gateway().post("/ask", "{\"prompt\":\"x\",\"options\":[1]}").status());
            assertEquals(422, t.gateway().post("/ask", "{\"prompt\":\"x\",\"timeout_s\":-1}").status());
            Client.Response huge = t.gateway().post("/ask", "{\"prompt\":\"x\",\"options\":{\"num_predict\":1e400}}");
            assertEquals(422, huge.status(), huge.text());
            assertTrue(huge.json().at("/error/message").asText().contains("'options.num_predict'"), huge.text());
            Client.Response hugeV1 = t.gateway().post("/v1/chat/completions",
                    "{\"max_tokens\":-1e400,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
            assertEquals(422, hugeV1.status(), hugeV1.text());
            assertTrue(hugeV1.json().at("/error/message").asText().contains("'max_tokens'"), hugeV1.text());
            Client.Response batch = t.gateway().post("/ask_batch", "{\"requests\":[{\"prompt\":\"a\"},{\"prompt\":3}]}");
            assertEquals(422, batch.status());
            assertTrue(batch.json().path("detail").asText().contains("'requests[1].prompt'"), batch.text());
            assertEquals(405, t.gateway().get("/ask").status());
            assertEquals(0, f.chats());
            assertTrue(t.usage(0).isEmpty(), "nothing recorded for requests never made");
        }
    }

    @Test
    void askBatchAnswersEachRequest() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer f = FakeModelServer.ollama("m").tokens("ok")) {
            t.device("d", f, "[\"m\"]", "\"max_concurrency\": 2");
            Client.Response r = t.gateway().post("/ask_batch", """
                    {"requests":[{"prompt":"a","model":"m"},{"prompt":"b","model":"nope"},{"prompt":"c"}]}""");
            assertEquals(200, r.status(), r.text());
            JsonNode results = r.json().path("results");
            assertEquals(3, results.size());
            assertTrue(results.get(0).path("ok").asBoolean());
            assertEquals("ok", results.get(0).at("/data/message/content").asText());
            assertFalse(results.get(1).path("ok").asBoolean());
            assertEquals(404, results.get(1).at("/error/status").asInt());
            assertEquals("model_not_found", results.get(1).at("/error/code").asText());
            assertTrue(results.get(2).path("ok").asBoolean());
            assertEquals(3, t.usage(3).size());
        }
    }

    @Test
    void warmupCallsEveryDeviceOnceAndRecordsIt() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer a = FakeModelServer.ollama("m1");
             FakeModelServer b = FakeModelServer.openai("m2")) {
            t.device("a", a, "[\"m1\"]");
            t.device("b", b, "[\"m2\"]");
            Client.Response r = t.gateway().post("/warmup", "");
            assertEquals(200, r.status(), r.text());
            assertEquals(2, r.json().path("warmed").asInt());
            assertEquals(2, r.json().path("total").asInt());
            assertEquals(100.0, r.json().at("/results/0/load_ms").asDouble());
            assertEquals(1, a.lastRequest().at("/options/num_predict").asInt());
            assertEquals(1, b.lastRequest().path("max_tokens").asInt());
            assertTrue(t.usage(2).stream().allMatch(row -> "warmup".equals(row.get("source_kind"))));

            Client.Response one = t.gateway().post("/warmup", "{\"devices\":[\"b\"],\"model\":\"m1\"}");
            assertEquals(0, one.json().path("warmed").asInt());
            assertTrue(one.json().at("/results/0/error").asText().contains("does not serve"));
            assertEquals(404, t.gateway().post("/warmup", "{\"devices\":[\"zz\"]}").status());
            int calls = a.chats() + b.chats();
            Client.Response notSerials = t.gateway().post("/warmup", "{\"devices\":[\"a\",null]}");
            assertEquals(422, notSerials.status(), notSerials.text());
            assertTrue(notSerials.json().at("/error/message").asText().contains("'devices[1]'"), notSerials.text());
            assertEquals(422, t.gateway().post("/warmup", "{\"devices\":[{}]}").status());
            assertEquals(calls, a.chats() + b.chats(), "no warm-up call for a bad body");
        }
    }
}
