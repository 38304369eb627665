package scorebook.usage;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;
import scorebook.server.ServerConfig;
import scorebook.testing.Client;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How rollup cells are kept (issue 10's write and size figures): rows older than two days get hour and day cells
 * but no minute cell from the fold, and a per-minute answer over them is the same as for recent rows (its hour's
 * minute cells made on demand: UsageMinuteHoursTest); cells
 * touched by several batches are merged (counts, sums, maxima, histograms, extras) into the same answer as one
 * batch would give.
 */
class UsageRollupsTest {
    private static final Instant NOW = Instant.parse("2026-06-15T12:00:00Z");
    private static final long MINUTE = 60_000L;

    @AutoClose
    static final TestServer server = TestServer.start(ServerConfig.local(TestServer.tempDir(), TestServer.OWNER_TOKEN)
            .withClock(Clock.fixed(NOW, ZoneOffset.UTC)));

    /** Rows {@code first..last-1}: row i at {@code start + i × 7 s}, latency 100 + i, every 5th failed. */
    private static String rows(long start, int first, int last) {
        StringBuilder b = new StringBuilder("[");
        for (int i = first; i < last; i++) {
            b.append(i == first ? "" : ",").append(Json.text(Json.fields("ts", (start + i * 7_000L) / 1000.0,
                    "event_id", "r" + start + "-" + i, "model", i % 2 == 0 ? "a" : "b", "device", "d",
                    "prompt_tokens", 1, "completion_tokens", 2, "latency_ms", 100.0 + i, "ok", i % 5 != 0,
                    "extra", Json.fields("watts", (double) i))));
        }
        return b.append(']').toString();
    }

    private static long minuteCells(long userId, long fromMs, long toMs) {
        // imports store raw rows; their cells are folded in later, or before an answer: bring them up to date
        UsageStore.foldPending(server.running().db());
        return server.running().db().read(h -> h.createQuery("""
                        SELECT count(*) FROM usage_rollups WHERE user_id = :u AND level = 0 AND t >= :a AND t < :b""")
                .bind("u", userId).bind("a", fromMs / MINUTE).bind("b", toMs / MINUTE).mapTo(long.class).one());
    }

    @Test
    void oldRowsGetNoMinuteCellsFromTheFoldAndPerMinuteAnswersOverThemAreExact() {
        Tenant t = Tenant.create(server);
        int n = 200;
        long old = NOW.toEpochMilli() - 5 * 86_400_000L;
        long recent = NOW.toEpochMilli() - 3_600_000L;
        for (long start : new long[] {old, recent}) {
            // two imports touching the same cells: the second merges into what the first stored
            assertEquals(100, t.user().post("/usage/import", rows(start, 0, 100)).json().path("imported").asInt());
            assertEquals(100, t.user().post("/usage/import", rows(start, 100, n)).json().path("imported").asInt());
        }
        long span = n * 7_000L;
        assertEquals(0, minuteCells(t.userId(), old, old + span), "rows five days old get no minute cells");
        assertTrue(minuteCells(t.userId(), recent, recent + span) > 0, "an hour-old row has its minute cells");
        for (long start : new long[] {old, recent}) {
            String range = "from=" + start + "&to=" + (start + span);
            JsonNode series = t.user().get("/usage?bucket=1m&" + range).json().path("series").get(0).path("points");
            assertEquals((span + MINUTE - 1) / MINUTE, series.size());
            for (JsonNode p : series) {
                long a = Instant.parse(p.path("t").asText()).toEpochMilli();
                long want = IntStream.range(0, n).filter(i -> start + i * 7_000L >= a && start + i * 7_000L < a + MINUTE).count();
                assertEquals(want, p.path("requests").asLong(), "requests in the minute at " + p.path("t").asText());
            }
            JsonNode s = t.user().get("/usage/summary?" + range).json();
            assertSummary(s, n);
            // hour-aligned ranges read hour cells only; they give the same answer
            long h0 = start / 3_600_000L * 3_600_000L;
            JsonNode hourly = t.user().get("/usage/summary?from=" + h0 + "&to=" + (h0 + 3 * 3_600_000L)).json();
            assertSummary(hourly, n);
        }
    }

    private static void assertSummary(JsonNode s, int n) {
        assertEquals(n, s.path("requests").asInt(), s.toString());
        assertEquals(n / 5, s.path("errors").asInt());
        assertEquals(3L * n, s.path("total_tokens").asLong());
        double[] lat = IntStream.range(0, n).mapToDouble(i -> 100.0 + i).toArray();
        assertEquals(Arrays.stream(lat).average().orElseThrow(), s.path("latency_ms").path("avg").asDouble(), 1e-6);
        assertEquals(100.0 + n - 1, s.path("latency_ms").path("max").asDouble());
        double p95 = UsageApiTest.exact(lat, 95);
        assertTrue(Math.abs(s.path("latency_ms").path("p95").asDouble() - p95) / p95 <= 0.01, s.toString());
        JsonNode w = s.path("extra").path("watts");
        assertEquals(n, w.path("n").asInt());
        assertEquals(0.0, w.path("min").asDouble());
        assertEquals(n - 1.0, w.path("max").asDouble());
    }

    @Test
    void aBadRowInAStrictImportLeavesTheCellsAsTheyWere() {
        Tenant t = Tenant.create(server);
        long start = NOW.toEpochMilli() - 2 * 3_600_000L;
        t.user().post("/usage/import", rows(start, 0, 50));
        String before = t.user().get("/usage/summary?minutes=1440").text();
        String bad = rows(start, 50, 60).replaceFirst("\"latency_ms\":[0-9.]+", "\"latency_ms\":\"fast\"");
        Client.Response r = t.user().post("/usage/import?strict=1", bad);
        assertEquals(422, r.status(), r.text());
        assertEquals(before, t.user().get("/usage/summary?minutes=1440").text());
    }
}
