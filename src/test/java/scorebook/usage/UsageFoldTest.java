package scorebook.usage;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.auth.Tokens;
import scorebook.server.ServerConfig;
import scorebook.store.Database;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Rollups folded off the request path (issue 10's write figures): writes store raw rows, the fold adds them to
 * their cells later, and answers stay exact: rows still pending are folded before an answer, a row is folded
 * once (also when rows are appended while folding, when a fold fails half-way, and across a restart), and
 * retention deletes only folded rows, whose cells keep their values. The pending states are set up on the
 * database file without a running server (whose background fold would fold them at a moment of its choosing);
 * the restart case then starts a real server on that file.
 */
class UsageFoldTest {
    private static final Instant NOW = Instant.parse("2026-06-15T12:00:00Z");
    private static final long HOUR = 3_600_000L;
    private static final long DAY = 24 * HOUR;
    private static final String TOKEN = "sbu_fold-test-user";

    private Path dir;
    private Database db;
    private long user;

    @BeforeEach
    void open() {
        dir = TestServer.tempDir();
        db = Database.open(dir);
        user = db.write(h -> h.createQuery("""
                        INSERT INTO users (name, token_hash, created_at) VALUES ('u', :hash, '2026-01-01T00:00:00.000Z')
                        RETURNING id""").bind("hash", Tokens.hash(TOKEN)).mapTo(long.class).one());
    }

    @AfterEach
    void close() {
        if (db != null) {
            db.close();
        }
        TestServer.deleteTree(dir);
    }

    /** Row i of a set: spread over the five days before NOW (old rows get no minute cells), every 7th failed. */
    private UsageStore.Row row(String set, int i, int of) {
        long ts = NOW.toEpochMilli() - 5 * DAY + (long) i * (5 * DAY - 1) / of;
        boolean ok = i % 7 != 0;
        return new UsageStore.Row(user, null, ts, "import", set + "-" + i, "d" + i % 3, "m" + i % 2, null, 10 + i % 5,
                ok ? 20 : null, 100.0 + i % 89, ok ? 10.0 + i % 13 : null, ok ? 30.0 + i % 7 : null, ok,
                ok ? null : "upstream_error", null,
                null, null, "{\"watts\": " + (i % 40) + "}");
    }

    private List<UsageStore.Row> rows(String set, int n) {
        List<UsageStore.Row> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(row(set, i, n));
        }
        return out;
    }

    /** The bulk insert a fold makes of staged imports, in a transaction of its own. */
    private int insert(List<UsageStore.Row> rows) throws java.sql.SQLException {
        return db.writeParentsChecked(h -> UsageStore.insertChecked(h, rows, NOW.toEpochMilli()));
    }

    private UsageStore store() {
        return new UsageStore(db, Clock.fixed(NOW, ZoneOffset.UTC));
    }

    /** The ten days before NOW and the day after, in whole hours (so the answer is read from hour and day cells). */
    private static UsageFilter whole() {
        return UsageFilter.parse(name -> switch (name) {
            case "from" -> List.of(String.valueOf(NOW.toEpochMilli() - 10 * DAY));
            case "to" -> List.of(String.valueOf(NOW.toEpochMilli() + DAY));
            default -> List.of();
        }, "", Clock.fixed(NOW, ZoneOffset.UTC));
    }

    /** What the raw rows add up to, computed by SQLite over usage_events: requests, errors, tokens, latency sum and max. */
    private List<Object> exact() {
        return db.read(h -> h.createQuery("""
                        SELECT count(*), sum(1 - ok), sum(coalesce(prompt_tokens, 0) + coalesce(completion_tokens, 0)),
                               sum(latency_ms), max(latency_ms), count(ttft_ms), sum(ttft_ms)
                        FROM usage_events WHERE user_id = :u""").bind("u", user)
                .map((rs, ctx) -> List.<Object>of(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getDouble(4),
                        rs.getDouble(5), rs.getLong(6), rs.getDouble(7))).one());
    }

    /** {@link #exact()} over the rows in {@code [from, to)}, with tokens/s count and sum and the extras' count. */
    private List<Object> exactIn(long from, long to) {
        return db.read(h -> h.createQuery("""
                        SELECT count(*), sum(1 - ok), sum(coalesce(prompt_tokens, 0) + coalesce(completion_tokens, 0)),
                               total(latency_ms), max(latency_ms), count(ttft_ms), total(ttft_ms), count(tok_s),
                               total(tok_s), count(extra)
                        FROM usage_events WHERE user_id = :u AND ts_ms >= :from AND ts_ms < :to""")
                .bind("u", user).bind("from", from).bind("to", to)
                .map((rs, ctx) -> List.<Object>of(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getDouble(4),
                        rs.getDouble(5), rs.getLong(6), rs.getDouble(7), rs.getLong(8), rs.getDouble(9), rs.getLong(10)))
                .one());
    }

    /** The same figures answered for {@code [from, to)}. */
    private List<Object> answeredIn(long from, long to) {
        UsageFilter f = UsageFilter.parse(name -> switch (name) {
            case "from" -> List.of(String.valueOf(from));
            case "to" -> List.of(String.valueOf(to));
            default -> List.of();
        }, "", Clock.fixed(NOW, ZoneOffset.UTC));
        Tally t = new UsageQueries(db).total(user, f, true);
        return List.of(t.requests, t.requests - t.okRequests, t.promptTokens + t.completionTokens, t.latencySum,
                t.latencyMax, t.ttftN, t.ttftSum, t.tokSN, t.tokSSum, (long) t.extra.getOrDefault("watts", new Tally.Extra()).n);
    }

    /** The same figures from an answer (the rollups). */
    private List<Object> answered() {
        Tally t = new UsageQueries(db).total(user, whole(), true);
        return List.of(t.requests, t.requests - t.okRequests, t.promptTokens + t.completionTokens, t.latencySum,
                t.latencyMax, t.ttftN, t.ttftSum);
    }

    /** Requests in the user's cells of one level (each row is in exactly one cell per level it has). */
    private long cellRequests(int level) {
        return db.read(h -> h.createQuery("SELECT coalesce(sum(requests), 0) FROM usage_rollups WHERE user_id = :u AND level = :l")
                .bind("u", user).bind("l", level).mapTo(long.class).one());
    }

    private static void assertSameFigures(List<Object> want, List<Object> got) {
        assertEquals(want.size(), got.size());
        for (int i = 0; i < want.size(); i++) {
            if (want.get(i) instanceof Double w) {
                assertEquals(w, (Double) got.get(i), Math.abs(w) * 1e-12, "figure " + i + " of " + got);
            } else {
                assertEquals(want.get(i), got.get(i), "figure " + i + " of " + got);
            }
        }
    }

    @Test
    void pendingRowsAreFoldedBeforeAnAnswerAndTheAnswerStaysTheSameOnceFolded() {
        UsageStore store = store();
        store.insertNow(rows("a", 3_000));
        assertTrue(UsageStore.pending(db) >= 3_000, "a write stores raw rows only");
        assertEquals(0, cellRequests(2), "no cell is written on the request path");
        List<Object> first = answered();
        assertSameFigures(exact(), first);
        assertEquals(0, UsageStore.pending(db), "the answer folded what was pending");
        assertEquals(3_000, cellRequests(1));
        assertEquals(3_000, cellRequests(2));
        // more rows touching the same cells: merged into the stored cells, the answer is again the raw rows' sums
        store.insertNow(rows("b", 1_000));
        assertSameFigures(exact(), answered());
        assertSameFigures(answered(), answered());
        assertEquals(4_000, cellRequests(2));
        // the minute cells exist for the last two days only, and count each of those rows once
        long recent = db.read(h -> h.createQuery("SELECT count(*) FROM usage_events WHERE user_id = :u AND ts_ms >= "
                + "(SELECT t * 60000 FROM usage_minute_horizon WHERE user_id = :u)").bind("u", user).mapTo(long.class).one());
        assertTrue(recent > 0 && recent < 4_000, "recent rows: " + recent);
        assertEquals(recent, cellRequests(0));
        // and so do their cuts (schema/016): levels 3, 6, ... 18
        for (int cut = 1; cut < UsageStore.CUT_KEEPS.size(); cut++) {
            assertEquals(recent, cellRequests(UsageStore.cutLevel(0, cut)), "minute cut " + cut);
        }
    }

    @Test
    void minuteCellsAndTheirCutsGoTogetherWhenTheHorizonMoves() {
        store().insertNow(rows("a", 3_000));
        answered();
        assertTrue(cellRequests(0) > 0 && cellRequests(UsageStore.cutLevel(0, 2)) > 0);
        // three days on, a new row moves the horizon past every minute cell written so far
        Instant later = NOW.plusMillis(3 * DAY);
        new UsageStore(db, Clock.fixed(later, ZoneOffset.UTC)).insertNow(List.of(new UsageStore.Row(user, null,
                later.toEpochMilli(), "import", "late", "d0", "m0", null, 1, 1, 50.0, null, null, true, null, null,
                null, null, null)));
        answered();
        long minuteFamily = db.read(h -> h.createQuery(
                "SELECT coalesce(sum(requests), 0) FROM usage_rollups WHERE user_id = :u AND level % 3 = 0")
                .bind("u", user).mapTo(long.class).one());
        assertEquals(UsageStore.CUT_KEEPS.size(), minuteFamily, "only the new row's minute cell and its six cuts are left");
        assertEquals(3_001, cellRequests(2), "the hour and day cells keep every row");
    }

    @Test
    void rangesStartingAndEndingInsideMinutesAndOldHoursAddUpTheirRawRowsExactly() {
        store().insertNow(rows("a", 3_000));
        // more than two days back (no minute cells: the partial hours come from raw rows) and inside the last two days
        long[][] ranges = {{NOW.toEpochMilli() - 4 * DAY + 1_234_567, NOW.toEpochMilli() - 3 * DAY - 2_345_678},
            {NOW.toEpochMilli() - DAY + 30_001, NOW.toEpochMilli() - 7_777}, {NOW.toEpochMilli() - 5 * DAY, NOW.toEpochMilli()}};
        for (long[] r : ranges) {
            List<Object> want = exactIn(r[0], r[1]);
            assertTrue((long) want.getFirst() > 100 && (long) want.get(5) > 0 && (long) want.get(7) > 0, want.toString());
            assertSameFigures(want, answeredIn(r[0], r[1]));
        }
    }

    @Test
    void aDuplicateSkippedOnInsertIsNotFoldedAndTheAnswerCountsItOnce() throws Exception {
        assertEquals(500, insert(rows("a", 500)));
        assertEquals(0, insert(rows("a", 500)), "the same events again are duplicates");
        assertEquals(500L, answered().getFirst());
        assertEquals(500, cellRequests(2));
    }

    @Test
    void rowsAppendedWhileFoldingAreEachFoldedExactlyOnce() throws Exception {
        UsageStore store = store();
        AtomicBoolean writing = new AtomicBoolean(true);
        try (ExecutorService pool = Executors.newFixedThreadPool(2)) {
            Future<?> writer = pool.submit(() -> {
                for (int b = 0; b < 16; b++) {
                    store.insertNow(rows("w" + b, 250));
                }
                writing.set(false);
                return null;
            });
            Future<?> folder = pool.submit(() -> {
                // small folds, interleaved with the writer's transactions at whatever moments the threads meet
                while (writing.get()) {
                    if (db.write(h -> UsageStore.fold(h, 97)) == 0) {
                        Thread.yield();
                    }
                }
                return null;
            });
            writer.get();
            folder.get();
        }
        UsageStore.foldPending(db);
        assertEquals(4_000, cellRequests(1), "every row in exactly one hour cell");
        assertEquals(4_000, cellRequests(2), "every row in exactly one day cell");
        assertSameFigures(exact(), answered());
    }

    @Test
    void aFoldThatFailsHalfWayChangesNothingAndTheNextFoldCountsEachRowOnce() {
        UsageStore store = store();
        store.insertNow(rows("a", 2_000));
        UsageStore.foldPending(db);
        store.insertNow(rows("b", 2_000));
        long pending = UsageStore.pending(db);
        // the cells are written, then the transaction fails before it commits (a crash would lose it the same way)
        assertThrows(IllegalStateException.class, () -> db.write(h -> {
            UsageStore.fold(h, UsageStore.FOLD_CHUNK);
            throw new IllegalStateException("crash before the commit");
        }));
        assertEquals(pending, UsageStore.pending(db), "the watermark did not move");
        assertEquals(2_000, cellRequests(2), "the cells did not change");
        assertSameFigures(exact(), answered());
        assertEquals(4_000, cellRequests(2));
    }

    @Test
    void aServerStartedOnRowsLeftPendingAnswersThemExactly() throws Exception {
        store().insertNow(rows("a", 1_000));
        List<Object> want = exact();
        assertTrue(UsageStore.pending(db) > 0);
        db.close();
        db = null;
        try (TestServer server = TestServer.start(ServerConfig.local(dir, TestServer.OWNER_TOKEN)
                .withClock(Clock.fixed(NOW, ZoneOffset.UTC)))) {
            JsonNode s = server.client(TOKEN).get("/usage/summary?from=" + (NOW.toEpochMilli() - 10 * DAY) + "&to="
                    + (NOW.toEpochMilli() + DAY)).json();
            assertEquals(want.get(0), s.path("requests").asLong(), s.toString());
            assertEquals(want.get(1), s.path("errors").asLong());
            assertEquals(want.get(2), s.path("total_tokens").asLong());
            assertEquals((Double) want.get(4), s.path("latency_ms").path("max").asDouble());
            assertEquals(0, UsageStore.pending(server.running().db()));
        }
    }

    @Test
    void retentionFoldsBeforeItDeletesSoTheCellsKeepTheDeletedRows() {
        UsageStore store = store();
        store.insertNow(rows("a", 2_000));
        List<Object> before = exact();
        assertTrue(UsageStore.pending(db) > 0, "the rows are still pending when retention runs");
        long cutoff = NOW.toEpochMilli() - 2 * DAY;
        int deleted = 0;
        for (int n = 1; n > 0; deleted += n) {
            n = store.deleteRawBefore(user, cutoff, 500);
        }
        assertTrue(deleted > 500, "deleted " + deleted);
        assertEquals(0, UsageStore.pending(db));
        assertSameFigures(before, answered());
    }

    @Test
    void idsOfDeletedRowsAtTheTopAreNotGivenAgainSoNewRowsAreFolded() {
        UsageStore store = store();
        store.insertNow(rows("recent", 100).stream().map(r -> withTs(r, NOW.toEpochMilli() - HOUR)).toList());
        // back-dated rows come last: they hold the largest ids, and retention deletes them
        store.insertNow(rows("old", 100).stream().map(r -> withTs(r, NOW.toEpochMilli() - 30 * DAY)).toList());
        UsageStore.foldPending(db);
        long top = db.read(h -> h.createQuery("SELECT max(id) FROM usage_events").mapTo(long.class).one());
        assertEquals(100, store.deleteRawBefore(user, NOW.toEpochMilli() - 10 * DAY, 1_000));
        store.insertNow(rows("new", 50).stream().map(r -> withTs(r, NOW.toEpochMilli() - 2 * HOUR)).toList());
        long lowest = db.read(h -> h.createQuery("SELECT min(id) FROM usage_events WHERE request_id LIKE 'new-%'")
                .mapTo(long.class).one());
        assertTrue(lowest > top, "new rows take ids above the deleted ones: " + lowest + " vs " + top);
        UsageStore.foldPending(db);
        assertEquals(250, cellRequests(2), "every row, the deleted ones included, is in its day cell once");
    }

    private static UsageStore.Row withTs(UsageStore.Row r, long ts) {
        return new UsageStore.Row(r.userId(), r.apiKeyId(), ts, r.sourceKind(), r.requestId(), r.device(), r.model(),
                r.tag(), r.promptTokens(), r.completionTokens(), r.latencyMs(), r.ttftMs(), r.tokS(), r.ok(),
                r.errorType(), r.errorMessage(), r.jobId(), r.promptPreview(), r.extra(), r.tenant(), r.dataset(),
                r.hardware());
    }
}
