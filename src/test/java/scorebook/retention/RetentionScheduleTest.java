package scorebook.retention;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;

import org.junit.jupiter.api.Test;

import scorebook.server.Json;
import scorebook.server.ServerConfig;
import scorebook.testing.Tenant;
import scorebook.testing.TestClock;
import scorebook.testing.TestServer;
import scorebook.testing.Wait;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The server runs retention itself: a minute after its start and every ten minutes after, by its clock. The test
 * moves the clock and waits for the rows to go (nobody calls sweep()); before the clock reaches a pass, nothing goes.
 */
class RetentionScheduleTest {
    @Test
    void theServerSweepsAMinuteAfterItsStartAndEveryTenMinutesByItsClock() throws Exception {
        TestClock clock = new TestClock(Instant.parse("2026-03-01T12:00:00Z"));
        try (TestServer server = TestServer.start(ServerConfig.local(TestServer.tempDir(), TestServer.OWNER_TOKEN)
                .withClock(clock))) {
            Tenant t = Tenant.create(server);
            assertEquals(200, t.user().put("/api/retention", "{\"usage_days\":10}").status());
            importOld(t, clock, "a");
            assertEquals(3, rows(server, t), "the clock has not reached the first pass: nothing goes");

            clock.advance(Duration.ofSeconds(61));
            Wait.until("the first pass, a minute after the start", () -> rows(server, t) == 0);

            importOld(t, clock, "b");
            clock.advance(Duration.ofMinutes(5));
            assertEquals(3, rows(server, t), "five minutes on, the next pass is not due");
            clock.advance(Duration.ofMinutes(6));
            Wait.until("the next pass, ten minutes after the first", () -> rows(server, t) == 0);
        }
    }

    /** Three usage rows 30 days before the clock's now (older than the 10-day setting). */
    private static void importOld(Tenant t, TestClock clock, String prefix) {
        StringBuilder rows = new StringBuilder("[");
        for (int i = 0; i < 3; i++) {
            long ts = clock.millis() - Duration.ofDays(30).toMillis() + i * 1000L;
            rows.append(i == 0 ? "" : ",").append(Json.text(Json.fields("ts", ts / 1000.0, "event_id", prefix + i,
                    "model", "m", "ok", true)));
        }
        assertEquals(200, t.user().post("/usage/import", rows.append(']').toString()).status());
    }

    private static long rows(TestServer server, Tenant t) {
        Path file = server.dataDir().resolve("scorebook.db");
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT (SELECT count(*) FROM usage_events WHERE user_id = " + t.userId()
                     + ") + (SELECT coalesce(sum(row_count), 0) FROM usage_import_batches WHERE user_id = " + t.userId()
                     + ")")) { // imported rows are staged until the fold inserts them
            r.next();
            return r.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
