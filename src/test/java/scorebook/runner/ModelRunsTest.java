package scorebook.runner;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.ServerConfig;
import scorebook.testing.FakeModelServer;
import scorebook.testing.TestServer;
import scorebook.testing.Wait;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The llm target and the judge scorer through the gateway's devices, against a model server written for the tests. */
class ModelRunsTest {
    private final Path data = TestServer.tempDir();
    private TestServer server;

    @AfterEach
    void clean() {
        if (server != null) {
            server.close();
        }
        TestServer.deleteTree(data);
    }

    private JsonNode runToEnd(String yaml, FakeModelServer fake) throws Exception {
        Path evals = Files.createDirectories(data.resolve("evals"));
        Files.writeString(evals.resolve("model.yaml"), yaml);
        server = TestServer.start(ServerConfig.local(data, TestServer.OWNER_TOKEN).withEvalPath(evals));
        String kind = fake.kind() == FakeModelServer.Kind.OLLAMA ? "ollama" : "openai";
        assertEquals(201, server.owner().post("/devices/register", "{\"serial\": \"box\", \"kind\": \"" + kind
                + "\", \"base_url\": \"" + fake.url() + "\", \"models\": [\"tiny\"]}").status());
        long owner = server.owner().get("/api/me").json().at("/user/id").asLong();
        assertEquals(200, server.owner().post("/api/runs/new", "{}").status());
        server.running().runner().await(owner);
        return server.owner().get("/results").json();
    }

    /** The usage rows, once the background writer has stored every row recorded so far. */
    private List<Map<String, Object>> usage() {
        assertTrue(server.running().parts().devices().usage().flush(Wait.DEADLINE), "the usage writer did not flush");
        return server.running().db().read(h -> h.createQuery("SELECT * FROM usage_events ORDER BY id").mapToMap().list());
    }

    @Test
    void anLlmTargetSendsTheFilledPromptAndRecordsUsage() throws Exception {
        try (FakeModelServer fake = FakeModelServer.openai("tiny").tokens("4")) {
            JsonNode r = runToEnd("""
                    target: {llm: {model: tiny, system: "Answer with a number.", prompt: "What is {{input}}? ({{metadata.hint}})"}}
                    scorers: [equals]
                    cases: [{name: add, input: "2+2", reference: 4, metadata: {hint: small}}]
                    """, fake);
            assertEquals("completed", r.at("/results/0/result/status").asText(), r.toString());
            assertEquals("4", r.at("/results/0/result/output").asText());
            assertTrue(r.at("/results/0/result/scores/0/passed").asBoolean());
            String sent = fake.lastRequest().toString();
            assertTrue(sent.contains("What is 2+2? (small)"), sent);
            assertTrue(sent.contains("Answer with a number."), sent);
            List<Map<String, Object>> rows = usage();
            assertEquals(1, rows.size());
            assertEquals("eval", rows.getFirst().get("source_kind"));
            assertEquals("tiny", rows.getFirst().get("model"));
            assertEquals(1, ((Number) rows.getFirst().get("ok")).intValue());
        }
    }

    @Test
    void aJudgeGradesWithTheModelAndItsCallIsUsageToo() throws Exception {
        try (FakeModelServer fake = FakeModelServer.ollama("tiny").tokens("{\"score\": 0.8, ", "\"passed\": true, \"reason\": \"close enough\"}")) {
            JsonNode r = runToEnd("""
                    target: {command: 'printf "Paris, France"'}
                    scorers: [{type: judge, model: tiny, rubric: "Names the capital of France.", key: judged}]
                    cases: [{input: "Capital of France?", reference: "Paris"}]
                    """, fake);
            JsonNode score = r.at("/results/0/result/scores/0");
            assertEquals("judged", score.path("key").asText(), r.toString());
            assertEquals(0.8, score.path("value").asDouble(), 1e-9);
            assertTrue(score.path("passed").asBoolean());
            assertEquals("close enough", score.path("notes").asText());
            assertTrue(fake.lastRequest().toString().contains("Names the capital of France."));
            assertTrue(fake.lastRequest().toString().contains("Paris, France"));
            assertEquals("judge", usage().getFirst().get("source_kind"));
        }
    }

    @Test
    void aModelThatCannotServeMakesAClearErrorAndAFailedUsageRow() throws Exception {
        try (FakeModelServer fake = FakeModelServer.openai("tiny").failure(FakeModelServer.Failure.HTTP_500)) {
            JsonNode r = runToEnd("target: {llm: {model: tiny, prompt: '{{input}}'}}\ncases: [{input: hi}]\n", fake);
            assertEquals("error", r.at("/results/0/result/status").asText(), r.toString());
            assertTrue(r.at("/results/0/result/error").asText().startsWith("model tiny: "), r.toString());
            assertEquals(0, ((Number) usage().getFirst().get("ok")).intValue());
        }
    }
}
