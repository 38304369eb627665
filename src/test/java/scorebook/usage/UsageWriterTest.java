package scorebook.usage;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import scorebook.server.ServerConfig;
import scorebook.store.Database;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The usage writer's loss window (issue 13): a queued row is committed within 100 ms. Checked without timing:
 * the test is the writer's scheduler, so it sees when a flush is asked for (the delay after the first queued
 * row must be at most 100 ms) and runs the flush itself (it must commit every queued row); a full queue makes
 * {@code record} write the row before returning, so rows never wait behind more than the queue holds.
 */
class UsageWriterTest {
    private static final Instant NOW = Instant.parse("2026-06-15T12:00:00Z");
    private static final long LOSS_WINDOW_MS = 100;

    @AutoClose
    static final TestServer server = TestServer.start(ServerConfig.local(TestServer.tempDir(), TestServer.OWNER_TOKEN)
            .withClock(Clock.fixed(NOW, ZoneOffset.UTC)));

    /** The flushes a store asked for, in order; run by the test. */
    private static final class HandScheduler implements UsageStore.FlushScheduler {
        final List<Runnable> flushes = new ArrayList<>();
        final List<Long> delays = new ArrayList<>();

        @Override
        public void schedule(Runnable flush, long delayMs) {
            flushes.add(flush);
            delays.add(delayMs);
        }

        void runAll() {
            List<Runnable> now = new ArrayList<>(flushes);
            flushes.clear();
            now.forEach(Runnable::run);
        }
    }

    private static Database db() {
        return server.running().db();
    }

    private static long ownerId() {
        return db().read(h -> h.createQuery("SELECT id FROM users WHERE name = 'owner'").mapTo(long.class).one());
    }

    private static UsageStore.Row row(long user, String requestId) {
        return new UsageStore.Row(user, null, NOW.toEpochMilli() - 1_000, "gateway", requestId, "gpu-1", "m", null,
                10, 20, 300.0, 50.0, 66.0, true, null, null, null, null, null);
    }

    private static long stored(String requestIdPrefix) {
        return db().read(h -> h.createQuery("SELECT count(*) FROM usage_events WHERE request_id LIKE :p")
                .bind("p", requestIdPrefix + "%").mapTo(long.class).one());
    }

    @Test
    void theFirstQueuedRowSchedulesAFlushWithinTheLossWindowAndTheFlushCommitsIt() {
        HandScheduler scheduler = new HandScheduler();
        UsageStore store = new UsageStore(db(), server.running().parts().clock(), scheduler);
        long user = ownerId();
        store.record(row(user, "w1-a"));
        assertEquals(1, scheduler.flushes.size(), "a queued row must have its flush scheduled");
        assertTrue(scheduler.delays.getFirst() <= LOSS_WINDOW_MS,
                "flush scheduled " + scheduler.delays.getFirst() + " ms after the row, more than the 100 ms window");
        assertEquals(0, stored("w1-"), "the row is queued, not yet written");
        scheduler.runAll();
        assertEquals(1, stored("w1-"), "the scheduled flush must commit the queued row");
        assertTrue(store.flush(java.time.Duration.ZERO), "nothing recorded is left unwritten");
    }

    @Test
    void rowsQueuedWhileAFlushIsPendingShareItAndALaterRowSchedulesTheNext() {
        HandScheduler scheduler = new HandScheduler();
        UsageStore store = new UsageStore(db(), server.running().parts().clock(), scheduler);
        long user = ownerId();
        for (int i = 0; i < 2_500; i++) {
            store.record(row(user, "w2-" + i));
        }
        assertEquals(1, scheduler.flushes.size(), "one pending flush takes every row queued before it runs");
        scheduler.runAll();
        assertEquals(2_500, stored("w2-"), "a flush commits everything queued, in batches");
        store.record(row(user, "w2-late"));
        assertEquals(1, scheduler.flushes.size(), "a row queued after the flush ran schedules a new one");
        assertTrue(scheduler.delays.getLast() <= LOSS_WINDOW_MS);
        scheduler.runAll();
        assertEquals(2_501, stored("w2-"));
    }

    @Test
    void aFullQueueMakesRecordWriteTheRowBeforeReturning() {
        HandScheduler scheduler = new HandScheduler();
        UsageStore store = new UsageStore(db(), server.running().parts().clock(), scheduler);
        long user = ownerId();
        for (int i = 0; i < UsageStore.MAX_QUEUE; i++) {
            store.record(row(user, "w3-q" + i));
        }
        assertEquals(0, stored("w3-"));
        store.record(row(user, "w3-over"));
        assertEquals(1, stored("w3-over"), "with the queue full the row is written at once, not queued");
        scheduler.runAll();
        assertEquals(UsageStore.MAX_QUEUE + 1, stored("w3-"));
    }
}
