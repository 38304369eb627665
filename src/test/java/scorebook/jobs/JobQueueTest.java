package scorebook.jobs;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.testing.Client;
import scorebook.testing.Tenant;
import scorebook.testing.Wait;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static scorebook.jobs.JobsFixture.agent;
import static scorebook.jobs.JobsFixture.claimOne;
import static scorebook.jobs.JobsFixture.enqueue;
import static scorebook.jobs.JobsFixture.job;
import static scorebook.jobs.JobsFixture.untilState;

/** The queue over real HTTP and a real SQLite file: enqueue, validation, order, matching, leases, retries, the DLQ. */
class JobQueueTest {
    @AutoClose
    static final JobsFixture F = new JobsFixture();

    @Test
    void enqueueAnswersTheJobRecordAndListsNewestFirstWithACursor() {
        Tenant t = F.tenant();
        JsonNode j = enqueue(t, """
                {"prompt":"Benchmark this prompt on a specific device.","system":"You are a benchmark helper.",
                 "model":"tinyllama-1.1b-chat","options":{"num_predict":256,"temperature":0.7},"priority":1,
                 "queue_tag":"short","device_serial":"0000asd","callback_url":"https://example.com/hooks/job-finished"}""");
        assertTrue(j.path("job_id").asText().startsWith("job_"));
        for (String f : List.of("job_id", "state", "status", "priority", "queue_tag", "model", "device_serial", "device",
                "adapter_id", "callback_url", "attempt", "max_attempts", "cancel_requested", "error", "enqueued_at",
                "started_at", "finished_at")) {
            assertTrue(j.has(f), "job record has " + f + ": " + j);
        }
        assertEquals("queued", j.path("state").asText());
        assertEquals("queued", j.path("status").asText());
        assertEquals(1, j.path("priority").asInt());
        assertEquals("short", j.path("queue_tag").asText());
        assertEquals(3, j.path("max_attempts").asInt());
        assertEquals(0, j.path("attempt").asInt());
        assertTrue(j.path("enqueued_at").asText().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"));
        assertEquals(j.path("job_id"), job(t, j.path("job_id").asText()).path("job_id"));

        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ids.add(enqueue(t, "{\"prompt\":\"p" + i + "\"}").path("job_id").asText());
        }
        JsonNode page = t.user().get("/api/jobs?limit=3").json();
        assertEquals(3, page.path("jobs").size());
        assertEquals(ids.get(3), page.at("/jobs/0/job_id").asText(), "newest first");
        String cursor = page.path("next_cursor").asText();
        JsonNode rest = t.user().get("/api/jobs?limit=3&cursor=" + cursor).json();
        assertEquals(2, rest.path("jobs").size());
        assertEquals(j.path("job_id").asText(), rest.at("/jobs/1/job_id").asText());
        assertTrue(rest.path("next_cursor").isNull());
        assertEquals(1, t.user().get("/api/jobs?queue_tag=short").json().path("jobs").size());
        assertEquals(1, t.user().get("/api/jobs?model=tinyllama-1.1b-chat").json().path("jobs").size());
        assertEquals(1, t.user().get("/api/jobs?device=0000asd").json().path("jobs").size());
        assertEquals(5, t.user().get("/api/jobs?state=queued").json().path("jobs").size());
        assertEquals(422, t.user().get("/api/jobs?state=nope").status());
        assertEquals(422, t.user().get("/api/jobs?cursor=garbage!").status());
        assertEquals(202, t.user().get("/api/jobs/" + ids.get(0) + "/result").status());
        assertEquals("queued", t.user().get("/api/jobs/" + ids.get(0) + "/result").json().path("state").asText());
    }

