package scorebook.usage;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.ServerConfig;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Series read from the cuts of the rollups (schema/015 and 016: cells added up over all dimensions but one)
 * equal the same series read from the full cells, for every cut, with a filter, over minute, hour and day cells, after
 * more rows are folded into cuts already stored, and after the cuts of an older database are made from its cells.
 * The full cells are forced by a filter on a second dimension that every row matches.
 */
class UsageCutsTest {
    private static final Instant NOW = Instant.parse("2026-06-15T12:00:00Z");
    private static final long HOUR = 3_600_000L;
    private static final String[] MODELS = {"m-a", "m-b", "m-c"};
    private static final String[] DEVICES = {"d-1", "d-2"};
    private static final String[] TAGS = {"t-x", "t-y"};
    private static final String[] TENANTS = {"acme", "globex"};
    /** Twelve days ending two days before now: hour and day cells only. */
    private static final long FROM = NOW.toEpochMilli() - 14 * 24 * HOUR;
    private static final long TO = FROM + 12 * 24 * HOUR;
    /** The six hours before now: minute cells (schema/016 cuts them too). */
    private static final long RECENT_FROM = NOW.toEpochMilli() - 6 * HOUR;
    private static final String ALL_TAGS = "tag=t-x,t-y";
    private static final String ALL_MODELS = "model=m-a,m-b,m-c";

    @AutoClose
    static final TestServer server = TestServer.start(ServerConfig.local(TestServer.tempDir(), TestServer.OWNER_TOKEN)
            .withClock(Clock.fixed(NOW, ZoneOffset.UTC)));
    static Tenant tenant;

    @BeforeAll
    static void importRows() {
        tenant = Tenant.create(server);
        importRows(1, 1_500, FROM, TO);
        importRows(3, 600, RECENT_FROM, NOW.toEpochMilli());
    }

