package scorebook.usage;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import scorebook.store.Database;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Rows are inserted in time order (rows of one millisecond as given), and the answer stays in the caller's order. */
class UsageInsertOrderTest {
    @AutoClose
    static final TestServer server = TestServer.start();

    private static UsageStore.Row row(long ts, String id, String model) {
        return new UsageStore.Row(1, null, ts, "import", id, "gpu-1", model, null, 1, 2, 30.0, null, null, true, null,
                null, null, null, null);
    }

    @Test
    void timeOrderIsAStableSortByTime() {
        Random r = new Random(5);
        for (long span : new long[] {1, 50, 1_000_000_000L, Long.MAX_VALUE / 2}) {
            List<UsageStore.Row> rows = new ArrayList<>();
            for (int i = 0; i < 2_000; i++) {
                rows.add(row(1_000_000_000_000L + (long) (r.nextDouble() * span), "e" + i, "m"));
            }
            int[] want = IntStream.range(0, rows.size()).boxed()
                    .sorted(Comparator.comparingLong(i -> rows.get(i).tsMs())).mapToInt(Integer::intValue).toArray();
            assertArrayEquals(want, UsageStore.timeOrder(rows), "span " + span);
        }
        assertArrayEquals(new int[] {0, 1, 2}, UsageStore.timeOrder(List.of(row(1, "a", "m"), row(1, "b", "m"), row(2, "c", "m"))));
        assertArrayEquals(new int[] {1, 0}, UsageStore.timeOrder(List.of(row(Long.MAX_VALUE, "a", "m"), row(Long.MIN_VALUE, "b", "m"))));
    }

    @Test
    void theFirstCopyOfAnEventIsStoredAndTheAnswerIsInTheCallersOrder() throws Exception {
        Database db = server.running().db();
        long user = scorebook.testing.Tenant.create(server).userId();
        long t = System.currentTimeMillis() - 60_000;
        List<UsageStore.Row> rows = List.of(row(t + 5, "late", "m"), row(t, "x", "first"), row(t, "x", "second"),
                row(t + 1, "y", "m")).stream().map(x -> mine(user, x)).toList();
        boolean[] inserted = db.write(h -> UsageStore.insert(h, rows, t));
        assertArrayEquals(new boolean[] {true, true, false, true}, inserted);
        assertEquals(List.of("x:first", "y:m", "late:m"), db.read(h -> h.createQuery(
                "SELECT request_id || ':' || model FROM usage_events WHERE user_id = ? ORDER BY id").bind(0, user)
                .mapTo(String.class).list()), "ids in time order");
    }

    @Test
    void rowsAlreadyStoredOrRepeatedAreSkippedInsideAndAcrossStatements() throws Exception {
        Database db = server.running().db();
        long user = scorebook.testing.Tenant.create(server).userId();
        long t = System.currentTimeMillis() - 3_600_000;
        int n = 2 * UsageStore.ROWS_A_STATEMENT + 10; // two whole statements, then one of ten rows
        int storedInFirst = 5;
        int repeated = UsageStore.ROWS_A_STATEMENT + 7;
        int storedInRest = n - 3;
        db.write(h -> UsageStore.insert(h, List.of(mine(user, row(t + storedInFirst, "e" + storedInFirst, "old")),
                mine(user, row(t + storedInRest, "e" + storedInRest, "old"))), t));
        List<UsageStore.Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            // the repeated event: the same time and id as the row before it
            int event = i == repeated ? i - 1 : i;
            rows.add(mine(user, row(t + event, "e" + event, i == repeated ? "second" : "new")));
        }
        boolean[] inserted = db.write(h -> UsageStore.insert(h, rows, t));
        boolean[] want = new boolean[n];
        java.util.Arrays.fill(want, true);
        want[storedInFirst] = false;
        want[repeated] = false;
        want[storedInRest] = false;
        assertArrayEquals(want, inserted);
        List<String> stored = db.read(h -> h.createQuery(
                "SELECT request_id || ':' || model FROM usage_events WHERE user_id = ? ORDER BY ts_ms, id")
                .bind(0, user).mapTo(String.class).list());
        assertEquals(n - 1, stored.size(), "one row per event");
        assertEquals("e5:old", stored.get(storedInFirst));
        assertEquals("e" + (repeated - 1) + ":new", stored.get(repeated - 1));
        assertEquals("e" + (repeated + 1) + ":new", stored.get(repeated), "the repeat was not stored");
        assertEquals("e" + storedInRest + ":old", stored.get(storedInRest - 1));
    }

    private static UsageStore.Row mine(long user, UsageStore.Row x) {
        return new UsageStore.Row(user, null, x.tsMs(), x.sourceKind(), x.requestId(), x.device(), x.model(), null, 1, 2,
                30.0, null, null, true, null, null, null, null, null);
    }
}
