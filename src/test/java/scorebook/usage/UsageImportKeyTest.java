package scorebook.usage;

import java.time.Duration;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import scorebook.server.ServerConfig;
import scorebook.testing.Client;
import scorebook.testing.Tenant;
import scorebook.testing.TestClock;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** POST /usage/import with an Idempotency-Key: the first answer is replayed for 24 hours, per user (§3.12). */
class UsageImportKeyTest {
    private static final TestClock CLOCK = TestClock.now();
    @AutoClose
    static final TestServer server = TestServer.start(
            ServerConfig.local(TestServer.tempDir(), TestServer.OWNER_TOKEN).withClock(CLOCK));

    /** The rows' times do not move with the clock: after a day the same rows are the same events. */
    private static final long TS = CLOCK.millis() / 1000 - 600;

    private static String rows(int n) {
        long ts = TS;
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < n; i++) {
            s.append(i == 0 ? "" : ",").append("{\"ts\": ").append(ts + i)
                    .append(", \"model\": \"m\", \"latency_ms\": 100, \"event_id\": \"e").append(i).append("\"}");
        }
        return s.append(']').toString();
    }

    private static long stored(Tenant t) {
        UsageStore.derivePending(server.running().db()); // imports are staged until the fold inserts them
        return server.running().db().read(h -> h.createQuery("SELECT count(*) FROM usage_events WHERE user_id = ?")
                .bind(0, t.userId()).mapTo(long.class).one());
    }

    private static void notReplayed(Client.Response r) {
        assertTrue(r.header("Idempotent-Replayed").isEmpty(), r.text());
    }

    @Test
    void theSameKeyAndRequestReplayTheFirstAnswerForADayAndAnotherRequestIs409() {
        Tenant t = Tenant.create(server);
        Client.Response first = t.user().post("/usage/import", rows(3), "Idempotency-Key", "nightly-1");
        assertEquals(200, first.status(), first.text());
        assertEquals(3, first.json().path("imported").asInt());
        notReplayed(first);

        Client.Response again = t.user().post("/usage/import", rows(3), "Idempotency-Key", " nightly-1 ");
        assertEquals(200, again.status());
        assertEquals(first.text(), again.text(), "the first answer, not 'imported 0, duplicates 3'");
        assertEquals("true", again.header("Idempotent-Replayed").orElse(""));
        assertEquals(3, stored(t));

        Client.Response unkeyed = t.user().post("/usage/import", rows(3));
        assertEquals(3, unkeyed.json().path("duplicates").asInt(), "without a key the rows are duplicates");
        notReplayed(unkeyed);

        assertEquals(409, t.user().post("/usage/import", rows(4), "Idempotency-Key", "nightly-1").status(),
                "another body");
        assertEquals(409, t.user().post("/usage/import?dry_run=1", rows(3), "Idempotency-Key", "nightly-1").status(),
                "other parameters");
        assertEquals(409, t.user().post("/usage/import", rows(3), "Idempotency-Key", "nightly-1", "Content-Type",
                "application/x-ndjson").status(), "another content type");
        assertEquals(3, stored(t), "a refused request stores nothing");

        Tenant other = Tenant.create(server);
        Client.Response theirs = other.user().post("/usage/import", rows(3), "Idempotency-Key", "nightly-1");
        assertEquals(3, theirs.json().path("imported").asInt(), "keys are per user");
        notReplayed(theirs);

        CLOCK.advance(Duration.ofHours(24).plusSeconds(1));
        Client.Response later = t.user().post("/usage/import", rows(4), "Idempotency-Key", "nightly-1");
        assertEquals(200, later.status(), later.text());
        notReplayed(later);
        assertEquals(1, later.json().path("imported").asInt(), "after 24 h the key is new: " + later.text());
        assertEquals(4, stored(t));
    }

    @Test
    void aStrictRefusalIsReplayedAndAKeyThatIsEmptyOrTooLongIs422() {
        Tenant t = Tenant.create(server);
        String bad = rows(2).replace("]", ", {\"ts\": \"yesterday\"}]");
        Client.Response first = t.user().post("/usage/import?strict=1", bad, "Idempotency-Key", "strict-1");
        assertEquals(422, first.status(), first.text());
        Client.Response again = t.user().post("/usage/import?strict=1", bad, "Idempotency-Key", "strict-1");
        assertEquals(422, again.status());
        assertEquals(first.text(), again.text());
        assertEquals("true", again.header("Idempotent-Replayed").orElse(""));

        for (String key : new String[] {"k".repeat(256), "   "}) {
            Client.Response r = t.user().post("/usage/import", rows(2), "Idempotency-Key", key);
            assertEquals(422, r.status(), r.text());
            assertTrue(r.text().contains("Idempotency-Key"), r.text());
        }
        assertEquals(0, stored(t), "nothing imported");
        assertEquals(200, t.user().post("/usage/import", rows(2), "Idempotency-Key", "k".repeat(255)).status());
        assertEquals(2, stored(t));
    }
}
