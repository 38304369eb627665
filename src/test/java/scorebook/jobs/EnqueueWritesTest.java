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
import scorebook.testing.Tenant;

/**
 * Enqueues write their jobs in shared batches and answer records made without reading the rows back: the
 * answer must be the stored job, and concurrent enqueues must each be stored once, in order.
 */
class EnqueueWritesTest {
    @AutoClose
    static final JobsFixture F = new JobsFixture();

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
            assertTrue(id.matches("job_[0-9a-f]{20}"), id);
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
}
