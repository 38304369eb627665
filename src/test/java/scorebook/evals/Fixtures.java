package scorebook.evals;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.testing.Client;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs for the eval tests: the reference's nine-eval "mini" suite, created through the API. */
final class Fixtures {
    /** The nine rows of the behaviour reference's sample run (§13), as a script would post them. */
    static final String MINI_ROWS = """
            {"results": [
              {"function": "test_pass", "dataset": "qa", "labels": ["smoke"],
               "result": {"input": "2+2", "output": "4", "reference": "4",
                 "scores": [{"key": "accuracy", "passed": true, "notes": "ok"}, {"key": "quality", "value": 0.8}],
                 "error": null, "latency": 9.822845458984375e-05, "metadata": {"model": "m1"},
                 "trace_data": {"messages": [{"role": "user", "content": "2+2"}], "trace_url": "http://example.invalid/t/1", "tokens": 12},
                 "status": "completed"}},
              {"function": "test_fail", "dataset": "qa", "labels": ["smoke", "hard"],
               "result": {"input": "capital of France", "output": "Lyon",
                 "scores": [{"key": "accuracy", "passed": false, "notes": "wrong city"}, {"key": "quality", "value": 0.3}],
                 "latency": 2.1219253540039062e-05}},
              {"function": "test_error", "dataset": "misc", "labels": [],
               "result": {"input": "boom", "error": "kaboom\\nTraceback (most recent call last):\\nRuntimeError: kaboom\\n",
                 "scores": null, "latency": 0.001}},
              {"function": "test_assert", "dataset": "misc", "labels": [],
               "result": {"input": "x", "output": "y",
                 "scores": [{"key": "correctness", "passed": false, "notes": "output mismatch"}], "latency": 0.5}},
              {"function": "test_noscore", "dataset": "misc", "labels": [],
               "result": {"input": "hello", "output": "world", "scores": [{"key": "ok", "passed": true}], "latency": 1.5497207641601562e-05}},
              {"function": "test_multi", "dataset": "batch", "labels": [],
               "result": {"input": "b", "output": "2", "scores": [{"key": "num", "value": 0.5}], "latency": 0}},
              {"function": "test_slow[0]", "dataset": "slow", "labels": [],
               "result": {"input": "s1", "output": "S1", "scores": [{"key": "accuracy", "passed": true}], "latency": 1.5}},
              {"function": "test_slow[1]", "dataset": "slow", "labels": [],
               "result": {"input": "s2", "output": "S2", "scores": [{"key": "accuracy", "passed": true}], "latency": 1.5}},
              {"function": "test_slow[three]", "dataset": "slow", "labels": [],
               "result": {"input": "s3", "output": "S3", "scores": [{"key": "accuracy", "passed": true}], "latency": 1.5}}
            ]}""";

    private Fixtures() {
    }

    /** Creates a run in {@code session} (it becomes active) and returns its id. */
    static String run(Client c, String session, String name) {
        Client.Response r = c.post("/api/runs", "{\"session_name\": \"" + session + "\", \"run_name\": \"" + name
                + "\", \"eval_path\": \"evals\"}");
        assertEquals(201, r.status(), r.text());
        return r.json().path("run_id").asText();
    }

    /** A run holding the nine mini rows. */
    static String mini(Client c, String session, String name) {
        String id = run(c, session, name);
        Client.Response r = c.post("/api/runs/" + id + "/results", MINI_ROWS);
        assertEquals(200, r.status(), r.text());
        return id;
    }

    /** A new user's client (each test uses its own user, so tests share a server without sharing data). */
    static Client otherUser(TestServer server, String name) {
        return server.client(userToken(server, name));
    }

    /** Adds a user and returns the token. */
    static String userToken(TestServer server, String name) {
        Client.Response r = server.owner().post("/api/users", "{\"name\": \"" + name + "\"}");
        assertEquals(201, r.status(), r.text());
        return r.json().path("token").asText();
    }

    /** The field names of a JSON object, in the order the response has them. */
    static List<String> fields(JsonNode j) {
        List<String> out = new ArrayList<>();
        j.fieldNames().forEachRemaining(out::add);
        return out;
    }

    /** A 422 "invalid" whose detail names {@code field}. */
    static void assertInvalid(Client.Response r, String field) {
        assertEquals(422, r.status(), r.text());
        assertEquals("invalid", r.errorCode());
        assertTrue(r.json().path("detail").asText().contains(field), field + " in " + r.text());
    }
}
