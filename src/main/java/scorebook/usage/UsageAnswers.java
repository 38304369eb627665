package scorebook.usage;

import java.io.IOException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonGenerator;
import scorebook.server.ApiException;
import scorebook.server.Json;

/** The JSON shapes of usage answers, made from tallies: summary KPIs, series points, breakdown rows, deltas. */
final class UsageAnswers {
    private static final int MAX_BUCKETS = 10_000;
    /** 10^digits for {@link #round} (Math.pow per number showed in an hourly series' profile). */
    private static final double[] POWERS_OF_TEN = {1, 10, 100, 1_000, 10_000, 100_000, 1_000_000};

    private UsageAnswers() {
    }

    /** The §3.9 KPIs of a tally over a window of {@code windowMs}. */
    static Map<String, Object> summary(Tally t, long windowMs) {
        Map<String, Object> m = new LinkedHashMap<>();
        counts(m, t);
        Map<String, Object> latency = new LinkedHashMap<>();
        latency.put("n", t.latencyN);
        latency.put("avg", avg(t.latencySum, t.latencyN));
        latency.put("p50", pct(t.latency, 50, t.latencyMax));
        latency.put("p90", pct(t.latency, 90, t.latencyMax));
        latency.put("p95", pct(t.latency, 95, t.latencyMax));
        latency.put("p99", pct(t.latency, 99, t.latencyMax));
        latency.put("max", t.latencyMax == null ? null : round(t.latencyMax, 3));
        m.put("latency_ms", latency);
        Map<String, Object> ttft = new LinkedHashMap<>();
        ttft.put("n", t.ttftN);
        ttft.put("avg", avg(t.ttftSum, t.ttftN));
        ttft.put("p50", pct(t.ttft, 50, null));
        ttft.put("p90", pct(t.ttft, 90, null));
        ttft.put("p95", pct(t.ttft, 95, null));
        ttft.put("p99", pct(t.ttft, 99, null));
        m.put("ttft_ms", ttft);
        Map<String, Object> tokS = new LinkedHashMap<>();
        tokS.put("n", t.tokSN);
        tokS.put("avg", avg(t.tokSSum, t.tokSN));
        tokS.put("p50", pct(t.tokS, 50, null));
        tokS.put("p05", pct(t.tokS, 5, null));
        tokS.put("cv", cv(t));
        m.put("tok_s", tokS);
        m.put("decode_tok_s", Json.fields("n", t.decodeN, "avg", avg(t.decodeSum, t.decodeN)));
        m.put("prefill_tok_s", Json.fields("n", t.prefillN, "avg", avg(t.prefillSum, t.prefillN)));
        m.put("throughput_tok_per_min", round(t.completionTokens / (windowMs / 60_000.0), 3));
        m.put("devices_active", t.devicesActive());
        m.put("models", t.modelsActive());
        m.put("extra", extra(t, false));
        m.put("cost", null);
        return m;
    }

    /** Requests, ok, errors, error rate and token sums: the counts every answer starts with. */
    private static void counts(Map<String, Object> m, Tally t) {
        m.put("requests", t.requests);
        m.put("ok", t.okRequests);
        m.put("errors", t.errors());
        m.put("error_rate", t.requests == 0 ? 0.0 : round(t.errors() / (double) t.requests, 6));
        m.put("prompt_tokens", t.promptTokens);
        m.put("completion_tokens", t.completionTokens);
        m.put("total_tokens", t.promptTokens + t.completionTokens);
    }

    /** Per extra label {avg, min, max, n}, with p50 and p95 too when {@code percentiles}. */
    static Map<String, Object> extra(Tally t, boolean percentiles) {
        Map<String, Object> out = new LinkedHashMap<>();
        t.extra.forEach((label, x) -> {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("avg", avg(x.sum, x.n));
            e.put("min", x.n == 0 ? null : x.min);
            e.put("max", x.n == 0 ? null : x.max);
            e.put("n", x.n);
            if (percentiles) {
                e.put("p50", clamp(x.hist.percentile(50), x.min, x.max));
                e.put("p95", clamp(x.hist.percentile(95), x.min, x.max));
            }
            out.put(label, e);
        });
        return out;
    }

    /**
     * One point of a series, written straight to the generator (a month of hourly points by model is thousands of
     * objects: building a map for each, then serialising the maps, was half of such an answer).
     */
    static void point(JsonGenerator g, long t, Tally x) throws IOException {
        g.writeStartObject();
        g.writeStringField("t", UsageStore.iso(t));
        g.writeNumberField("requests", x.requests);
        g.writeNumberField("ok", x.okRequests);
        g.writeNumberField("errors", x.errors());
        g.writeNumberField("prompt_tokens", x.promptTokens);
        g.writeNumberField("completion_tokens", x.completionTokens);
        g.writeNumberField("total_tokens", x.promptTokens + x.completionTokens);
        // §3.8: every aggregate carries its n (the calls that have the figure)
        g.writeNumberField("latency_n", x.latencyN);
        number(g, "latency_avg_ms", avg(x.latencySum, x.latencyN));
        double[] latency = x.latency.percentiles(50, 95);
        number(g, "latency_p50_ms", pct(latency[0], x.latencyMax));
        number(g, "latency_p95_ms", pct(latency[1], x.latencyMax));
        g.writeNumberField("ttft_n", x.ttftN);
        double[] ttft = x.ttft.percentiles(50, 95);
        number(g, "ttft_p50_ms", pct(ttft[0], null));
        number(g, "ttft_p95_ms", pct(ttft[1], null));
        g.writeNumberField("tok_s_n", x.tokSN);
        number(g, "tok_s_avg", avg(x.tokSSum, x.tokSN));
        if (!x.extra.isEmpty()) {
            g.writeFieldName("extra");
            g.writeObject(extra(x, false));
        }
        g.writeEndObject();
    }

