package scorebook.server;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.testing.ApiRoutes;
import scorebook.testing.ApiRoutes.Operation;
import scorebook.testing.Client;
import scorebook.testing.SchemaCheck;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GET /openapi.json against the real routes, both ways: every route the sources register is documented, every
 * documented operation is served (and no undocumented method on a documented path is), and real answers of the
 * main endpoints fit their documented schemas.
 */
class OpenApiTest {
    @AutoClose
    private static final TestServer server = TestServer.start();
    private static final Tenant tenant = Tenant.create(server);
    private static final List<String> METHODS = List.of("GET", "POST", "PUT", "PATCH", "DELETE");
    /** An agent of the tenant's, for the routes agents call with their device token. */
    private static final String DEVICE_TOKEN = tenant.user()
            .post("/devices/register", "{\"serial\":\"openapi-agent\",\"kind\":\"agent\",\"models\":[\"m\"]}")
            .json().path("device_token").asText();

    /** The owner for user routes, the tenant's API key on the gateway, nobody on public routes. */
    private static Client clientFor(Operation o) {
        return switch (o.auth()) {
            case PUBLIC -> server.client(null);
            case USER, METRICS -> server.owner();
            case API_KEY -> tenant.gateway();
            case DEVICE -> server.withHeaders("X-Device-Token", DEVICE_TOKEN);
        };
    }

    /** Whether the server has a route for this method and path (an answer other than 405 or "no such endpoint"). */
    private static boolean served(Client.Response r) {
        return r.status() != 405 && !(r.status() == 404 && r.text().contains("no such endpoint"));
    }

    @Test
    void theDocumentIsServedWithoutACredential() {
        Client.Response r = server.client(null).get("/openapi.json");
        assertEquals(200, r.status());
        assertEquals("application/json", r.header("Content-Type").orElseThrow());
        JsonNode doc = r.json();
        assertEquals("3.1.0", doc.path("openapi").asText());
        assertEquals(ApiRoutes.DOCUMENT, doc, "the test reads the same document the server serves");
        assertEquals(405, server.client(null).post("/openapi.json", "{}").status());
        for (Operation o : ApiRoutes.operations()) {
            assertFalse(o.op().path("summary").asText().isBlank(), o + " has no summary");
            assertFalse(o.op().path("responses").isEmpty(), o + " has no responses");
        }
        List<String> dangling = new ArrayList<>();
        doc.findValues("$ref").forEach(ref -> {
            if (doc.at(ref.asText().substring(1)).isMissingNode()) {
                dangling.add(ref.asText());
            }
        });
        assertEquals(List.of(), dangling, "every $ref resolves");
    }

    @Test
    void everyRouteTheSourcesRegisterIsDocumented() {
        Set<String> missing = new TreeSet<>(ApiRoutes.sourceRouteKeys(Path.of("src/main/java")));
        missing.removeAll(ApiRoutes.documentedKeys());
        assertEquals(Set.of(), missing, "routes without an OpenAPI fragment (src/main/resources/openapi/*.yaml)");
    }

    @Test
    void everyDocumentedOperationIsServedAndHeadWhereverGet() {
        List<String> notServed = new ArrayList<>();
        for (Operation o : ApiRoutes.operations()) {
            Client c = clientFor(o);
            Client.Response r = c.send(o.method(), o.sample(), o.hasBody() ? "{}" : null);
            if (!served(r)) {
                notServed.add(o + " -> " + r.status() + " " + r.text());
            }
            if (o.method().equals("GET") && !o.path().endsWith("/events")) {
                Client.Response head = c.send("HEAD", o.sample(), null);
                assertEquals(r.status(), head.status(), "HEAD " + o.sample());
                assertEquals("", head.text(), "HEAD " + o.sample() + " carries no body");
            }
        }
        assertEquals(List.of(), notServed);
    }

    @Test
    void noUndocumentedMethodIsServedOnADocumentedPath() {
        List<String> undocumented = new ArrayList<>();
        for (String path : ApiRoutes.paths()) {
            List<Operation> ops = ApiRoutes.operations().stream().filter(o -> o.path().equals(path)).toList();
            Operation any = ops.getFirst();
            for (String m : METHODS) {
                if (ops.stream().noneMatch(o -> o.method().equals(m))) {
                    Client.Response r = clientFor(any).send(m, any.sample(), m.equals("GET") || m.equals("DELETE") ? null : "{}");
                    if (served(r)) {
                        undocumented.add(m + " " + path + " -> " + r.status());
                    } else if (r.status() == 405) {
                        assertTrue(r.header("Allow").isPresent(), m + " " + path + " 405 without Allow");
                    }
                }
            }
        }
        assertEquals(List.of(), undocumented);
    }

    @Test
    void realAnswersFitTheDocumentedSchemas() {
        Client owner = server.owner();
        Tenant t = Tenant.create(server);
        Client u = t.user();
        String runId = u.post("/api/runs", "{\"session_name\": \"schema\", \"run_name\": \"r\"}").json().path("run_id").asText();
        List<String[]> calls = new ArrayList<>(List.of(
                new String[] {"POST", "/api/runs/{run_id}/results", "/api/runs/" + runId + "/results",
                    "{\"results\": [{\"function\": \"f\", \"dataset\": \"d\", \"labels\": [\"a\"], \"result\": {\"input\": 1,"
                        + " \"output\": \"o\", \"scores\": [{\"key\": \"acc\", \"passed\": true}, {\"key\": \"q\", \"value\": 0.5}],"
                        + " \"latency\": 0.2}}]}"},
                new String[] {"POST", "/api/keys", "/api/keys", "{\"name\": \"schema\"}"},
                new String[] {"POST", "/devices/register", "/devices/register", "{\"serial\": \"s1\", \"kind\": \"agent\"}"},
                new String[] {"PUT", "/api/config", "/api/config", "{\"concurrency\": 2}"},
                new String[] {"PATCH", "/api/runs/{run_id}", "/api/runs/" + runId, "{\"run_name\": \"renamed\"}"},
                new String[] {"GET", "/api/runs/{run_id}/results/{index}", "/api/runs/" + runId + "/results/0", null},
                new String[] {"GET", "/api/runs/{run_id}/data", "/api/runs/" + runId + "/data", null},
                new String[] {"GET", "/api/sessions/{name}/runs", "/api/sessions/schema/runs", null},
                new String[] {"GET", "/devices/{serial}", "/devices/s1", null},
                new String[] {"GET", "/api/runs/{run_id}/results/{index}", "/api/runs/" + runId + "/results/7", null}));
        for (Operation o : ApiRoutes.operations()) {
            if (o.method().equals("GET") && !o.path().contains("{") && o.responseSchema(200) != null) {
                calls.add(new String[] {"GET", o.path(), o.path(), null});
            }
        }
        int checked = 0;
        for (String[] call : calls) {
            Operation o = ApiRoutes.operations().stream()
                    .filter(x -> x.method().equals(call[0]) && x.path().equals(call[1])).findFirst().orElseThrow();
            Client c = o.auth() == ApiRoutes.Auth.API_KEY ? t.gateway() : o.path().equals("/api/users") ? owner : u;
            Client.Response r = c.send(call[0], call[2], call[3]);
            JsonNode schema = o.responseSchema(r.status());
            assertTrue(schema != null, call[0] + " " + call[2] + " answered " + r.status() + ", which is not documented: " + r.text());
            assertEquals(List.of(), SchemaCheck.problems(ApiRoutes.DOCUMENT, schema, r.json()), call[0] + " " + call[2]);
            checked++;
        }
        assertTrue(checked >= 20, "checked " + checked);
    }
}
