package scorebook.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static scorebook.jobs.JobsFixture.agent;
import static scorebook.jobs.JobsFixture.claimOne;
import static scorebook.jobs.JobsFixture.enqueue;
import static scorebook.jobs.JobsFixture.job;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.testing.Client;
import scorebook.testing.Tenant;

/**
 * The device heartbeat answers what the server asks of an agent (§3.2: running, quiet, terminate): the state
 * its user sets with {@code POST /devices/{serial}/state}, and terminate for the token of an agent that was
 * registered again or removed. A quiet or terminating agent gets no new jobs but finishes those it holds.
 */
class AgentStateTest {
    private static final JobsFixture F = new JobsFixture();

    @AfterAll
    static void close() {
        F.close();
    }

    private static String beat(Client agent, String serial) {
        Client.Response r = agent.post("/devices/" + serial + "/heartbeat", "{\"ready\":true}");
        assertEquals(200, r.status(), r.text());
        return r.json().path("state").asText();
    }

    private static JsonNode setState(Tenant t, String serial, String state) {
        Client.Response r = t.user().post("/devices/" + serial + "/state", "{\"state\":\"" + state + "\"}");
        assertEquals(200, r.status(), r.text());
        return r.json().path("device");
    }

    @Test
    void quietAndTerminateStopNewClaimsButNotTheJobsHeld() {
        Tenant t = F.tenant();
        Client a = agent(t, "calm", "[\"m\"]", null);
        assertEquals("running", beat(a, "calm"));
        String held = enqueue(t, "{\"prompt\":\"one\",\"model\":\"m\"}").path("job_id").asText();
        String waiting = enqueue(t, "{\"prompt\":\"two\",\"model\":\"m\"}").path("job_id").asText();
        JsonNode claimed = claimOne(a, "{\"max_jobs\":1}");
        assertEquals(held, claimed.path("job_id").asText());

        JsonNode device = setState(t, "calm", "quiet");
        assertEquals("quiet", device.path("agent_state").asText());
        assertEquals("quiet", t.user().get("/devices/calm").json().at("/device/agent_state").asText());
        assertEquals("quiet", beat(a, "calm"));
        assertEquals(204, a.post("/worker/claim", "{\"max_jobs\":5}").status(), "a quiet agent takes no new job");
        assertEquals("queued", job(t, waiting).path("state").asText());
        Client.Response done = a.post("/worker/jobs/" + held + "/complete", "{\"lease_id\":\""
                + claimed.path("lease_id").asText() + "\",\"output\":{\"text\":\"ok\"}}");
        assertEquals(200, done.status(), "a quiet agent finishes the job it holds: " + done.text());
        assertEquals("done", job(t, held).path("state").asText());

        setState(t, "calm", "terminate");
        assertEquals("terminate", beat(a, "calm"));
        assertEquals(204, a.post("/worker/claim", "{}").status(), "nor does one asked to terminate");
        assertEquals("queued", job(t, waiting).path("state").asText());

        setState(t, "calm", "running");
        assertEquals("running", beat(a, "calm"));
        assertEquals(waiting, claimOne(a, "{}").path("job_id").asText());
    }

    @Test
    void aReplacedOrRemovedAgentIsToldToTerminate() {
        Tenant t = F.tenant();
        Client first = agent(t, "twice", "[\"m\"]", null);
        assertEquals("running", beat(first, "twice"));
        Client second = agent(t, "twice", "[\"m\"]", null); // registering again rotates the token
        assertEquals("terminate", beat(first, "twice"), "the replaced process is told to stop");
        assertEquals(401, first.post("/worker/claim", "{}").status(), "and its token claims nothing");
        assertEquals("running", beat(second, "twice"));

        setState(t, "twice", "terminate");
        assertEquals("terminate", beat(second, "twice"));
        Client third = agent(t, "twice", "[\"m\"]", null);
        assertEquals("running", beat(third, "twice"), "a new registration after a terminate runs again");

        assertEquals(200, t.user().delete("/devices/twice").status());
        assertEquals("terminate", beat(third, "twice"), "a removed agent is told to stop");
        Client stranger = t.server().withHeaders("X-Device-Token", "sbd_never_given");
        assertEquals(401, stranger.post("/devices/twice/heartbeat", "{}").status(), "a token never given is still 401");
    }

    @Test
    void badStatesAreRefusedAndChangeNothing() {
        Tenant t = F.tenant();
        Client a = agent(t, "firm", "[\"m\"]", null);
        String badState = "'state' must be one of running, quiet, terminate";
        java.util.Map<String, String> cases = new java.util.LinkedHashMap<>();
        cases.put("{\"state\":\"paused\"}", badState);
        cases.put("{\"state\":1}", badState);
        cases.put("{}", badState);
        cases.put("{\"state\":null}", badState);
        cases.put("{\"state\":\"quiet\",\"why\":1}",
                "unknown field 'why'; the body is {\"state\": \"running|quiet|terminate\"}");
        cases.forEach((body, message) -> {
            Client.Response r = t.user().post("/devices/firm/state", body);
            assertEquals(422, r.status(), body + ": " + r.text());
            assertEquals(message, r.json().path("detail").asText(), body);
            assertEquals(message, r.json().at("/error/message").asText(), body);
        });
        assertEquals(400, t.user().post("/devices/firm/state", "{\"state\":").status());
        assertEquals(404, t.user().post("/devices/nobody/state", "{\"state\":\"quiet\"}").status());
        assertEquals(404, F.tenant().user().post("/devices/firm/state", "{\"state\":\"quiet\"}").status(),
                "another user's agent is not found");
        t.user().post("/devices/register", "{\"serial\":\"gpu\",\"kind\":\"ollama\",\"base_url\":\"http://127.0.0.1:9\"}");
        assertEquals(409, t.user().post("/devices/gpu/state", "{\"state\":\"quiet\"}").status(),
                "a model server the server calls has no heartbeat to answer");
        assertEquals("running", beat(a, "firm"));
        assertEquals("running", t.user().get("/devices/firm").json().at("/device/agent_state").asText());
    }
}