    /** Rows spread over a range; values are multiples of 1/4, so sums are exact in any order of addition. */
    private static void importRows(int seed, int n, long from, long to) {
        Random r = new Random(seed);
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < n; i++) {
            long ts = from + (long) (r.nextDouble() * (to - from));
            double latency = Math.round(Math.exp(6 + r.nextGaussian()) * 4) / 4.0;
            b.append(i == 0 ? "" : ",").append("{\"ts\": ").append(ts).append(", \"event_id\": \"c").append(seed).append('-')
                    .append(i).append("\", \"source_kind\": \"").append(i % 5 == 0 ? "job" : "gateway")
                    .append("\", \"model\": \"").append(MODELS[r.nextInt(MODELS.length)])
                    .append("\", \"device\": \"").append(DEVICES[r.nextInt(DEVICES.length)])
                    .append("\", \"tag\": \"").append(TAGS[r.nextInt(TAGS.length)])
                    .append("\", \"tenant\": \"").append(TENANTS[r.nextInt(TENANTS.length)])
                    .append("\", \"prompt_tokens\": ").append(10 + r.nextInt(50))
                    .append(", \"completion_tokens\": ").append(20 + r.nextInt(90))
                    .append(", \"latency_ms\": ").append(latency)
                    .append(", \"ttft_ms\": ").append(Math.min(latency, 5 + r.nextInt(100)))
                    .append(", \"ok\": ").append(r.nextInt(10) != 0)
                    .append(", \"extra\": {\"watts\": ").append(40 + r.nextInt(30)).append(".5}}");
        }
        JsonNode answer = tenant.user().post("/usage/import", b.append(']').toString()).json();
        assertEquals(n, answer.path("imported").asInt(), answer.toString());
    }

    private static JsonNode series(String query) {
        String range = query.contains("bucket=1h") || query.contains("bucket=1d") ? "from=" + FROM + "&to=" + TO
                : "from=" + RECENT_FROM + "&to=" + NOW.toEpochMilli();
        JsonNode answer = tenant.user().get("/usage?" + range + "&" + query).json();
        assertTrue(answer.path("series").size() > 0, query + ": " + answer);
        return answer.path("series");
    }

    /** The series of {@code query} (read from a cut) against the same with {@code widen} (read from the full cells). */
    private static void assertSameAsFullCells(String query, String widen) {
        assertEquals(series(query + "&" + widen), series(query), query);
    }

    private static void assertEveryCutAnswersAsTheFullCells() {
        for (String bucket : List.of("bucket=1h", "bucket=1d", "bucket=15m", "bucket=1m")) {
            assertSameAsFullCells(bucket, ALL_TAGS + "&" + ALL_MODELS);
            assertSameAsFullCells(bucket + "&group_by=model", ALL_TAGS);
            assertSameAsFullCells(bucket + "&group_by=device", ALL_TAGS);
            assertSameAsFullCells(bucket + "&group_by=tenant", ALL_TAGS);
            assertSameAsFullCells(bucket + "&group_by=tag", ALL_MODELS);
            assertSameAsFullCells(bucket + "&group_by=source_kind", ALL_TAGS + "&" + ALL_MODELS);
            assertSameAsFullCells(bucket + "&group_by=ok", ALL_TAGS + "&" + ALL_MODELS);
            assertSameAsFullCells(bucket + "&model=m-b", ALL_TAGS);
            assertSameAsFullCells(bucket + "&group_by=device&device=d-2&source_kind=job&ok=true", ALL_TAGS);
        }
    }

    @Test
    void seriesFromCutsEqualTheFullCellsAlsoAfterMoreRowsAreFolded() {
        assertEveryCutAnswersAsTheFullCells();
        long requests = series("bucket=1d").get(0).path("points").findValues("requests").stream()
                .mapToLong(JsonNode::asLong).sum();
        importRows(2, 700, FROM, TO);
        importRows(4, 300, RECENT_FROM, NOW.toEpochMilli());
        assertEveryCutAnswersAsTheFullCells();
        long after = series("bucket=1d").get(0).path("points").findValues("requests").stream()
                .mapToLong(JsonNode::asLong).sum();
        assertEquals(requests + 700, after);
    }

    /** A summary over everything (read from the cut that keeps no dimension) against the same from the full cells. */
    private static void assertSummaryAsFromTheFullCells(String range) {
        com.fasterxml.jackson.databind.node.ObjectNode fromCut = (com.fasterxml.jackson.databind.node.ObjectNode)
                tenant.user().get("/usage/summary?" + range).json();
        com.fasterxml.jackson.databind.node.ObjectNode fromCells = (com.fasterxml.jackson.databind.node.ObjectNode)
                tenant.user().get("/usage/summary?" + range + "&" + ALL_TAGS + "&" + ALL_MODELS).json();
        fromCut.remove("filters");
        fromCells.remove("filters");
        assertEquals(fromCells, fromCut, range);
        assertEquals(DEVICES.length, fromCut.path("devices_active").asInt(), fromCut.toString());
        assertTrue(fromCut.path("requests").asLong() > 0, fromCut.toString());
    }

    @Test
    void aSummaryOfEverythingFromTheCutEqualsTheFullCells() {
        // whole days and hours, the minute cells of the last hours, and ranges starting inside a minute (raw rows)
        assertSummaryAsFromTheFullCells("from=" + FROM + "&to=" + TO);
        assertSummaryAsFromTheFullCells("from=" + (FROM + 3_700_123) + "&to=" + (TO - 1_234_567));
        assertSummaryAsFromTheFullCells("from=" + RECENT_FROM + "&to=" + NOW.toEpochMilli());
        assertSummaryAsFromTheFullCells("from=" + (FROM + 61_001) + "&to=" + NOW.toEpochMilli());
        assertSummaryAsFromTheFullCells("from=" + FROM + "&to=" + NOW.toEpochMilli() + "&ok=false&source_kind=job");
    }

    @Test
    void theCutsOfCellsStoredBeforeThemAreMadeOnce() {
        String byModel = "bucket=1h&group_by=model";
        JsonNode before = series(byModel);
        JsonNode minutesBefore = series("bucket=15m&group_by=device");
        // a database from before schema/015 and 016: full cells only, and cuts not made
        server.running().db().write(h -> {
            h.execute("DELETE FROM usage_rollups WHERE level >= 3");
            return h.execute("UPDATE usage_fold SET cuts_built = 0");
        });
        assertEquals(before, series(byModel));
        assertEquals(before, series(byModel + "&" + ALL_TAGS));
        assertEquals(minutesBefore, series("bucket=15m&group_by=device"));
        long cutCells = server.running().db().read(h -> h.createQuery(
                "SELECT count(*) FROM usage_rollups WHERE level >= 3").mapTo(long.class).one());
        assertTrue(cutCells > 0);
        assertEquals(1, (int) server.running().db().read(h -> h.createQuery("SELECT cuts_built FROM usage_fold")
                .mapTo(int.class).one()));
        assertEveryCutAnswersAsTheFullCells();
    }
}
