package scorebook.bench;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

import scorebook.testing.CrashAndLoad;

/**
 * The jar killed with SIGKILL at random moments under mixed load, 20 times, and 32 clients over read and write
 * endpoints for a minute: what CrashIT checks briefly, at length.
 */
public final class CrashBench implements Benchmark {
    private static final int CYCLES = 20;
    private static final Duration LOAD = Duration.ofSeconds(60);

    @Override
    public String name() {
        return "crash";
    }

    @Override
    public List<Row> run() throws Exception {
        CrashAndLoad.CrashFigures c = CrashAndLoad.crashCycles(CYCLES, 42, Duration.ofSeconds(6));
        System.err.println("bench: crash " + c);
        CrashAndLoad.LoadFigures l = CrashAndLoad.load(32, Duration.ofSeconds(5), LOAD);
        System.err.println("bench: load " + l);
        boolean crashOk = c.missing() == 0 && c.leftRunning() == 0 && c.integrity().isEmpty();
        boolean loadOk = l.serverErrors() == 0 && l.busy() == 0 && l.failures() == 0;
        double rate = l.requests() / l.seconds();
        return List.of(
                new Row("kill -9 cycles: acknowledged writes lost", CYCLES + " cycles, " + c.acknowledged() + " writes",
                        c.missing(), c.missing(), "rows", c.gatewayCalls() + " gateway calls", "0 lost, 0 running, ok",
                        crashOk),
                new Row("32 clients: 5xx + SQLITE_BUSY + no answer", l.requests() + " requests",
                        l.serverErrors() + l.busy() + l.failures(), l.serverErrors() + l.busy() + l.failures(), "errors",
                        String.format(Locale.ROOT, "%,.0f req/s", rate), "0", loadOk),
                new Row("heap after full GC, before → after load", LOAD.toSeconds() + " s of load", l.heapBeforeMb(), l.heapAfterMb(),
                        "MB", "", "after ≤ before + 32", l.heapAfterMb() <= l.heapBeforeMb() + 32));
    }
}
