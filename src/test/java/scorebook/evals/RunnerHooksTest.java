package scorebook.evals;

import java.util.Set;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.TextNode;
import scorebook.server.ApiException;
import scorebook.testing.Client;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** What a runner will call on the store: statuses and results changed in place, seen live through the API. */
class RunnerHooksTest {
    @AutoClose
    private static final TestServer server = TestServer.start();

    @Test
    void statusesMoveAndResultsAreReplacedInPlace() {
        Tenant runner = Tenant.create(server);
        long userId = runner.userId();
        Client c = runner.user();
        String id = Fixtures.run(c, "s", "r");
        assertEquals(200, c.post("/api/runs/" + id + "/results", """
                {"results": [{"function": "a", "result": {"status": "pending"}},
                             {"function": "b", "result": {"status": "running"}},
                             {"function": "c", "result": {"status": "completed", "scores": [{"key": "k", "passed": true}]}}]}""").status());
        EvalStore store = new EvalStore(server.running().db());

        store.replaceResult(userId, id, 0, new ResultRow("a", "ds", NullNode.getInstance(), TextNode.valueOf("in"),
                TextNode.valueOf("out"), NullNode.getInstance(), java.util.List.of(new Score("k", null, true, null)), null, 0.5,
                NullNode.getInstance(), NullNode.getInstance(), "completed", null, NullNode.getInstance()));
        JsonNode run = c.get("/results").json();
        assertEquals("completed", run.at("/results/0/result/status").asText());
        assertEquals("out", run.at("/results/0/result/output").asText());
        assertEquals(2, run.path("total_passed").asInt());
        assertEquals("[{\"key\":\"k\",\"type\":\"ratio\",\"passed\":2,\"total\":2}]", run.path("score_chips").toString());

        assertEquals(1, store.changeStatus(userId, "latest", Set.of("pending", "running"), "cancelled"));
        run = c.get("/results").json();
        assertEquals("cancelled", run.at("/results/1/result/status").asText());
        assertEquals("completed", run.at("/results/2/result/status").asText());
        assertEquals(0, store.changeStatus(userId, id, Set.of("pending", "running"), "cancelled"));

        assertThrows(ApiException.class, () -> store.replaceResult(userId, id, 3, null));
        assertThrows(ApiException.class, () -> store.changeStatus(userId + 1000, id, Set.of("pending"), "cancelled"));
        assertThrows(IllegalArgumentException.class, () -> store.changeStatus(userId, id, Set.of("pending"), "done"));
    }
}