    @Test
    void badInputIs422NamingTheFieldAndQueuesNothing() {
        Tenant t = F.tenant();
        String[][] cases = {
                {"{\"prompt\":\"x\",\"colour\":\"red\"}", "colour"},
                {"{\"system\":\"x\"}", "prompt"},
                {"{\"prompt\":\"\"}", "prompt"},
                {"{\"prompt\":42}", "prompt"},
                {"{\"prompt\":\"x\",\"priority\":10}", "priority"},
                {"{\"prompt\":\"x\",\"priority\":-1}", "priority"},
                {"{\"prompt\":\"x\",\"priority\":\"1\"}", "priority"},
                {"{\"prompt\":\"x\",\"priority\":1.5}", "priority"},
                {"{\"prompt\":\"x\",\"max_attempts\":0}", "max_attempts"},
                {"{\"prompt\":\"x\",\"max_attempts\":11}", "max_attempts"},
                {"{\"prompt\":\"x\",\"backoff_s\":-1}", "backoff_s"},
                {"{\"prompt\":\"x\",\"callback_url\":\"ftp://example.com/x\"}", "callback_url"},
                {"{\"prompt\":\"x\",\"callback_url\":\"not a url\"}", "callback_url"},
                {"{\"prompt\":\"x\",\"options\":[1]}", "options"},
                {"{\"prompt\":\"x\",\"model\":7}", "model"},
                {"{\"prompt\":\"x\",\"queue_tag\":\"\"}", "queue_tag"},
                {"{\"prompt\":\"x\",\"adapter_id\":\"no_such_dataset\"}", "adapter_id"},
        };
        for (String[] c : cases) {
            Client.Response r = t.user().post("/api/jobs", c[0]);
            assertEquals(422, r.status(), c[0] + " → " + r.text());
            assertEquals("invalid", r.errorCode());
            assertTrue(r.json().path("detail").asText().contains(c[1]), c[0] + " names " + c[1] + ": " + r.text());
        }
        assertEquals(400, t.user().post("/api/jobs", "{\"prompt\":").status());
        assertEquals(422, t.user().post("/api/jobs", "[1]").status());
        assertEquals(401, F.server.client(null).post("/api/jobs", "{\"prompt\":\"x\"}").status());
        assertEquals(0, t.user().get("/api/jobs").json().path("jobs").size(), "nothing was queued");
    }

    @Test
    void privateCallbackTargetsAreRefusedUnlessAllowed() {
        assertTrue(JobService.privateHost("127.0.0.1"));
        assertTrue(JobService.privateHost("localhost"));
        assertTrue(JobService.privateHost("10.1.2.3"));
        assertTrue(JobService.privateHost("192.168.0.4"));
        assertTrue(JobService.privateHost("169.254.169.254"));
        assertTrue(JobService.privateHost("[::1]"));
        assertTrue(JobService.privateHost("[fd00::1]"));
        assertFalse(JobService.privateHost("93.184.216.34"));
        assertFalse(JobService.privateHost("example.com"));
        try (var server = scorebook.testing.TestServer.start()) {
            Tenant t = Tenant.create(server);
            Client.Response r = t.user().post("/api/jobs", "{\"prompt\":\"x\",\"callback_url\":\"http://127.0.0.1:9/hook\"}");
            assertEquals(422, r.status(), r.text());
            assertTrue(r.text().contains("callback_url") && r.text().contains("--allow-private-callbacks"), r.text());
            assertEquals(0, t.user().get("/api/jobs").json().path("jobs").size());
            assertEquals(201, t.user().post("/api/jobs", "{\"prompt\":\"x\",\"callback_url\":\"https://example.com/h\"}").status());
        }
    }

    @Test
    void claimsGoByPriorityThenFifoAndMatchTagModelAndDevice() {
        Tenant t = F.tenant();
        String low = enqueue(t, "{\"prompt\":\"a\",\"model\":\"m1\",\"priority\":7}").path("job_id").asText();
        String first = enqueue(t, "{\"prompt\":\"b\",\"model\":\"m1\",\"priority\":0}").path("job_id").asText();
        String second = enqueue(t, "{\"prompt\":\"c\",\"model\":\"m1\",\"priority\":0}").path("job_id").asText();
        String mid = enqueue(t, "{\"prompt\":\"d\",\"model\":\"m1\"}").path("job_id").asText();
        String otherModel = enqueue(t, "{\"prompt\":\"e\",\"model\":\"m2\",\"priority\":0}").path("job_id").asText();
        String otherTag = enqueue(t, "{\"prompt\":\"f\",\"model\":\"m1\",\"priority\":0,\"queue_tag\":\"gpu\"}")
                .path("job_id").asText();
        String pinned = enqueue(t, "{\"prompt\":\"g\",\"model\":\"m1\",\"priority\":0,\"device_serial\":\"b2\"}")
                .path("job_id").asText();
        Client a1 = agent(t, "a1", "[\"m1\"]", null);
        List<String> order = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            JsonNode c = claimOne(a1, "{}");
            order.add(c.path("job_id").asText());
            assertTrue(c.path("lease_id").asText().startsWith("ls_"), c.toString());
            assertEquals("m1", c.at("/request/model").asText());
            assertEquals(1, c.path("attempt").asInt());
        }
        assertEquals(List.of(first, second, mid, low), order);
        assertEquals(204, a1.post("/worker/claim", "{}").status(), "left: other model, other tag, pinned elsewhere");

