package scorebook.usage;

import java.time.Clock;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import scorebook.server.ApiException;
import scorebook.server.Json;

/** The summary (§3.9) and series (§3.8) answers over a filter: for /usage, /usage/summary and a dataset's metrics. */
public final class UsageReports {
    private final UsageQueries queries;
    /** One kept-points cache for every series answer. */
    private final UsageSeries series;
    private final Clock clock;

    public UsageReports(UsageQueries queries, Clock clock) {
        this.queries = queries;
        this.series = new UsageSeries(queries, UsageSeries.KEPT_CHARS);
        this.clock = clock;
    }

    public UsageQueries queries() {
        return queries;
    }

    /** The filter of a dataset's usage rows in {@code [fromMs, toMs)}. */
    public static UsageFilter ofDataset(String dataset, long fromMs, long toMs) {
        if (fromMs >= toMs) {
            throw ApiException.invalid("'from' must be before 'to'");
        }
        return new UsageFilter(fromMs, toMs, Map.of("dataset", List.of(dataset)), null, List.of());
    }

    /** §3.9's KPIs with the range and filters they are over. */
    public Map<String, Object> summary(long userId, UsageFilter f) {
        return summaryOf(queries.total(userId, f, true), f);
    }

    static Map<String, Object> summaryOf(Tally t, UsageFilter f) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("from", UsageStore.iso(f.fromMs()));
        m.put("to", UsageStore.iso(f.toMs()));
        m.put("filters", f.describe());
        m.putAll(UsageAnswers.summary(t, f.toMs() - f.fromMs()));
        return m;
    }

    /**
     * §3.8's series: one per group of up to two keys (the {@code top} largest, the rest as "other"), a point for
     * every bucket, empty ones as zeros.
     *
     * @param bucket a bucket name ({@link UsageBuckets#pick})
     */
    public Map<String, Object> series(long userId, UsageFilter f, List<String> groupBy, String bucket, ZoneId zone,
                                      int top) {
        List<Long> starts = new ArrayList<>();
        long[] edges = UsageAnswers.edges(f.fromMs(), f.toMs(), bucket, zone, starts);
        List<Object> out = new ArrayList<>();
        for (UsageSeries.Group g : series.series(userId, f, groupBy, edges, starts, top, clock.millis())) {
            out.add(Json.fields("key", g.key(), "points", g.json()));
        }
        return Json.fields("from", UsageStore.iso(f.fromMs()), "to", UsageStore.iso(f.toMs()), "bucket", bucket,
                "group_by", groupBy, "filters", f.describe(), "series", out);
    }
}
