package scorebook.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.testing.Client;
import scorebook.testing.Tenant;

/**
 * Enqueues and completes write in shared batches (one group commit), and enqueues answer records made without reading
 * the rows back: the answer must be the stored job, concurrent enqueues must each be stored once, and concurrent
 * completes must each end their job once, repeats answering the stored outcome and stale leases refused. An agent's
 * ended attempt stores its usage row in the transaction that ends it.
 */
class EnqueueWritesTest {
    @AutoClose
    static final JobsFixture F = new JobsFixture();

    @Test
    void jobIdsSortInEnqueueTimeOrderAndDifferWithinOneMillisecond() {
        long t = 1_764_000_000_000L;
        String first = JobStore.newJobId(t);
        assertTrue(first.startsWith("job_" + String.format("%012x", t)), first);
        assertTrue(first.compareTo(JobStore.newJobId(t + 1)) < 0, "a later enqueue sorts after");
        assertTrue(JobStore.newJobId(t + 1).compareTo(JobStore.newJobId(t + 256)) < 0, "by time, not by hex length");
        Set<String> sameMs = new HashSet<>();
        for (int i = 0; i < 1_000; i++) {
            assertTrue(sameMs.add(JobStore.newJobId(t)), "random bits tell jobs of one millisecond apart");
        }
    }

