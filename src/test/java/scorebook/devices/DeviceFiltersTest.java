package scorebook.devices;

import java.util.List;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.testing.Client;
import scorebook.testing.FakeModelServer;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GET /devices filters: model, queue_tag, healthy, present, ready; a bad value is a 422 naming the parameter. */
class DeviceFiltersTest {
    @AutoClose
    private static final TestServer server = TestServer.start();

    private static List<String> serials(Client c, String query) {
        Client.Response r = c.get("/devices" + query);
        assertEquals(200, r.status(), query + ": " + r.text());
        return r.json().path("data").findValuesAsText("serial");
    }

    /**
     * One "serves the model" rule: a model server registered without models serves what its health check reported,
     * and the model filter, the trace's serves_model and routing all say so (and all say no for another model).
     */
    @Test
    void theModelFilterTheTraceAndRoutingAgreeOnWhatADeviceServes() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer reported = FakeModelServer.ollama("m-reported")) {
            t.device("rep", reported, "[]");
            t.user().post("/devices/reload", "");
            assertEquals(List.of("rep"), serials(t.user(), "?model=m-reported"));
            assertEquals(List.of(), serials(t.user(), "?model=m-other"));
            Client.Response trace = t.gateway().post("/ask_trace", "{\"prompt\":\"hi\",\"model\":\"m-reported\"}");
            assertEquals(200, trace.status(), trace.text());
            assertTrue(trace.text().contains("# candidate rep kind=ollama") && trace.text().contains("serves_model=true")
                    && trace.text().contains("# selected rep"), trace.text());
            assertEquals(200, t.gateway().post("/ask", "{\"prompt\":\"hi\",\"model\":\"m-reported\"}").status());
            Client.Response other = t.gateway().post("/ask", "{\"prompt\":\"hi\",\"model\":\"m-other\"}");
            assertEquals(404, other.status(), other.text());
            assertEquals("model_not_found", other.errorCode());
        }
    }

    @Test
    void filtersSelectByModelQueueHealthPresenceAndReadiness() {
        Tenant t = Tenant.create(server);
        Client u = t.user();
        try (FakeModelServer up = FakeModelServer.ollama("m1");
             FakeModelServer down = FakeModelServer.openai("m2").healthFails(true)) {
            t.device("up", up, "[\"m1\"]", "\"queue_tags\": [\"gpu\"]");
            t.device("down", down, "[\"m2\"]");
            u.post("/devices/register", "{\"serial\":\"phone\",\"kind\":\"agent\",\"models\":[\"m1\"],\"queue_tags\":[\"phones\"]}");
            Client.Response idle = u.post("/devices/register", "{\"serial\":\"idle\",\"kind\":\"agent\",\"models\":[\"m3\"]}");
            String token = u.post("/devices/register", "{\"serial\":\"phone\",\"kind\":\"agent\",\"models\":[\"m1\"],"
                    + "\"queue_tags\":[\"phones\"]}").json().path("device_token").asText();
            String idleToken = idle.json().path("device_token").asText();
            assertEquals(200, server.withHeaders("X-Device-Token", token).post("/devices/phone/heartbeat",
                    "{\"ready\": true, \"battery_pct\": 80}").status());
            // reported, then gone quiet long ago? not here: idle reports ready false and stays present
            assertEquals(200, server.withHeaders("X-Device-Token", idleToken).post("/devices/idle/heartbeat",
                    "{\"ready\": false}").status());
            JsonNode checked = u.post("/devices/reload", "").json();
            assertEquals(4, checked.path("data").size(), checked.toString());

            assertEquals(List.of("down", "idle", "phone", "up"), serials(u, ""));
            assertEquals(List.of("phone", "up"), serials(u, "?model=m1"));
            assertEquals(List.of(), serials(u, "?model=nothing"));
            assertEquals(List.of("up"), serials(u, "?queue_tag=gpu"));
            assertEquals(List.of("down", "idle"), serials(u, "?queue_tag=default"));
            assertEquals(List.of("up"), serials(u, "?healthy=true"));
            assertEquals(List.of("down"), serials(u, "?healthy=false"));
            assertEquals(List.of("idle", "phone"), serials(u, "?present=true"));
            assertEquals(List.of(), serials(u, "?present=false"));
            assertEquals(List.of("phone"), serials(u, "?ready=true"));
            assertEquals(List.of("idle"), serials(u, "?ready=0"));
            assertEquals(List.of("phone"), serials(u, "?model=m1&present=true&ready=true&queue_tag=phones"));
            assertEquals(List.of(), serials(u, "?model=m1&healthy=false"));
            // another user's devices never show, whatever the filter
            assertEquals(List.of(), serials(Tenant.create(server).user(), "?model=m1"));
        }
    }

    @Test
    void aBadFilterValueIs422NamingTheParameterAndChangesNothing() {
        Tenant t = Tenant.create(server);
        Client u = t.user();
        u.post("/devices/register", "{\"serial\":\"a1\",\"kind\":\"agent\",\"models\":[\"m\"]}");
        String before = u.get("/devices").text();
        for (String[] c : new String[][] {{"healthy", "maybe"}, {"present", "2"}, {"ready", "yes%20please"},
                {"healthy", ""}, {"model", ""}, {"queue_tag", "%20%20"}}) {
            Client.Response r = u.get("/devices?" + c[0] + "=" + c[1]);
            assertEquals(422, r.status(), c[0] + "=" + c[1] + ": " + r.text());
            assertTrue(r.json().at("/error/message").asText().contains("'" + c[0] + "'"), r.text());
        }
        assertEquals(401, server.client(null).get("/devices?healthy=true").status());
        assertEquals(before.replaceAll("\"last_seen_at\":[^,]*", ""), u.get("/devices").text().replaceAll("\"last_seen_at\":[^,]*", ""));
    }
}
