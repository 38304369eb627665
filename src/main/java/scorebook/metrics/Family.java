package scorebook.metrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One metric family (name, type, help) and its samples, as both outputs render it: the Prometheus text
 * exposition format 0.0.4 and the JSON of {@code /metrics/summary}.
 *
 * @param name    the metric name; counters end in {@code _total}
 * @param type    counter, gauge or histogram
 * @param help    one line of help
 * @param samples one per label set
 */
record Family(String name, String type, String help, List<Sample> samples) {
    /**
     * One series.
     *
     * @param labels    label names to values, in output order
     * @param value     the value (counters and gauges)
     * @param histogram the histogram (histograms only), else null
     * @param text      the sample's lines in the text format when its owner kept them from an earlier scrape, else null
     */
    record Sample(Map<String, String> labels, double value, Buckets.Snapshot histogram, String text) {
    }

    static Family of(String name, String type, String help) {
        return new Family(name, type, help, new ArrayList<>());
    }

    Family add(double value, String... labelPairs) {
        samples.add(new Sample(labels(labelPairs), value, null, null));
        return this;
    }

    Family add(Buckets.Snapshot h, String... labelPairs) {
        samples.add(new Sample(labels(labelPairs), 0, h, null));
        return this;
    }

    /** A histogram sample whose text lines are already rendered (see {@link #histogramText}). */
    Family add(Buckets.Snapshot h, String text, String... labelPairs) {
        samples.add(new Sample(labels(labelPairs), 0, h, text));
        return this;
    }

    private static Map<String, String> labels(String... pairs) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return m;
    }

    /** The size of the last text, so the next one's buffer is allocated once. */
    private static volatile int lastSize = 64 * 1024;

    /**
     * The families in the text format (HELP and TYPE lines, then the samples; histograms as _bucket, _sum, _count).
     * A sample's labels are escaped and joined once, then shared by its bucket lines.
     */
    static String text(List<Family> families) {
        StringBuilder out = new StringBuilder(lastSize + lastSize / 8);
        for (Family f : families) {
            out.append("# HELP ").append(f.name).append(' ').append(escapeHelp(f.help)).append('\n');
            out.append("# TYPE ").append(f.name).append(' ').append(f.type).append('\n');
            for (Sample s : f.samples) {
                if (s.text != null) {
                    out.append(s.text);
                } else if (s.histogram == null) {
                    series(out, f.name, "", labelText(s.labels)).append(number(s.value)).append('\n');
                } else {
                    histogramLines(out, f.name, labelText(s.labels), s.histogram);
                }
            }
        }
        lastSize = out.length();
        return out.toString();
    }

    /** One histogram's _bucket, _sum and _count lines. */
    private static void histogramLines(StringBuilder out, String name, String labels, Buckets.Snapshot h) {
        String[] le = h.le();
        String bucketLabels = labels.isEmpty() ? "le=\"" : labels + ",le=\"";
        for (int i = 0; i < h.cumulative().length; i++) {
            out.append(name).append("_bucket{").append(bucketLabels).append(le[i]).append("\"} ")
                    .append(h.cumulative()[i]).append('\n');
        }
        series(out, name, "_sum", labels).append(number(h.sum())).append('\n');
        series(out, name, "_count", labels).append(h.count()).append('\n');
    }

    /** One histogram's lines as text, for an owner that keeps them while the histogram does not change. */
    static String histogramText(String name, Buckets.Snapshot h, String... labelPairs) {
        StringBuilder out = new StringBuilder(1024);
        histogramLines(out, name, labelText(labels(labelPairs)), h);
        return out.toString();
    }

    /** {@code name_suffix{labels} } ready for the value. */
    private static StringBuilder series(StringBuilder out, String name, String suffix, String labels) {
        out.append(name).append(suffix);
        if (!labels.isEmpty()) {
            out.append('{').append(labels).append('}');
        }
        return out.append(' ');
    }

    /** {@code a="x",b="y"} with the values escaped. */
    private static String labelText(Map<String, String> labels) {
        if (labels.isEmpty()) {
            return "";
        }
        StringBuilder sb = new StringBuilder(64);
        for (Map.Entry<String, String> l : labels.entrySet()) {
            if (!sb.isEmpty()) {
                sb.append(',');
            }
            sb.append(l.getKey()).append("=\"").append(escapeLabel(l.getValue())).append('"');
        }
        return sb.toString();
    }

    /** A label value: backslash, double quote and line feed escaped, as the format asks. */
    static String escapeLabel(String v) {
        if (v == null) {
            return "";
        }
        if (v.indexOf('\\') < 0 && v.indexOf('"') < 0 && v.indexOf('\n') < 0) {
            return v;
        }
        StringBuilder sb = new StringBuilder(v.length());
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case '"' -> sb.append("\\\"");
                case '\n' -> sb.append("\\n");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }

    private static String escapeHelp(String v) {
        return v.replace("\\", "\\\\").replace("\n", "\\n");
    }

    /** Whole numbers without a fraction; others as Java prints doubles (which Prometheus parses). */
    static String number(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "+Inf" : "-Inf";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.toString(v);
    }

    /** The families as JSON-ready maps: {name: {type, help, samples: [{labels, value} | {labels, count, sum, buckets}]}}. */
    static Map<String, Object> json(List<Family> families) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Family f : families) {
            List<Map<String, Object>> samples = new ArrayList<>();
            for (Sample s : f.samples) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("labels", s.labels);
                if (s.histogram == null) {
                    m.put("value", s.value == Math.rint(s.value) && Math.abs(s.value) < 1e15 ? (Object) (long) s.value : s.value);
                } else {
                    Buckets.Snapshot h = s.histogram;
                    m.put("count", h.count());
                    m.put("sum", h.sum());
                    Map<String, Long> buckets = new LinkedHashMap<>();
                    for (int i = 0; i < h.cumulative().length; i++) {
                        buckets.put(h.le()[i], h.cumulative()[i]);
                    }
                    m.put("buckets", buckets);
                }
                samples.add(m);
            }
            Map<String, Object> fam = new LinkedHashMap<>();
            fam.put("type", f.type);
            fam.put("help", f.help);
            fam.put("samples", samples);
            out.put(f.name, fam);
        }
        return out;
    }
}