    @Test
    void concurrentEnqueuesAreEachStoredOnceAndAnsweredAsStored() throws Exception {
        Tenant t = F.tenant();
        List<Future<JsonNode>> answers = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            for (int i = 0; i < 40; i++) {
                String body = i % 2 == 0
                        ? "{\"prompt\":\"p" + i + "\",\"model\":\"m\",\"priority\":" + (i % 10) + ",\"options\":{\"temperature\":0.5}}"
                        : "{\"prompt\":\"p" + i + "\",\"system\":\"s\",\"queue_tag\":\"t\",\"device_serial\":\"d1\","
                          + "\"callback_url\":\"http://127.0.0.1:9/hook\",\"max_attempts\":7,\"backoff_s\":2.5}";
                answers.add(pool.submit(() -> JobsFixture.enqueue(t, body)));
            }
        }
        Set<String> ids = new HashSet<>();
        for (Future<JsonNode> f : answers) {
            JsonNode answered = f.get();
            String id = answered.path("job_id").asText();
            assertTrue(id.matches("job_[0-9a-f]{28}"), id);
            assertTrue(ids.add(id), "one job per enqueue: " + id);
            JsonNode stored = JobsFixture.job(t, id);
            assertEquals(stored, answered, "the enqueue's answer is the stored job");
        }
        JsonNode listed = t.user().get("/api/jobs?limit=100").json().path("jobs");
        assertEquals(40, listed.size());
        Set<String> listedIds = new HashSet<>();
        listed.forEach(j -> listedIds.add(j.path("job_id").asText()));
        assertEquals(ids, listedIds);
    }

    @Test
    void concurrentCompletesEndEachJobOnceRepeatsAnswerTheOutcomeAndStaleLeasesAreRefused() throws Exception {
        Tenant t = F.tenant();
        Client agent = JobsFixture.agent(t, "batcher", "[\"m\"]", null);
        int n = 30;
        for (int i = 0; i < n; i++) {
            JobsFixture.enqueue(t, "{\"prompt\":\"p" + i + "\",\"model\":\"m\"}");
        }
        JsonNode claimed = agent.post("/worker/claim", "{\"max_jobs\":" + n + "}").json().path("jobs");
        assertEquals(n, claimed.size());
        List<Future<Client.Response>> answers = new ArrayList<>();
        List<String> kinds = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            for (JsonNode c : claimed) {
                String path = "/worker/jobs/" + c.path("job_id").asText() + "/complete";
                String lease = c.path("lease_id").asText();
                for (String kind : List.of("first", "repeat", "stale")) {
                    String body = "{\"lease_id\":\"" + (kind.equals("stale") ? "ls_not_it" : lease) + "\",\"output\":{\"text\":\""
                            + c.path("job_id").asText() + "\"},\"metrics\":{\"latency_ms\":5,\"completion_tokens\":3}}";
                    kinds.add(kind);
                    answers.add(pool.submit(() -> agent.post(path, body)));
                }
            }
        }
        for (int i = 0; i < answers.size(); i++) {
            Client.Response r = answers.get(i).get();
            if (kinds.get(i).equals("stale")) {
                assertEquals(409, r.status(), r.text());
                assertEquals("stale_lease", r.json().at("/error/code").asText(), r.text());
            } else {
                assertEquals(200, r.status(), kinds.get(i) + ": " + r.text());
                assertEquals("done", r.json().path("state").asText());
            }
        }
        for (JsonNode c : claimed) {
            String id = c.path("job_id").asText();
            JsonNode result = t.user().get("/api/jobs/" + id + "/result?full=1").json();
            assertEquals("done", result.path("state").asText());
            assertEquals(id, result.at("/output/text").asText(), "each job keeps its own output");
            assertEquals(1, result.path("attempts").size());
            assertEquals("done", result.at("/attempts/0/outcome").asText());
            assertTrue(!result.at("/attempts/0/ended_at").isNull(), result.toString());
        }
        List<java.util.Map<String, Object>> usage = t.usage(n);
        assertEquals(n, usage.size(), "one usage row per completed attempt, none for repeats");
    }

    @Test
    void enqueuesAndCompletesAtOnceAreEachAnsweredAsStored() throws Exception {
        Tenant t = F.tenant();
        Client a = JobsFixture.agent(t, "mixed", "[\"m\"]", null);
        for (int i = 0; i < 12; i++) {
            JobsFixture.enqueue(t, "{\"prompt\":\"first" + i + "\",\"model\":\"m\"}");
        }
        JsonNode claimed = a.post("/worker/claim", "{\"max_jobs\":12}").json().path("jobs");
        assertEquals(12, claimed.size());
        List<Future<Client.Response>> completes = new ArrayList<>();
        List<Future<JsonNode>> enqueues = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            for (int i = 0; i < 12; i++) {
                JsonNode c = claimed.get(i);
                String body = "{\"prompt\":\"second" + i + "\",\"model\":\"m\"}";
                enqueues.add(pool.submit(() -> JobsFixture.enqueue(t, body)));
                completes.add(pool.submit(() -> a.post("/worker/jobs/" + c.path("job_id").asText() + "/complete",
                        "{\"lease_id\":\"" + c.path("lease_id").asText() + "\",\"output\":{\"text\":\""
                        + c.path("job_id").asText() + "\"}}")));
            }
        }
        for (int i = 0; i < 12; i++) {
            Client.Response r = completes.get(i).get();
            assertEquals(200, r.status(), r.text());
            assertEquals(claimed.get(i).path("job_id").asText(), r.json().path("job_id").asText());
            assertEquals("done", r.json().path("state").asText());
            JsonNode enqueued = enqueues.get(i).get();
            assertEquals("queued", enqueued.path("state").asText());
            assertEquals(JobsFixture.job(t, enqueued.path("job_id").asText()), enqueued, "answered as stored");
        }
        assertEquals(12, t.user().get("/api/jobs?state=queued&limit=100").json().path("jobs").size());
        assertEquals(12, t.user().get("/api/jobs?state=done&limit=100").json().path("jobs").size());
    }

    @Test
    void anAgentsEndedAttemptIsInTheUsageTableWhenItsAnswerComes() {
        Tenant t = F.tenant();
        Client a = JobsFixture.agent(t, "rows", "[\"m\"]", null);
        String done = JobsFixture.enqueue(t, "{\"prompt\":\"d\",\"model\":\"m\"}").path("job_id").asText();
        String failed = JobsFixture.enqueue(t, "{\"prompt\":\"f\",\"model\":\"m\"}").path("job_id").asText();
        JsonNode claimed = a.post("/worker/claim", "{\"max_jobs\":2}").json().path("jobs");
        assertEquals(2, claimed.size());
        for (JsonNode c : claimed) {
            String id = c.path("job_id").asText();
            String lease = "\"lease_id\":\"" + c.path("lease_id").asText() + "\"";
            Client.Response r = id.equals(done)
                    ? a.post("/worker/jobs/" + id + "/complete", "{" + lease + ",\"output\":{\"text\":\"ok\"},"
                            + "\"metrics\":{\"latency_ms\":70,\"completion_tokens\":7}}")
                    : a.post("/worker/jobs/" + id + "/fail", "{" + lease + ",\"error\":{\"type\":\"oom\","
                            + "\"message\":\"out of memory\",\"retryable\":false}}");
            assertEquals(200, r.status(), r.text());
            // read at once, without waiting for the background usage writer: the row came with the move
            List<java.util.Map<String, Object>> rows = t.server().running().db().read(h -> h.createQuery(
                    "SELECT job_id, ok, error_type, latency_ms FROM usage_events WHERE user_id = ? AND job_id = ?")
                    .bind(0, t.userId()).bind(1, id).mapToMap().list());
            assertEquals(1, rows.size(), id + ": " + rows);
            if (id.equals(done)) {
                assertEquals(1, ((Number) rows.getFirst().get("ok")).intValue());
                assertEquals(70.0, ((Number) rows.getFirst().get("latency_ms")).doubleValue());
            } else {
                assertEquals(0, ((Number) rows.getFirst().get("ok")).intValue());
                assertEquals("oom", rows.getFirst().get("error_type"));
            }
        }
        assertEquals(2, t.usage(2).size(), "one row per attempt, no second one from the background writer");
    }
}
