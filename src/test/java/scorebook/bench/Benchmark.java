package scorebook.bench;

import java.util.List;

/** One benchmark: runs its work and returns rows for the table. */
public interface Benchmark {
    /** Short name; {@code ./run.sh bench NAME} runs those whose name contains NAME. */
    String name();

    List<Row> run() throws Exception;

    /**
     * A line of the table.
     *
     * @param name       what was measured
     * @param work       the work size, e.g. "10,000 rows"
     * @param p50        median, in the unit
     * @param p95        95th percentile, in the unit
     * @param unit       "ms", "MB", ...
     * @param throughput e.g. "21,000 rows/s", or "" when not a rate
     * @param target     the figure the issue asks for, e.g. "≤ 1000 ms"
     * @param met        whether the target is met
     */
    record Row(String name, String work, double p50, double p95, String unit, String throughput, String target, boolean met) {
    }
}
