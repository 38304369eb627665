package scorebook.jobs;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import scorebook.server.Json;
import scorebook.testing.Client;
import scorebook.testing.Tenant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static scorebook.jobs.JobsFixture.agent;
import static scorebook.jobs.JobsFixture.claimOne;
import static scorebook.jobs.JobsFixture.enqueue;
import static scorebook.jobs.JobsFixture.until;

/** Callbacks reach a test receiver signed as Standard Webhooks, retried, and listed as deliveries. */
class CallbackTest {
    @AutoClose
    static final JobsFixture F = new JobsFixture();

    /** A webhook receiver on the other side of the network: records what came, answers as told. */
    static final class Receiver implements AutoCloseable {
        record Got(String id, String timestamp, String signature, String body) {
        }

        final HttpServer server;
        final ConcurrentLinkedQueue<Got> got = new ConcurrentLinkedQueue<>();
        final List<int[]> answers = Collections.synchronizedList(new ArrayList<>()); // {status, retryAfter or -1}

        Receiver() throws IOException {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
            server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
            server.createContext("/", ex -> {
                String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
                got.add(new Got(ex.getRequestHeaders().getFirst("webhook-id"),
                        ex.getRequestHeaders().getFirst("webhook-timestamp"),
                        ex.getRequestHeaders().getFirst("webhook-signature"), body));
                int[] a = answers.isEmpty() ? new int[] {200, -1} : answers.removeFirst();
                if (a[1] >= 0) {
                    ex.getResponseHeaders().add("Retry-After", Integer.toString(a[1]));
                }
                ex.sendResponseHeaders(a[0], -1);
                ex.close();
            });
            server.start();
        }

        String url() {
            return "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
        }

        List<Got> all() {
            return List.copyOf(got);
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    /** Verifies like a receiver would: some v1 signature matches HMAC-SHA256(key, id.timestamp.body). */
    static boolean verified(String secret, Receiver.Got g) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(Base64.getDecoder().decode(secret.substring("whsec_".length())), "HmacSHA256"));
        String expected = Base64.getEncoder().encodeToString(mac.doFinal((g.id() + "." + g.timestamp() + "." + g.body())
                .getBytes(StandardCharsets.UTF_8)));
        for (String s : g.signature().split(" ")) {
            if (s.equals("v1," + expected)) {
                return true;
            }
        }
        return false;
    }

    private static String finish(Tenant t, Client agent, String callback, boolean ok) {
        String id = enqueue(t, "{\"prompt\":\"x\",\"model\":\"m\",\"max_attempts\":1,\"callback_url\":\"" + callback + "\"}")
                .path("job_id").asText();
        JsonNode c = claimOne(agent, "{}");
        assertEquals(id, c.path("job_id").asText());
        String lease = c.path("lease_id").asText();
        Client.Response r = ok
                ? agent.post("/worker/jobs/" + id + "/complete", "{\"lease_id\":\"" + lease + "\",\"output\":{\"text\":\"42\"},"
                        + "\"metrics\":{\"latency_ms\":10}}")
                : agent.post("/worker/jobs/" + id + "/fail", "{\"lease_id\":\"" + lease
                        + "\",\"error\":{\"type\":\"oom\",\"message\":\"no memory\"}}");
        assertEquals(200, r.status(), r.text());
        return id;
    }

    private static JsonNode deliveries(Tenant t, String id) {
        return t.user().get("/api/jobs/" + id + "/deliveries").json().path("deliveries");
    }

