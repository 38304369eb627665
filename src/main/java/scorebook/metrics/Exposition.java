package scorebook.metrics;

/**
 * Where a scrape's families go, one after another: the Prometheus text ({@link TextFormat}, into one reused buffer)
 * or the JSON summary ({@link JsonFormat}, which alone needs labels as maps). A family's samples follow its
 * {@link #family} call; labels are given as name, value pairs, so a sample costs no map and no array.
 */
interface Exposition {
    /** Starts a family: its name (counters end in {@code _total}), type (counter, gauge, histogram) and one line of help. */
    void family(String name, String type, String help);

    void sample(double value);

    void sample(double value, String n1, String v1);

    void sample(double value, String n1, String v1, String n2, String v2);

    void sample(double value, String n1, String v1, String n2, String v2, String n3, String v3);

    /** A histogram's sample; the series carries its labels and keeps its text lines while it does not change. */
    void histogram(HistogramSeries series);
}
