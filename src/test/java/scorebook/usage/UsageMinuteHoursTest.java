package scorebook.usage;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;
import scorebook.server.ServerConfig;
import scorebook.testing.Tenant;
import scorebook.testing.TestClock;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Minute cells of old hours made on demand (schema/018): a range with an edge inside an hour older than the
 * minute-cell horizon makes that hour's minute cells on its first answer and reads them from then on, with the same
 * numbers as the rows give; rows folded into the hour later are added; only the newest made hours are kept; the
 * horizon's move leaves them.
 */
class UsageMinuteHoursTest {
    private static final long MINUTE = 60_000L;
    private static final long HOUR = 3_600_000L;
    private static final TestClock CLOCK = new TestClock(Instant.parse("2026-06-15T12:00:00Z"));

    @AutoClose
    static final TestServer server = TestServer.start(ServerConfig.local(TestServer.tempDir(), TestServer.OWNER_TOKEN)
            .withClock(CLOCK));

    /** Rows {@code first..last-1}: row i at {@code start + i × 13 s}, latency 100 + i, every 5th failed. */
    private static String rows(long start, int first, int last) {
        StringBuilder b = new StringBuilder("[");
        for (int i = first; i < last; i++) {
            b.append(i == first ? "" : ",").append(Json.text(Json.fields("ts", (start + i * 13_000L) / 1000.0,
                    "event_id", "r" + start + "-" + i, "model", i % 2 == 0 ? "a" : "b", "device", "d",
                    "prompt_tokens", 1, "completion_tokens", 2, "latency_ms", 100.0 + i, "ok", i % 5 != 0)));
        }
        return b.append(']').toString();
    }

    private static void importRows(Tenant t, long start, int first, int last) {
        assertEquals(last - first, t.user().post("/usage/import", rows(start, first, last)).json().path("imported").asInt());
    }

    /** An hour start five days before the clock: far below the two-day minute-cell horizon. */
    private static long oldHour() {
        return (CLOCK.millis() - 5 * 86_400_000L) / HOUR * HOUR;
    }

    private static long madeHours(long userId) {
        return server.running().db().read(h -> h.createQuery("SELECT count(*) FROM usage_minute_hours WHERE user_id = ?")
                .bind(0, userId).mapTo(long.class).one());
    }

    private static long minuteCells(long userId, long hourMs) {
        return server.running().db().read(h -> h.createQuery("""
                        SELECT count(*) FROM usage_rollups WHERE user_id = :u AND level = 0 AND t >= :a AND t < :b""")
                .bind("u", userId).bind("a", hourMs / MINUTE).bind("b", (hourMs + HOUR) / MINUTE).mapTo(long.class).one());
    }

    /** The summary of {@code [from, to)} as rows {@code 0..n-1} from {@code start} give it. */
    private static void assertSummary(JsonNode s, long start, int n, long from, long to) {
        int[] in = IntStream.range(0, n).filter(i -> start + i * 13_000L >= from && start + i * 13_000L < to).toArray();
        assertEquals(in.length, s.path("requests").asInt(), s.toString());
        assertEquals(Arrays.stream(in).filter(i -> i % 5 == 0).count(), s.path("errors").asLong(), s.toString());
        assertEquals(3L * in.length, s.path("total_tokens").asLong());
        double[] lat = Arrays.stream(in).mapToDouble(i -> 100.0 + i).toArray();
        assertEquals(Arrays.stream(lat).average().orElseThrow(), s.path("latency_ms").path("avg").asDouble(), 1e-6);
        double p95 = UsageApiTest.exact(lat, 95);
        assertTrue(Math.abs(s.path("latency_ms").path("p95").asDouble() - p95) / p95 <= 0.01, s.toString());
        assertEquals(in.length == 0 ? 0 : 2, s.path("models").asInt(), s.toString());
    }

    @Test
    void aRangeEndingInsideAnOldHourMakesItsMinuteCellsOnceAndAnswersAsTheRowsDo() {
        Tenant t = Tenant.create(server);
        long start = oldHour();
        int n = 300; // 65 minutes: the old hour and a piece of the next
        importRows(t, start, 0, n);
        long from = start + 10 * MINUTE + 7_000;
        long to = start + 50 * MINUTE;
        String range = "from=" + from + "&to=" + to;
        assertEquals(0, madeHours(t.userId()));
        JsonNode first = t.user().get("/usage/summary?" + range).json();
        assertSummary(first, start, n, from, to);
        assertEquals(1, madeHours(t.userId()), "the hour the range's minutes fall in");
        assertTrue(minuteCells(t.userId(), start) > 0);
        assertEquals(0, minuteCells(t.userId(), start + HOUR), "the next hour was not asked for");
        JsonNode again = t.user().get("/usage/summary?" + range).json();
        assertEquals(first, again, "from the minute cells: the same answer");
        JsonNode points = t.user().get("/usage?bucket=1m&" + range).json().path("series").get(0).path("points");
        for (JsonNode p : points) {
            long a = Math.max(from, Instant.parse(p.path("t").asText()).toEpochMilli());
            long b = Math.min(to, Instant.parse(p.path("t").asText()).toEpochMilli() + MINUTE);
            long want = IntStream.range(0, n).filter(i -> start + i * 13_000L >= a && start + i * 13_000L < b).count();
            assertEquals(want, p.path("requests").asLong(), "requests in the minute at " + p.path("t").asText());
        }
        // a range across both hours: the made one from cells, the other from its rows
        long to2 = start + HOUR + 4 * MINUTE;
        assertSummary(t.user().get("/usage/summary?from=" + from + "&to=" + to2).json(), start, n, from, to2);
    }

