package scorebook.metrics;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One histogram series: its buckets, its labels (escaped for the text once, when the series is made) and its text
 * lines from the last scrape, kept while its count and sum stay the same. Most devices are idle between two
 * scrapes, so most scrapes copy these bytes instead of printing 14 lines again.
 */
final class HistogramSeries {
    private final String name;
    private final String[] labelPairs;
    /** {@code a="x",b="y"}, escaped. */
    private final String labelText;
    final Buckets buckets;
    private byte[] lines;
    private long linesCount = -1;
    private double linesSum;

    HistogramSeries(String name, double[] bounds, String... labelPairs) {
        this.name = name;
        this.labelPairs = labelPairs.clone();
        this.buckets = new Buckets(bounds);
        StringBuilder sb = new StringBuilder(64);
        for (int i = 0; i < labelPairs.length; i += 2) {
            sb.append(sb.isEmpty() ? "" : ",").append(labelPairs[i]).append("=\"")
                    .append(TextFormat.escapeLabel(labelPairs[i + 1])).append('"');
        }
        this.labelText = sb.toString();
    }

    /** The _bucket, _sum and _count lines as they are now (rendered again only after a change). */
    synchronized byte[] lines() {
        long count = buckets.count();
        double sum = buckets.sum();
        if (lines == null || count != linesCount || Double.compare(sum, linesSum) != 0) {
            Buckets.Snapshot h = buckets.snapshot();
            TextFormat t = new TextFormat(1024);
            t.histogramLines(name, labelText, h);
            lines = t.toByteArray();
            linesCount = count;
            linesSum = sum;
        }
        return lines;
    }

    /** The labels as a map, for the JSON summary. */
    Map<String, String> labels() {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < labelPairs.length; i += 2) {
            m.put(labelPairs[i], labelPairs[i + 1]);
        }
        return m;
    }
}
