package scorebook.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code ./run.sh bench [NAME]}: runs the benchmarks (all, or those whose name contains NAME) and
 * prints one table. Exit code 1 when a figure misses its target.
 */
public final class Bench {
    /** Every benchmark; add new ones here. */
    private static final List<Benchmark> ALL = List.of(
            new StartupBench(),
            new EvalsBench(),
            new RunnerBench(),
            new LlmRunnerBench(),
            new RowsBench(),
            new GatewayBench(),
            new CrashBench(),
            new UsageBench(),
            new JobsBench(),
            new DashboardBench(),
            new UsageDashboardBench(),
            new JobsPageBench(),
            new BackupBench(),
            new MetricsBench());

    private Bench() {
    }

    public static void main(String[] args) throws Exception {
        String filter = args.length > 0 ? args[0] : "";
        List<Benchmark.Row> rows = new ArrayList<>();
        // a benchmark named exactly so runs alone ("usage" is also part of "dashboard-usage")
        boolean exact = ALL.stream().anyMatch(b -> b.name().equals(filter));
        for (Benchmark b : ALL) {
            if (exact ? b.name().equals(filter) : b.name().contains(filter)) {
                System.err.println("bench: running " + b.name() + " ...");
                rows.addAll(b.run());
            }
        }
        if (rows.isEmpty()) {
            System.err.println("bench: no benchmark matches '" + filter + "'");
            System.exit(2);
        }
        print(rows);
        System.exit(rows.stream().allMatch(Benchmark.Row::met) ? 0 : 1);
    }

    private static void print(List<Benchmark.Row> rows) {
        String fmt = "| %-44s | %-18s | %10s | %10s | %-18s | %-14s | %-4s |%n";
        System.out.printf(Locale.ROOT, "Machine: %d cores, Java %s, %s%n", Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"), System.getProperty("os.name"));
        System.out.printf(Locale.ROOT, fmt, "benchmark", "work", "p50", "p95", "throughput", "target", "met");
        System.out.printf(Locale.ROOT, fmt, "-".repeat(44), "-".repeat(18), "-".repeat(10), "-".repeat(10), "-".repeat(18),
                "-".repeat(14), "-".repeat(4));
        for (Benchmark.Row r : rows) {
            System.out.printf(Locale.ROOT, fmt, r.name(), r.work(), String.format(Locale.ROOT, "%.2f %s", r.p50(), r.unit()),
                    String.format(Locale.ROOT, "%.2f %s", r.p95(), r.unit()), r.throughput(), r.target(), r.met() ? "yes" : "NO");
        }
    }
}