    private static void number(JsonGenerator g, String field, Double v) throws IOException {
        if (v == null) {
            g.writeNullField(field);
        } else {
            g.writeNumberField(field, v);
        }
    }

    /** One row of a breakdown. */
    static Map<String, Object> breakdownRow(Map<String, Object> key, Tally x) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("key", key);
        counts(m, x);
        m.put("latency_n", x.latencyN);
        m.put("latency_avg_ms", avg(x.latencySum, x.latencyN));
        m.put("latency_p50_ms", pct(x.latency, 50, x.latencyMax));
        m.put("latency_p95_ms", pct(x.latency, 95, x.latencyMax));
        m.put("latency_p99_ms", pct(x.latency, 99, x.latencyMax));
        m.put("ttft_n", x.ttftN);
        m.put("ttft_p50_ms", pct(x.ttft, 50, null));
        m.put("ttft_p95_ms", pct(x.ttft, 95, null));
        m.put("tok_s_n", x.tokSN);
        m.put("tok_s_avg", avg(x.tokSSum, x.tokSN));
        m.put("devices_active", x.devicesActive());
        m.put("models", x.modelsActive());
        m.put("extra", extra(x, false));
        return m;
    }

    /** {abs, pct, better} per metric between two summaries; {@code metrics} maps a path to "lower"/"higher"/null. */
    static Map<String, Object> delta(Map<String, Object> a, Map<String, Object> b, Map<String, String> metrics) {
        Map<String, Object> out = new LinkedHashMap<>();
        metrics.forEach((metric, betterWhen) -> {
            Double va = number(a, metric);
            Double vb = number(b, metric);
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("a", va);
            d.put("b", vb);
            d.put("abs", va == null || vb == null ? null : round(vb - va, 6));
            d.put("pct", va == null || vb == null || va == 0 ? null : round((vb - va) / Math.abs(va) * 100, 3));
            String better = null;
            if (betterWhen != null && va != null && vb != null) {
                better = va.equals(vb) ? "same" : (vb < va) == betterWhen.equals("lower") ? "b" : "a";
            }
            d.put("better", better);
            out.put(metric, d);
        });
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Double number(Map<String, Object> summary, String path) {
        Object v = summary;
        for (String part : path.split("\\.")) {
            if (!(v instanceof Map<?, ?> m)) {
                return null;
            }
            v = ((Map<String, Object>) m).get(part);
        }
        return v instanceof Number n ? n.doubleValue() : null;
    }

    /**
     * The bucket edges of a series over {@code [from, to)}: epoch multiples of the bucket (1d: midnights in
     * {@code zone}); the first and last are from and to. {@code starts} gets each bucket's aligned start.
     */
    static long[] edges(long from, long to, String bucket, ZoneId zone, List<Long> starts) {
        List<Long> edges = new ArrayList<>();
        edges.add(from);
        if (bucket.equals("1d")) {
            ZonedDateTime day = Instant.ofEpochMilli(from).atZone(zone).truncatedTo(ChronoUnit.DAYS);
            starts.add(day.toInstant().toEpochMilli());
            for (ZonedDateTime d = day.plusDays(1); d.toInstant().toEpochMilli() < to; d = d.plusDays(1)) {
                edges.add(d.toInstant().toEpochMilli());
                starts.add(d.toInstant().toEpochMilli());
                guard(edges.size());
            }
        } else {
            long size = UsageBuckets.SIZES.get(bucket);
            long start = Math.floorDiv(from, size) * size;
            starts.add(start);
            for (long e = start + size; e < to; e += size) {
                edges.add(e);
                starts.add(e);
                guard(edges.size());
            }
        }
        edges.add(to);
        return edges.stream().mapToLong(Long::longValue).toArray();
    }

    private static void guard(int n) {
        if (n > MAX_BUCKETS) {
            throw ApiException.invalid("'bucket' is too small for the range: more than " + MAX_BUCKETS + " buckets");
        }
    }

    static Double avg(double sum, long n) {
        return n == 0 ? null : round(sum / n, 3);
    }

    private static Double cv(Tally t) {
        if (t.tokSN < 2) {
            return null;
        }
        double mean = t.tokSSum / t.tokSN;
        double var = Math.max(0, t.tokSSq / t.tokSN - mean * mean);
        return mean == 0 ? null : round(Math.sqrt(var) / mean, 4);
    }

    private static Double pct(Histogram h, double p, Double max) {
        return pct(h.percentile(p), max);
    }

    /** A percentile as answered: capped at the largest value seen, rounded to 3 digits; NaN or null is null. */
    private static Double pct(Double v, Double max) {
        if (v == null || v.isNaN()) {
            return null;
        }
        if (max != null && v > max) {
            v = max;
        }
        return round(v, 3);
    }

    private static Double clamp(Double v, double min, double max) {
        return v == null ? null : round(Math.max(min, Math.min(max, v)), 6);
    }

    static double round(double v, int digits) {
        double f = POWERS_OF_TEN[digits];
        return Math.round(v * f) / f;
    }
}