    @Test
    void rowsImportedIntoAMadeHourLaterAreAddedOnce() {
        Tenant t = Tenant.create(server);
        long start = oldHour() - 7 * HOUR;
        importRows(t, start, 0, 100);
        long from = start + 3 * MINUTE;
        long to = start + 55 * MINUTE;
        String range = "/usage/summary?from=" + from + "&to=" + to;
        assertSummary(t.user().get(range).json(), start, 100, from, to);
        assertEquals(1, madeHours(t.userId()));
        importRows(t, start, 100, 250);
        assertSummary(t.user().get(range).json(), start, 250, from, to);
        // the hour's cells agree with its minute cells: a whole-hour range reads the hour cell
        assertSummary(t.user().get("/usage/summary?from=" + start + "&to=" + (start + HOUR)).json(), start, 250,
                start, start + HOUR);
    }

    @Test
    void onlyTheNewestMadeHoursAreKeptAndAForgottenHourIsMadeAgain() {
        Tenant t = Tenant.create(server);
        int hours = UsageStore.MINUTE_HOURS_KEPT + 2;
        long first = oldHour() - 3 * 24 * HOUR;
        StringBuilder b = new StringBuilder("[");
        for (int k = 0; k < hours; k++) {
            b.append(k == 0 ? "" : ",").append(Json.text(Json.fields("ts", (first + k * HOUR + 30 * MINUTE) / 1000.0,
                    "event_id", "h" + k, "model", "a", "latency_ms", 100.0 + k)));
        }
        assertEquals(hours, t.user().post("/usage/import", b.append(']').toString()).json().path("imported").asInt());
        for (int k = 0; k < hours; k++) {
            long h0 = first + k * HOUR;
            JsonNode s = t.user().get("/usage/summary?from=" + (h0 + 10 * MINUTE) + "&to=" + (h0 + 50 * MINUTE)).json();
            assertEquals(1, s.path("requests").asInt(), "hour " + k);
            assertEquals(100.0 + k, s.path("latency_ms").path("max").asDouble());
        }
        assertEquals(UsageStore.MINUTE_HOURS_KEPT, madeHours(t.userId()));
        assertEquals(0, minuteCells(t.userId(), first), "the first hour made was forgotten with its cells");
        assertEquals(0, minuteCells(t.userId(), first + HOUR));
        assertTrue(minuteCells(t.userId(), first + 2 * HOUR) > 0);
        JsonNode s = t.user().get("/usage/summary?from=" + (first + 10 * MINUTE) + "&to=" + (first + 50 * MINUTE)).json();
        assertEquals(1, s.path("requests").asInt());
        assertTrue(minuteCells(t.userId(), first) > 0, "made again");
        assertEquals(UsageStore.MINUTE_HOURS_KEPT, madeHours(t.userId()));
    }

    @Test
    void aMinuteSeriesOverManyOldHoursMakesNoneAndCountsEveryRow() {
        Tenant t = Tenant.create(server);
        long start = oldHour() - 50 * HOUR;
        int n = 1_800; // 6.5 hours at 13 s
        importRows(t, start, 0, n);
        long from = start + 5 * MINUTE;
        long to = start + 6 * HOUR + 20 * MINUTE;
        JsonNode points = t.user().get("/usage?bucket=1m&from=" + from + "&to=" + to).json().path("series").get(0)
                .path("points");
        long total = 0;
        for (JsonNode p : points) {
            long a = Instant.parse(p.path("t").asText()).toEpochMilli();
            long want = IntStream.range(0, n).filter(i -> start + i * 13_000L >= a && start + i * 13_000L < a + MINUTE).count();
            assertEquals(want, p.path("requests").asLong(), "requests in the minute at " + p.path("t").asText());
            total += p.path("requests").asLong();
        }
        assertEquals(IntStream.range(0, n).filter(i -> start + i * 13_000L >= from && start + i * 13_000L < to).count(), total);
        assertEquals(0, madeHours(t.userId()), "seven old hours of minutes are read from the rows, not made");
    }

    @Test
    void theHorizonMovingOnLeavesTheMadeHoursMinuteCells() {
        Tenant t = Tenant.create(server);
        long old = oldHour() - 30 * HOUR;
        // 47 h old: minute cells now, below the horizon once the clock has moved three hours
        long nearHorizon = (CLOCK.millis() - 47 * HOUR) / HOUR * HOUR;
        importRows(t, old, 0, 100);
        importRows(t, nearHorizon, 0, 100);
        long from = old + 20 * MINUTE;
        long to = old + 40 * MINUTE;
        JsonNode before = t.user().get("/usage/summary?from=" + from + "&to=" + to).json();
        assertSummary(before, old, 100, from, to);
        assertTrue(minuteCells(t.userId(), nearHorizon) > 0);
        CLOCK.advance(Duration.ofHours(3));
        importRows(t, CLOCK.millis() - MINUTE, 0, 1); // a write moves the user's horizon (when its rows are inserted)
        UsageStore.derivePending(server.running().db());
        assertEquals(0, minuteCells(t.userId(), nearHorizon), "an hour that fell below the horizon loses its minutes");
        assertTrue(minuteCells(t.userId(), old) > 0, "the made hour keeps them");
        assertEquals(before, t.user().get("/usage/summary?from=" + from + "&to=" + to).json());
        long from2 = nearHorizon + 5 * MINUTE;
        long to2 = nearHorizon + 17 * MINUTE;
        assertSummary(t.user().get("/usage/summary?from=" + from2 + "&to=" + to2).json(), nearHorizon, 100, from2, to2);
    }
}