        Client b2 = agent(t, "b2", "[\"m1\",\"m2\"]", "[\"gpu\",\"default\"]");
        JsonNode c = b2.post("/worker/claim", "{\"max_jobs\":5}").json();
        List<String> got = new ArrayList<>();
        c.path("jobs").forEach(x -> got.add(x.path("job_id").asText()));
        assertEquals(List.of(otherModel, otherTag, pinned), got);
        JsonNode running = job(t, pinned);
        assertEquals("running", running.path("state").asText());
        assertEquals("b2", running.path("device").asText());

        Tenant stranger = F.tenant();
        Client theirs = agent(stranger, "a1", "[\"m1\"]", null);
        enqueue(t, "{\"prompt\":\"h\",\"model\":\"m1\"}");
        assertEquals(204, theirs.post("/worker/claim", "{}").status(), "another user's agent takes none of t's jobs");
        assertEquals(404, stranger.user().get("/api/jobs/" + pinned).status());
        assertEquals(401, F.server.client(null).post("/worker/claim", "{}").status());
        assertEquals(401, F.server.withHeaders("X-Device-Token", "sbd_nope").post("/worker/claim", "{}").status());
        assertEquals(422, a1.post("/worker/claim", "{\"wait_s\":31}").status());
        assertEquals(422, a1.post("/worker/claim", "{\"max\":1}").status());
    }

    @Test
    void reRegisteringRotatesTheDeviceToken() {
        Tenant t = F.tenant();
        Client old = agent(t, "phone", "[\"m\"]", null);
        assertEquals(204, old.post("/worker/claim", "{}").status());
        Client fresh = agent(t, "phone", "[\"m\"]", null);
        assertEquals(401, old.post("/worker/claim", "{}").status());
        assertEquals(204, fresh.post("/worker/claim", "{}").status());
        JsonNode dev = t.user().get("/devices/phone").json().path("device");
        assertEquals("[\"default\"]", dev.path("queue_tags").toString());
        assertFalse(t.user().get("/devices").text().contains("sbd_"), "device tokens are never listed");
    }

    @Test
    void anExpiredLeaseIsARetryableAttemptThenRetriesBackOffUntilTheDeadLetterQueue() {
        Tenant t = F.tenant();
        String id = enqueue(t, "{\"prompt\":\"x\",\"model\":\"m\",\"max_attempts\":2,\"backoff_s\":10}").path("job_id").asText();
        Client a = agent(t, "lease", "[\"m\"]", null);
        JsonNode c = claimOne(a, "{\"lease_s\":30}");
        String lease = c.path("lease_id").asText();
        F.clock.advance(Duration.ofSeconds(20));
        JsonNode hb = a.post("/worker/jobs/" + id + "/heartbeat", "{\"lease_id\":\"" + lease + "\"}").json();
        assertFalse(hb.path("cancel_requested").asBoolean());
        Instant extended = Instant.parse(hb.path("lease_expires_at").asText());
        assertEquals(F.clock.instant().plusSeconds(30).toEpochMilli(), extended.toEpochMilli(), "extended by lease_s");
        F.clock.advance(Duration.ofSeconds(31));
        JsonNode retrying = untilState(t, id, "retrying");
        assertEquals("lease_expired", retrying.at("/error/type").asText());
        // the expired attempt's usage row came with the move (read without waiting for any background writer)
        List<java.util.Map<String, Object>> expiredRow = F.server.running().db().read(h -> h.createQuery(
                "SELECT ok, error_type, job_id FROM usage_events WHERE user_id = ?").bind(0, t.userId()).mapToMap().list());
        assertEquals(List.of(java.util.Map.of("ok", 0, "error_type", "lease_expired", "job_id", id)), expiredRow);
        Instant next = Instant.parse(retrying.path("next_run_at").asText());
        long wait = next.toEpochMilli() - F.clock.millis();
        assertTrue(wait >= 5_000 && wait <= 10_000, "backoff 10 s × 2^0 with jitter 0.5–1: " + wait);
        assertEquals(204, a.post("/worker/claim", "{}").status(), "not due yet");
        assertEquals(409, a.post("/worker/jobs/" + id + "/complete", "{\"lease_id\":\"" + lease
                + "\",\"output\":{\"text\":\"late\"}}").status(), "the expired lease is stale");

        F.clock.advance(Duration.ofSeconds(10));
        JsonNode again = claimOne(a, "{}");
        assertEquals(2, again.path("attempt").asInt());
        Client.Response failed = a.post("/worker/jobs/" + id + "/fail", "{\"lease_id\":\"" + again.path("lease_id").asText()
                + "\",\"error\":{\"type\":\"oom\",\"message\":\"out of memory\",\"retryable\":true}}");
        assertEquals(200, failed.status(), failed.text());
        assertEquals("failed", failed.json().path("state").asText(), "attempts exhausted");

        JsonNode dlq = t.user().get("/jobs/dlq").json();
        assertEquals(1, dlq.path("jobs").size());
        assertEquals("oom", dlq.at("/jobs/0/error/type").asText());
        assertEquals(2, dlq.at("/jobs/0/attempt").asInt());
        JsonNode full = t.user().get("/api/jobs/" + id + "/result?full=1").json();
        assertEquals(2, full.path("attempts").size());
        assertEquals("lease_expired", full.at("/attempts/0/error_type").asText());
        assertEquals("failed", full.at("/attempts/1/outcome").asText());

        Client.Response requeued = t.user().post("/jobs/" + id + "/requeue", "{\"priority\":0}");
        assertEquals(200, requeued.status(), requeued.text());
        assertEquals("queued", requeued.json().path("state").asText());
        assertEquals(0, requeued.json().path("attempt").asInt());
        assertEquals(0, requeued.json().path("priority").asInt());
        assertEquals(409, t.user().post("/jobs/" + id + "/requeue", "{}").status(), "only a failed job");
        assertEquals(409, t.user().delete("/jobs/" + id).status(), "only a failed job");
        JsonNode third = claimOne(a, "{}");
        a.post("/worker/jobs/" + id + "/fail", "{\"lease_id\":\"" + third.path("lease_id").asText()
                + "\",\"error\":{\"type\":\"invalid_request\",\"message\":\"bad\"}}");
        assertEquals("failed", job(t, id).path("state").asText(), "not retryable: straight to the DLQ");
        assertEquals(3, t.user().get("/api/jobs/" + id + "/result?full=1").json().path("attempts").size(), "history kept");
        Tenant other = F.tenant();
        assertEquals(404, other.user().delete("/jobs/" + id).status());
        assertEquals(404, other.user().post("/jobs/" + id + "/requeue", "{}").status());
        assertEquals(0, other.user().get("/jobs/dlq").json().path("jobs").size());
        JsonNode ownerView = F.server.owner().get("/jobs/dlq").json();
        assertTrue(ownerView.toString().contains(id) && ownerView.toString().contains(t.name()), ownerView.toString());
        assertEquals(200, t.user().delete("/jobs/" + id).status());
        assertEquals(404, t.user().get("/api/jobs/" + id).status());
    }

    @Test
    void completeIsFencedByTheLeaseAndARepeatAnswersTheStoredOutcome() {
        Tenant t = F.tenant();
        String id = enqueue(t, "{\"prompt\":\"x\",\"model\":\"m\"}").path("job_id").asText();
        Client a = agent(t, "fence", "[\"m\"]", null);
        JsonNode c = claimOne(a, "{}");
        String done = "{\"lease_id\":\"" + c.path("lease_id").asText() + "\",\"output\":{\"text\":\"4\",\"done_reason\":\"stop\"},"
                + "\"metrics\":{\"prompt_tokens\":5,\"completion_tokens\":1,\"latency_ms\":120.5,\"ttft_ms\":40,"
                + "\"battery_end_pct\":81,\"extra\":{\"GPU power (W)\":45.5}}}";
        assertEquals(409, a.post("/worker/jobs/" + id + "/complete", done.replace(c.path("lease_id").asText(), "ls_wrong"))
                .status());
        Client.Response ok = a.post("/worker/jobs/" + id + "/complete", done);
        assertEquals(200, ok.status(), ok.text());
        assertEquals("done", ok.json().path("state").asText());
        Client.Response again = a.post("/worker/jobs/" + id + "/complete", done);
        assertEquals(200, again.status(), "a repeat with the same lease answers the stored outcome");
        assertEquals("done", again.json().path("state").asText());
        Client.Response conflict = a.post("/worker/jobs/" + id + "/fail", "{\"lease_id\":\"" + c.path("lease_id").asText()
                + "\",\"error\":{\"type\":\"oom\"}}");
        assertEquals(409, conflict.status());
        assertTrue(conflict.text().contains("done"), "409 names the job's state: " + conflict.text());

        JsonNode result = t.user().get("/api/jobs/" + id + "/result").json();
        assertEquals("4", result.at("/output/text").asText());
        assertEquals("stop", result.at("/output/done_reason").asText());
        assertEquals(5, result.at("/metrics/prompt_tokens").asInt());
        assertEquals("4", t.user().get("/api/jobs/" + id + "/result?format=text").text());
        JsonNode full = t.user().get("/api/jobs/" + id + "/result?format=json&full=1").json();
        assertEquals("x", full.at("/request/prompt").asText());
        assertEquals(1, full.path("attempts").size());

        List<java.util.Map<String, Object>> usage = t.usage(1);
        assertEquals(1, usage.size(), "one usage row per finished attempt");
        java.util.Map<String, Object> row = usage.getFirst();
        assertEquals("job", row.get("source_kind"));
        assertEquals(id, row.get("job_id"));
        assertEquals(5, ((Number) row.get("prompt_tokens")).intValue());
        assertEquals(120.5, ((Number) row.get("latency_ms")).doubleValue());
        assertEquals("fence", row.get("device"));
        assertTrue(String.valueOf(row.get("extra")).contains("GPU power (W)"), String.valueOf(row.get("extra")));
        assertTrue(String.valueOf(row.get("extra")).contains("battery_end_pct"), String.valueOf(row.get("extra")));
    }

    @Test
    void cancelInEveryState() {
        Tenant t = F.tenant();
        Client a = agent(t, "cancel", "[\"m\"]", null);
        String queued = enqueue(t, "{\"prompt\":\"q\",\"model\":\"m\"}").path("job_id").asText();
        JsonNode cq = t.user().post("/api/jobs/" + queued + "/cancel", "").json();
        assertEquals("cancelled", cq.path("state").asText());
        assertEquals(409, t.user().post("/api/jobs/" + queued + "/cancel", "").status(), "an ended job");

        String running = enqueue(t, "{\"prompt\":\"r\",\"model\":\"m\"}").path("job_id").asText();
        JsonNode c = claimOne(a, "{}");
        JsonNode cr = t.user().post("/api/jobs/" + running + "/cancel", "").json();
        assertEquals("running", cr.path("state").asText());
        assertTrue(cr.path("cancel_requested").asBoolean());
        String lease = c.path("lease_id").asText();
        assertTrue(a.post("/worker/jobs/" + running + "/heartbeat", "{\"lease_id\":\"" + lease + "\"}").json()
                .path("cancel_requested").asBoolean(), "the agent is told in its heartbeat answer");
        JsonNode beat = a.post("/devices/cancel/heartbeat", "{\"ready\":true,\"battery_pct\":77,\"temp_c\":41.5}").json();
        assertEquals(running, beat.at("/cancel_job_ids/0").asText());
        a.post("/worker/jobs/" + running + "/fail", "{\"lease_id\":\"" + lease + "\",\"error\":{\"type\":\"cancelled\","
                + "\"message\":\"stopped\"}}");
        assertEquals("cancelled", job(t, running).path("state").asText());

        String retrying = enqueue(t, "{\"prompt\":\"t\",\"model\":\"m\",\"backoff_s\":100}").path("job_id").asText();
        JsonNode c2 = claimOne(a, "{}");
        a.post("/worker/jobs/" + retrying + "/fail", "{\"lease_id\":\"" + c2.path("lease_id").asText()
                + "\",\"error\":{\"type\":\"timeout\",\"message\":\"slow\"}}");
        assertEquals("retrying", job(t, retrying).path("state").asText());
        assertEquals("cancelled", t.user().post("/api/jobs/" + retrying + "/cancel", "").json().path("state").asText());

        String failed = enqueue(t, "{\"prompt\":\"f\",\"model\":\"m\",\"max_attempts\":1}").path("job_id").asText();
        JsonNode c3 = claimOne(a, "{}");
        a.post("/worker/jobs/" + failed + "/fail", "{\"lease_id\":\"" + c3.path("lease_id").asText()
                + "\",\"error\":{\"type\":\"oom\",\"message\":\"x\"}}");
        assertEquals(409, t.user().post("/api/jobs/" + failed + "/cancel", "").status());
        assertEquals(404, F.tenant().user().post("/api/jobs/" + failed + "/cancel", "").status());

        JsonNode dev = t.user().get("/devices/cancel").json().path("device");
        assertTrue(dev.path("present").asBoolean(), dev.toString());
        assertEquals(77, dev.path("battery_pct").asInt());
        assertEquals(41.5, dev.path("temp_c").asDouble());
        assertTrue(dev.path("ready").asBoolean());
    }

    @Test
    void anIdempotencyKeyReplaysTheSameJobFor24Hours() {
        Tenant t = F.tenant();
        Client.Response first = t.user().post("/api/jobs", "{\"prompt\":\"once\"}", "Idempotency-Key", "k-1");
        Client.Response again = t.user().post("/api/jobs", "{\"prompt\":\"once\"}", "Idempotency-Key", "k-1");
        assertEquals(201, again.status());
        assertEquals(first.json().path("job_id"), again.json().path("job_id"));
        assertEquals("true", again.header("Idempotent-Replayed").orElse(""));
        assertEquals(409, t.user().post("/api/jobs", "{\"prompt\":\"other\"}", "Idempotency-Key", "k-1").status());
        Tenant other = F.tenant();
        assertTrue(!first.json().path("job_id").equals(other.user().post("/api/jobs", "{\"prompt\":\"once\"}",
                "Idempotency-Key", "k-1").json().path("job_id")), "keys are per user");
        assertEquals(1, t.user().get("/api/jobs").json().path("jobs").size());
        F.clock.advance(Duration.ofHours(24).plusSeconds(1));
        Client.Response later = t.user().post("/api/jobs", "{\"prompt\":\"once\"}", "Idempotency-Key", "k-1");
        assertTrue(!first.json().path("job_id").equals(later.json().path("job_id")), "after 24 h the key is new");
    }

    /** {@code ?wait=S} holds a result until its job ends, or answers 202 once S seconds have passed. */
    @Test
    void aResultWaitsForItsJobWhenAsked() throws Exception {
        Tenant t = F.tenant();
        String id = enqueue(t, "{\"prompt\":\"2+2?\",\"model\":\"lp\"}").path("job_id").asText();
        for (String bad : List.of("61", "-1", "soon", "1.5")) {
            Client.Response r = t.user().get("/api/jobs/" + id + "/result?wait=" + bad);
            assertEquals(422, r.status(), bad);
            assertTrue(r.text().contains("'wait'"), r.text());
        }
        long started = System.nanoTime();
        Client.Response notYet = t.user().get("/api/jobs/" + id + "/result?wait=1");
        assertEquals(202, notYet.status(), notYet.text());
        assertEquals("queued", notYet.json().path("state").asText());
        assertTrue(System.nanoTime() - started >= Duration.ofSeconds(1).toNanos(), "it waited the second asked for");

        java.util.concurrent.CompletableFuture<Client.Response> waiting = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> t.user().get("/api/jobs/" + id + "/result?wait=60&format=text"));
        Client a = agent(t, "long-poll", "[\"lp\"]", null);
        JsonNode c = claimOne(a, "{}");
        assertEquals(200, a.post("/worker/jobs/" + id + "/complete", "{\"lease_id\":\"" + c.path("lease_id").asText()
                + "\",\"output\":{\"text\":\"4\",\"done_reason\":\"stop\"}}").status());
        Client.Response done = waiting.get(Wait.DEADLINE.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(200, done.status(), done.text());
        assertEquals("4", done.text());
        // an ended job answers at once, wait or not
        assertEquals("done", t.user().get("/api/jobs/" + id + "/result?wait=60").json().path("state").asText());
    }
}
