package scorebook.metrics;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.DoubleAdder;

/**
 * A histogram with fixed upper bounds (Prometheus' {@code le}), lock-free: one atomic count per bucket and a
 * running sum. The count is the buckets' total, so a scrape never shows a {@code _count} that disagrees with
 * the {@code +Inf} bucket.
 */
final class Buckets {
    /** Model-call latency in seconds: from a cached reply to a long generation. */
    static final double[] LATENCY = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
    /** Time to the first token in seconds. */
    static final double[] TTFT = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

    private final double[] bounds;
    /** The bounds as the text format prints them, "+Inf" last. */
    private final String[] le;
    private final AtomicLongArray counts;
    private final DoubleAdder sum = new DoubleAdder();

    Buckets(double[] bounds) {
        this.bounds = bounds;
        this.le = new String[bounds.length + 1];
        for (int i = 0; i < bounds.length; i++) {
            le[i] = TextFormat.number(bounds[i]);
        }
        le[bounds.length] = "+Inf";
        this.counts = new AtomicLongArray(bounds.length + 1);
    }

    void observe(double value) {
        int i = 0;
        while (i < bounds.length && value > bounds[i]) {
            i++;
        }
        counts.incrementAndGet(i);
        sum.add(value);
    }

    /** Observations so far (the buckets' total). */
    long count() {
        long total = 0;
        for (int i = 0; i < counts.length(); i++) {
            total += counts.get(i);
        }
        return total;
    }

    double sum() {
        return sum.sum();
    }

    /** The cumulative counts per bound, the last one for +Inf. */
    Snapshot snapshot() {
        long[] cumulative = new long[bounds.length + 1];
        long total = 0;
        for (int i = 0; i < cumulative.length; i++) {
            total += counts.get(i);
            cumulative[i] = total;
        }
        return new Snapshot(le, cumulative, sum.sum());
    }

    /**
     * A histogram as read once.
     *
     * @param le         the upper bounds as printed, "+Inf" last
     * @param cumulative observations at or under each bound, then the total (+Inf)
     * @param sum        the observations' sum
     */
    record Snapshot(String[] le, long[] cumulative, double sum) {
        long count() {
            return cumulative[cumulative.length - 1];
        }
    }
}
