package scorebook.jobs;

import java.util.function.Supplier;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.ServerConfig;
import scorebook.testing.Client;
import scorebook.testing.TestClock;
import scorebook.testing.TestServer;
import scorebook.testing.Wait;
import scorebook.testing.Tenant;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A server on a test clock with private callbacks allowed, and the jobs calls the tests repeat. */
final class JobsFixture implements AutoCloseable {
    final TestClock clock = TestClock.now();
    final TestServer server;

    JobsFixture() {
        java.nio.file.Path dir = TestServer.tempDir();
        server = TestServer.start(ServerConfig.local(dir, TestServer.OWNER_TOKEN).withClock(clock)
                .withAllowPrivateCallbacks(true));
    }

    Tenant tenant() {
        return Tenant.create(server);
    }

    /** Registers an agent for the tenant and returns a client sending its device token. */
    static Client agent(Tenant t, String serial, String models, String tags) {
        Client.Response r = t.user().post("/devices/register", "{\"serial\":\"" + serial + "\",\"kind\":\"agent\",\"models\":"
                + models + (tags == null ? "" : ",\"queue_tags\":" + tags) + "}");
        if (r.status() != 201 && r.status() != 200) {
            throw new AssertionError("cannot register " + serial + ": " + r.text());
        }
        return t.server().withHeaders("X-Device-Token", r.json().path("device_token").asText());
    }

    static JsonNode enqueue(Tenant t, String body) {
        Client.Response r = t.user().post("/api/jobs", body);
        assertEquals(201, r.status(), r.text());
        return r.json();
    }

    /** One claimed job (fails the test when none). */
    static JsonNode claimOne(Client agent, String body) {
        Client.Response r = agent.post("/worker/claim", body);
        assertEquals(200, r.status(), r.text());
        return r.json().path("jobs").path(0);
    }

    static JsonNode job(Tenant t, String id) {
        return t.user().get("/api/jobs/" + id).json();
    }

    /** Waits until the condition holds (the shared deadline); the background work is event-driven, so this is quick. */
    static void until(String what, Supplier<Boolean> condition) {
        Wait.until(what, condition::get);
    }

    /** Waits until the job is in {@code state}; returns its record. */
    static JsonNode untilState(Tenant t, String id, String state) {
        JsonNode[] last = new JsonNode[1];
        Wait.until(id + " is " + state, () -> {
            last[0] = job(t, id);
            return state.equals(last[0].path("state").asText());
        }, () -> String.valueOf(last[0]));
        return last[0];
    }

    @Override
    public void close() {
        server.close();
        TestServer.deleteTree(server.dataDir());
    }
}
