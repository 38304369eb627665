package scorebook.gateway;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import scorebook.testing.Client;
import scorebook.testing.FakeModelServer;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** POST /ask_trace over fake model servers: the trace lines, the streamed answer, the usage row, the errors. */
class AskTraceTest {
    @AutoClose
    private static final TestServer server = TestServer.start();

    @Test
    void aTraceNamesTheCandidatesTheChoiceTheUpstreamThenTheAnswerAndTheTimings() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer ok = FakeModelServer.ollama("llama3.2");
             FakeModelServer down = FakeModelServer.ollama("llama3.2").healthFails(true)) {
            t.device("gpu1", ok, "[\"llama3.2\"]");
            t.device("gpu2", down, "[\"llama3.2\"]", "\"max_concurrency\": 2");
            t.user().post("/devices/reload", "");
            Client.Response r = t.gateway().post("/ask_trace", "{\"prompt\":\"Say hello\",\"model\":\"llama3.2\",\"tag\":\"traced\"}");
            assertEquals(200, r.status(), r.text());
            assertTrue(r.header("Content-Type").orElseThrow().startsWith("text/plain"), r.headers().toString());
            List<String> lines = r.text().lines().toList();
            assertEquals("# model=llama3.2", lines.getFirst(), r.text());
            assertTrue(lines.contains("# candidates=2 (your model servers)"), r.text());
            assertTrue(lines.stream().anyMatch(l -> l.matches(
                    "# candidate gpu1 kind=ollama healthy=true circuit=closed inflight=0/1 weight=1 serves_model=true")), r.text());
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("# candidate gpu2 kind=ollama healthy=false (")
                    && l.endsWith("circuit=closed inflight=0/2 weight=1 serves_model=true")), r.text());
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("# selected gpu1 (")), r.text());
            assertTrue(lines.contains("# upstream POST " + ok.url() + "/api/chat"), r.text());
            int answer = lines.indexOf("Hello world!");
            assertTrue(answer > lines.indexOf("# upstream POST " + ok.url() + "/api/chat"), "the answer follows the trace lines: " + r.text());
            String done = lines.get(answer + 1);
            assertTrue(done.matches("# done ok=true id=req_[0-9a-f]+ device=gpu1 model=llama3\\.2 ttft_ms=[0-9.]+ total_ms=[0-9.]+ "
                    + "prompt_tokens=7 completion_tokens=3 tok_s=[0-9.]+ done_reason=stop"), done);
            assertEquals(answer + 2, lines.size(), r.text());

            // recorded as usage exactly like /ask
            List<Map<String, Object>> rows = t.usage(1);
            assertEquals(1, rows.size());
            Map<String, Object> row = rows.getFirst();
            assertEquals("gateway", row.get("source_kind"));
            assertEquals(t.apiKeyId(), ((Number) row.get("api_key_id")).longValue());
            assertEquals("gpu1", row.get("device"));
            assertEquals("traced", row.get("tag"));
            assertTrue(done.contains("id=" + row.get("request_id") + " "), done + " vs " + row);
            assertTrue(done.contains("total_ms=" + row.get("latency_ms") + " "), done + " vs " + row);
            assertEquals(0, down.chats());
        }
    }

    @Test
    void theUpstreamUrlCarriesNoCredentials() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer f = FakeModelServer.openai("m").requireApiKey("sk-very-secret-key")) {
            String url = f.url().replace("http://", "http://someone:hunter2@");
            Client.Response reg = t.user().post("/devices/register", "{\"serial\":\"vllm\",\"kind\":\"openai\",\"base_url\":\""
                    + url + "\",\"models\":[\"m\"],\"api_key\":\"sk-very-secret-key\"}");
            assertEquals(201, reg.status(), reg.text());
            Client.Response r = t.gateway().post("/ask_trace", "{\"prompt\":\"hi\"}");
            assertEquals(200, r.status(), r.text());
            assertTrue(r.text().contains("# upstream POST " + f.url() + "/v1/chat/completions (with the device's API key, not shown)"),
                    r.text());
            assertTrue(r.text().contains("# model=m (the device's first model)"), r.text());
            assertFalse(r.text().contains("hunter2"), r.text());
            assertFalse(r.text().contains("someone"), r.text());
            assertFalse(r.text().contains("sk-very-secret-key"), r.text());
            assertTrue(r.text().contains("Hello world!\n# done ok=true"), r.text());
        }
    }

    @Test
    void errorsBeforeTheAnswerAreTheJsonErrorsOfAsk() {
        Tenant t = Tenant.create(server);
        Client.Response none = t.gateway().post("/ask_trace", "{\"prompt\":\"hi\"}");
        assertEquals(503, none.status(), none.text());
        assertEquals("no_device", none.errorCode());
        try (FakeModelServer f = FakeModelServer.ollama("m")) {
            t.device("d", f, "[\"m\"]");
            Client.Response unknown = t.gateway().post("/ask_trace", "{\"prompt\":\"hi\",\"model\":\"gpt-9\"}");
            assertEquals(404, unknown.status(), unknown.text());
            assertEquals("model_not_found", unknown.errorCode());
            assertEquals(422, t.gateway().post("/ask_trace", "{\"model\":\"m\"}").status());
            Client.Response bad = t.gateway().post("/ask_trace", "{\"prompt\":");
            assertEquals(400, bad.status(), bad.text());
            assertEquals(401, server.client(null).post("/ask_trace", "{\"prompt\":\"hi\"}").status());
            assertEquals(401, t.user().post("/ask_trace", "{\"prompt\":\"hi\"}").status(), "a user token is not an API key");
            assertEquals(405, t.gateway().get("/ask_trace").status());
            assertEquals(0, f.chats());
        }
        try (FakeModelServer broken = FakeModelServer.ollama("b").failure(FakeModelServer.Failure.HTTP_500)) {
            t.device("broken", broken, "[\"b\"]");
            Client.Response r = t.gateway().post("/ask_trace", "{\"prompt\":\"hi\",\"model\":\"b\"}");
            assertEquals(502, r.status(), "a device failing before the first token is /ask's error: " + r.text());
            assertEquals("application/json", r.header("Content-Type").orElseThrow());
        }
        try (FakeModelServer cut = FakeModelServer.ollama("c").failure(FakeModelServer.Failure.MID_STREAM)) {
            t.device("cut", cut, "[\"c\"]");
            Client.Response r = t.gateway().post("/ask_trace", "{\"prompt\":\"hi\",\"model\":\"c\"}");
            assertEquals(200, r.status(), "the answer had begun: " + r.text());
            assertTrue(r.text().matches("(?s).*\n# error [a-z_]+: [^\n]+\n# done ok=false\n"), r.text());
        }
        // each refused call is a usage row, as for /ask
        List<Map<String, Object>> rows = t.usage(3);
        assertEquals(List.of("no_device", "model_not_found"), rows.subList(0, 2).stream().map(u -> u.get("error_type")).toList());
    }
}
