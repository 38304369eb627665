package scorebook.usage;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Random;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;
import scorebook.server.ServerConfig;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The points of closed hours kept between series answers (UsageSeries, schema/019): a repeated answer equals the
 * same series made afresh (another shape of the same question: a filter every row matches), and a row folded later
 * into a kept hour shows in the next answer, in that hour's point, for hourly and daily buckets alike.
 */
class UsageSeriesTest {
    private static final Instant NOW = Instant.parse("2026-06-15T12:00:00Z");
    private static final long HOUR = 3_600_000L;
    /** Three days up to two hours before now: whole hours (kept) and a partial last hour (made each time). */
    private static final long FROM = NOW.toEpochMilli() - 72 * HOUR;
    private static final long TO = NOW.toEpochMilli() - 90 * 60_000;
    private static final String[] MODELS = {"m-a", "m-b", "m-c"};
    private static final String EVERY_DEVICE = "device=d-1,d-2";

    @AutoClose
    static final TestServer server = TestServer.start(ServerConfig.local(TestServer.tempDir(), TestServer.OWNER_TOKEN)
            .withClock(Clock.fixed(NOW, ZoneOffset.UTC)));
    static Tenant tenant;
    private static int imported;
    private static int fresh;

    @BeforeAll
    static void importRows() {
        tenant = Tenant.create(server);
        Random r = new Random(11);
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < 2_000; i++) {
            long ts = FROM + (long) (r.nextDouble() * (NOW.toEpochMilli() - 2 * HOUR - FROM));
            b.append(i == 0 ? "" : ",").append(row(ts, MODELS[r.nextInt(MODELS.length)], 100 + r.nextInt(900)));
        }
        importRows(b.append(']').toString(), 2_000);
    }

    private static String row(long ts, String model, int latency) {
        return "{\"ts\": " + ts + ", \"event_id\": \"s" + imported++ + "\", \"model\": \"" + model + "\", \"device\": \"d-"
                + (1 + imported % 2) + "\", \"prompt_tokens\": 10, \"completion_tokens\": 20, \"latency_ms\": " + latency
                + ", \"ttft_ms\": 40, \"extra\": {\"watts\": 50.5}}";
    }

    private static void importRows(String body, int n) {
        importRows(tenant, body, n);
    }

    private static void importRows(Tenant t, String body, int n) {
        JsonNode answer = t.user().post("/usage/import", body).json();
        assertEquals(n, answer.path("imported").asInt(), answer.toString());
    }

    private static JsonNode series(String query) {
        JsonNode answer = tenant.user().get("/usage?from=" + FROM + "&to=" + TO + "&" + query).json();
        assertTrue(answer.path("series").size() > 0, query + ": " + answer);
        return answer.path("series");
    }

    /** A series answered twice (the second from kept points) against the same made afresh. */
    private static JsonNode assertKeptAsMadeAfresh(String query) {
        JsonNode first = series(query);
        JsonNode again = series(query);
        assertEquals(first, again, query + ": answered again");
        // a device filter every row matches, naming a device never seen: a shape of the question not asked before
        assertEquals(series(query + "&" + EVERY_DEVICE + ",never-" + fresh++), again, query + ": made afresh");
        return again;
    }

    private static JsonNode point(JsonNode series, String model, long t) {
        for (JsonNode s : series) {
            if (model == null || model.equals(s.path("key").path("model").asText())) {
                for (JsonNode p : s.path("points")) {
                    if (Instant.parse(p.path("t").asText()).toEpochMilli() == t) {
                        return p;
                    }
                }
            }
        }
        throw new AssertionError("no point of " + model + " at " + Instant.ofEpochMilli(t) + " in " + series);
    }

    private static long requests(JsonNode series) {
        return series.findValues("requests").stream().mapToLong(JsonNode::asLong).sum();
    }

    @Test
    void keptPointsAnswerAsMadeAfreshAndARowFoldedLaterShows() {
        JsonNode hourly = assertKeptAsMadeAfresh("bucket=1h&group_by=model");
        JsonNode daily = assertKeptAsMadeAfresh("bucket=1d");
        JsonNode plain = assertKeptAsMadeAfresh("bucket=1h");
        assertEquals(2_000, requests(plain), "every row but the last 2 hours' (none) is in the range");
        assertEquals(requests(plain), requests(hourly));
        assertEquals(requests(plain), requests(daily));

        // a late row into an old, kept hour: its point changes, in the hourly and the daily answers
        long hour = FROM + 30 * HOUR;
        JsonNode before = point(hourly, "m-b", hour);
        importRows("[" + row(hour + 1_234, "m-b", 999_999) + "]", 1);
        JsonNode after = assertKeptAsMadeAfresh("bucket=1h&group_by=model");
        assertEquals(before.path("requests").asLong() + 1, point(after, "m-b", hour).path("requests").asLong());
        assertNotEquals(before.path("latency_p95_ms"), point(after, "m-b", hour).path("latency_p95_ms"));
        assertEquals(point(hourly, "m-a", hour), point(after, "m-a", hour), "another group's point stays");
        assertEquals(requests(daily) + 1, requests(assertKeptAsMadeAfresh("bucket=1d")));
        assertEquals(requests(plain) + 1, requests(assertKeptAsMadeAfresh("bucket=1h")));
    }

    @Test
    void anotherUserAskingTheSameSeriesSeesOnlyTheirOwnPoints() {
        Tenant one = Tenant.create(server);
        Tenant other = Tenant.create(server);
        long hour = FROM + 40 * HOUR;
        // one fold takes both users' rows (the first answer folds what is pending), so their marks on that hour are
        // the same: only the user in what is kept tells the two apart
        importRows(one, "[" + row(hour + 5, "m-a", 123) + "," + row(hour + 6, "m-a", 124) + "]", 2);
        importRows(other, "[" + row(hour + 7, "m-a", 456) + "]", 1);
        String hourly = "/usage?from=" + FROM + "&to=" + TO + "&bucket=1h";
        JsonNode mine = one.user().get(hourly).json().path("series");
        assertEquals(mine, one.user().get(hourly).json().path("series"), "kept");
        assertEquals(2, requests(mine));
        JsonNode theirs = other.user().get(hourly).json().path("series");
        assertEquals(1, requests(theirs), "their one row");
        assertEquals(456.0, point(theirs, null, hour).path("latency_avg_ms").asDouble());
    }

    @Test
    void whatIsKeptStaysWithinItsBoundAndAnswersAsBefore() {
        UsageQueries queries = new UsageQueries(server.running().db());
        UsageFilter f = new UsageFilter(FROM, TO, java.util.Map.of(), null, java.util.List.of());
        java.util.List<Long> starts = new java.util.ArrayList<>();
        long[] edges = UsageAnswers.edges(FROM, TO, "1h", ZoneOffset.UTC, starts);
        java.util.function.Function<UsageSeries, String> answer = s -> Json.text(s.series(tenant.userId(), f,
                java.util.List.of("model"), edges, starts, 20, NOW.toEpochMilli()).stream()
                .map(g -> Json.fields("key", g.key(), "points", g.json())).toList());
        UsageSeries unbounded = new UsageSeries(queries, UsageSeries.KEPT_CHARS);
        String expected = answer.apply(unbounded);
        assertTrue(unbounded.keptChars() > 20_000, "about 70 hours by three models kept: " + unbounded.keptChars());
        UsageSeries small = new UsageSeries(queries, 20_000);
        for (int i = 0; i < 3; i++) {
            assertEquals(expected, answer.apply(small), "answer " + i);
            assertTrue(small.keptChars() > 0 && small.keptChars() <= 20_000, "kept " + small.keptChars());
        }
    }

    @Test
    void moreGroupsThanTopAddTheRestUpAsOther() {
        JsonNode top = series("bucket=1h&group_by=model&top=1");
        assertEquals(2, top.size(), top.toString());
        assertEquals("other", top.get(1).path("key").path("model").asText());
        assertEquals(requests(series("bucket=1h&group_by=model")), requests(top));
    }

    @Test
    void aRangeWithoutRowsHasEmptyPoints() {
        JsonNode answer = tenant.user().get("/usage?from=" + (FROM - 48 * HOUR) + "&to=" + (FROM - 24 * HOUR)
                + "&bucket=1h").json().path("series");
        assertEquals(1, answer.size(), answer.toString());
        assertEquals(24, answer.get(0).path("points").size());
        assertEquals(0, requests(answer));
        assertEquals(answer, tenant.user().get("/usage?from=" + (FROM - 48 * HOUR) + "&to=" + (FROM - 24 * HOUR)
                + "&bucket=1h").json().path("series"), "answered again");
        // a job_id filter reads raw rows of those jobs, nothing kept: the same empty group
        JsonNode ofAJob = tenant.user().get("/usage?from=" + (FROM - 48 * HOUR) + "&to=" + (FROM - 24 * HOUR)
                + "&bucket=1h&job_id=job_none").json().path("series");
        assertEquals(answer, ofAJob);
    }
}
