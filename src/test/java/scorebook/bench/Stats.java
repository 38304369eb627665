package scorebook.bench;

import java.util.Arrays;

/** Percentiles over samples (nearest rank). */
public final class Stats {
    private Stats() {
    }

    public static double percentile(double[] samples, double p) {
        double[] sorted = samples.clone();
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    public static double median(double[] samples) {
        return percentile(samples, 50);
    }
}
