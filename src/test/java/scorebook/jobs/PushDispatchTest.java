package scorebook.jobs;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.testing.FakeModelServer;
import scorebook.testing.Tenant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static scorebook.jobs.JobsFixture.enqueue;
import static scorebook.jobs.JobsFixture.until;
import static scorebook.jobs.JobsFixture.untilState;

/** Jobs on push devices: the server's dispatcher calls the test model servers through the gateway's model calls. */
class PushDispatchTest {
    @AutoClose
    static final JobsFixture F = new JobsFixture();

    @Test
    void aJobOnAnOllamaDeviceRunsToDoneWithItsOutputMetricsAndOneUsageRow() {
        try (FakeModelServer fake = FakeModelServer.ollama("llama3.2")) {
            Tenant t = F.tenant();
            t.device("gpu1", fake, "[\"llama3.2\"]");
            String id = enqueue(t, "{\"prompt\":\"hi\",\"system\":\"be brief\",\"model\":\"llama3.2\","
                    + "\"options\":{\"temperature\":0.1}}").path("job_id").asText();
            JsonNode done = untilState(t, id, "done");
            assertEquals("gpu1", done.path("device").asText());
            assertEquals(1, done.path("attempt").asInt());
            JsonNode result = t.user().get("/api/jobs/" + id + "/result").json();
            assertEquals("Hello world!", result.at("/output/text").asText());
            assertEquals(FakeModelServer.PROMPT_TOKENS, result.at("/metrics/prompt_tokens").asInt());
            assertTrue(result.at("/metrics/latency_ms").asDouble() > 0);
            JsonNode sent = fake.lastRequest();
            assertEquals("be brief", sent.at("/messages/0/content").asText());
            assertEquals(0.1, sent.at("/options/temperature").asDouble());

            List<Map<String, Object>> usage = t.usage(1);
            assertEquals(1, usage.size(), "one usage row for the attempt: " + usage);
            assertEquals("job", usage.getFirst().get("source_kind"));
            assertEquals(id, usage.getFirst().get("job_id"));
            assertEquals(1, ((Number) usage.getFirst().get("ok")).intValue());
        }
    }

    @Test
    void aFailingDeviceRetriesThenTheJobFailsIntoTheDeadLetterQueue() {
        try (FakeModelServer fake = FakeModelServer.openai("m").failure(FakeModelServer.Failure.HTTP_500)) {
            Tenant t = F.tenant();
            t.device("flaky", fake, "[\"m\"]");
            String id = enqueue(t, "{\"prompt\":\"x\",\"model\":\"m\",\"max_attempts\":2,\"backoff_s\":0}")
                    .path("job_id").asText();
            JsonNode failed = untilState(t, id, "failed");
            assertEquals(2, failed.path("attempt").asInt());
            assertEquals("upstream_5xx", failed.at("/error/type").asText());
            assertEquals(1, t.user().get("/jobs/dlq").json().path("jobs").size());
            List<Map<String, Object>> usage = t.usage(2);
            assertEquals(2, usage.size(), "a usage row per attempt, failures included");
            assertTrue(usage.stream().allMatch(r -> id.equals(r.get("job_id")) && ((Number) r.get("ok")).intValue() == 0));

            fake.failure(FakeModelServer.Failure.NONE);
            assertEquals(200, t.user().post("/jobs/" + id + "/requeue", "{}").status());
            assertEquals(1, untilState(t, id, "done").path("attempt").asInt(), "a requeue starts the attempts again");
            assertEquals("Hello world!", t.user().get("/api/jobs/" + id + "/result?format=text").text());
        }
    }

    @Test
    void aDeviceBehindJobsItCannotTakeRunsTheOneItMayAndItsRetryWhenDue() {
        try (FakeModelServer fake = FakeModelServer.openai("mine").failure(FakeModelServer.Failure.HTTP_500)) {
            Tenant t = F.tenant();
            for (int i = 0; i < 50; i++) {
                enqueue(t, "{\"prompt\":\"x\",\"model\":\"not-served\"}");
            }
            t.device("picky", fake, "[\"mine\"]");
            String id = enqueue(t, "{\"prompt\":\"y\",\"model\":\"mine\",\"max_attempts\":2,\"backoff_s\":1}")
                    .path("job_id").asText();
            assertEquals(1, untilState(t, id, "retrying").path("attempt").asInt());
            F.clock.advance(java.time.Duration.ofSeconds(2)); // the backoff (0.5 to 1 s) passes
            JsonNode failed = untilState(t, id, "failed");
            assertEquals(2, failed.path("attempt").asInt(), "the retry ran after its backoff");
            assertEquals(2, fake.chats());
            assertEquals(50, t.user().get("/api/jobs?state=queued&limit=100").json().path("jobs").size(),
                    "the jobs it cannot take stay queued");
        }
    }

    @Test
    void cancellingARunningPushJobInterruptsTheModelCall() throws Exception {
        try (FakeModelServer fake = FakeModelServer.ollama("slow").holdAfterFirstToken()) {
            Tenant t = F.tenant();
            t.device("held", fake, "[\"slow\"]");
            String id = enqueue(t, "{\"prompt\":\"x\",\"model\":\"slow\"}").path("job_id").asText();
            assertTrue(fake.awaitFirstTokenSent());
            JsonNode c = t.user().post("/api/jobs/" + id + "/cancel", "").json();
            assertTrue(c.path("cancel_requested").asBoolean() || "cancelled".equals(c.path("state").asText()), c.toString());
            JsonNode cancelled = untilState(t, id, "cancelled");
            assertEquals("cancelled", cancelled.at("/error/type").asText());
            fake.release();
            until("the device's slot is free again", () -> t.user().get("/devices/held").json()
                    .at("/device/inflight").asInt() == 0);
        }
    }

    @Test
    void pushJobsMatchTheDevicesQueueTagsAndPinnedSerial() {
        try (FakeModelServer a = FakeModelServer.ollama("m"); FakeModelServer b = FakeModelServer.ollama("m")) {
            Tenant t = F.tenant();
            t.device("plain", a, "[\"m\"]");
            t.device("gpu", b, "[\"m\"]", "\"queue_tags\":[\"gpu\"]");
            String tagged = enqueue(t, "{\"prompt\":\"x\",\"model\":\"m\",\"queue_tag\":\"gpu\"}").path("job_id").asText();
            String pinned = enqueue(t, "{\"prompt\":\"x\",\"model\":\"m\",\"device_serial\":\"plain\"}").path("job_id").asText();
            assertEquals("gpu", untilState(t, tagged, "done").path("device").asText());
            assertEquals("plain", untilState(t, pinned, "done").path("device").asText());
        }
    }
}