    @Test
    void aDoneJobPostsASignedEventThatIsRetriedWithTheSameIdUntilDelivered() throws Exception {
        try (Receiver rx = new Receiver()) {
            Tenant t = F.tenant();
            String secret = t.user().get("/user/webhook_secret").json().path("secret").asText();
            assertTrue(secret.startsWith("whsec_"));
            Client a = agent(t, "cb1", "[\"m\"]", null);
            rx.answers.add(new int[] {500, -1});
            String id = finish(t, a, rx.url(), true);
            until("the first try arrived", () -> rx.all().size() == 1);
            until("the failed try is recorded", () -> deliveries(t, id).path(0).path("attempts").asInt() == 1);
            JsonNode pending = deliveries(t, id).path(0);
            assertEquals("pending", pending.path("state").asText());
            assertEquals(500, pending.path("last_status").asInt());
            F.clock.advance(Duration.ofSeconds(5));
            until("the retry arrived", () -> rx.all().size() == 2);
            until("delivered", () -> "delivered".equals(deliveries(t, id).path(0).path("state").asText()));

            List<Receiver.Got> got = rx.all();
            assertEquals(got.get(0).id(), got.get(1).id(), "one webhook-id per event, the same on every retry");
            for (Receiver.Got g : got) {
                assertTrue(verified(secret, g), "signature verifies: " + g);
            }
            JsonNode event = Json.MAPPER.readTree(got.get(1).body());
            assertEquals("job.done", event.path("type").asText());
            assertEquals(id, event.at("/data/job_id").asText());
            assertEquals("done", event.at("/data/state").asText());
            assertEquals("42", event.at("/data/output_preview").asText());
            assertEquals(10, event.at("/data/metrics/latency_ms").asInt());
            assertTrue(event.at("/data/result_url").asText().startsWith("/api/jobs/" + id + "/result"));
            JsonNode d = deliveries(t, id).path(0);
            assertEquals(2, d.path("attempts").asInt());
            assertEquals("job.done", d.path("event").asText());
            assertEquals(got.get(0).id(), d.path("webhook_id").asText());
            assertEquals(404, F.tenant().user().get("/api/jobs/" + id + "/deliveries").status());
        }
    }

    @Test
    void retryAfterIsHonouredAndA410StopsTheRetries() throws Exception {
        try (Receiver rx = new Receiver()) {
            Tenant t = F.tenant();
            Client a = agent(t, "cb2", "[\"m\"]", null);
            rx.answers.add(new int[] {503, 120});
            String id = finish(t, a, rx.url(), false);
            until("the first try is recorded", () -> deliveries(t, id).path(0).path("attempts").asInt() == 1);
            JsonNode d = deliveries(t, id).path(0);
            assertEquals("job.failed", d.path("event").asText());
            long wait = java.time.Instant.parse(d.path("next_attempt_at").asText()).toEpochMilli() - F.clock.millis();
            assertEquals(120_000, wait, 1_000, "Retry-After: 120 sets the next try");
            rx.answers.add(new int[] {410, -1});
            F.clock.advance(Duration.ofSeconds(121));
            until("gone", () -> "gone".equals(deliveries(t, id).path(0).path("state").asText()));
            assertEquals(2, rx.all().size());
            F.clock.advance(Duration.ofHours(1));
            assertEquals("gone", deliveries(t, id).path(0).path("state").asText());

            // a requeued job that fails again is a new event with a new id
            assertEquals(200, t.user().post("/jobs/" + id + "/requeue", "{}").status());
            JsonNode c = claimOne(a, "{}");
            a.post("/worker/jobs/" + id + "/fail", "{\"lease_id\":\"" + c.path("lease_id").asText()
                    + "\",\"error\":{\"type\":\"oom\",\"message\":\"again\"}}");
            until("the second event arrived", () -> rx.all().size() == 3);
            assertNotEquals(rx.all().get(0).id(), rx.all().get(2).id());
        }
    }

    @Test
    void afterARotationBothSecretsSignFor24Hours() throws Exception {
        try (Receiver rx = new Receiver()) {
            Tenant t = F.tenant();
            String old = t.user().get("/user/webhook_secret").json().path("secret").asText();
            JsonNode rotated = t.user().post("/user/webhook_secret/rotate", "").json();
            String fresh = rotated.path("secret").asText();
            assertNotEquals(old, fresh);
            assertTrue(rotated.path("previous_valid_until").isTextual());
            assertEquals(fresh, t.user().get("/user/webhook_secret").json().path("secret").asText());
            Client a = agent(t, "cb3", "[\"m\"]", null);
            finish(t, a, rx.url(), true);
            until("delivered", () -> rx.all().size() == 1);
            Receiver.Got g = rx.all().getFirst();
            assertEquals(2, g.signature().split(" ").length);
            assertTrue(verified(old, g) && verified(fresh, g));
            F.clock.advance(Duration.ofHours(24).plusMinutes(1));
            finish(t, a, rx.url(), true);
            until("delivered", () -> rx.all().size() == 2);
            Receiver.Got later = rx.all().get(1);
            assertTrue(verified(fresh, later));
            assertTrue(!verified(old, later), "the old secret signs no more after 24 h");
        }
    }
}
