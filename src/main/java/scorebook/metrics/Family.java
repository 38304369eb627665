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
     */
    record Sample(Map<String, String> labels, double value, Buckets.Snapshot histogram) {
    }

    static Family of(String name, String type, String help) {
        return new Family(name, type, help, new ArrayList<>());
    }

    Family add(double value, String... labelPairs) {
        samples.add(new Sample(labels(labelPairs), value, null));
        return this;
    }

    Family add(Buckets.Snapshot h, String... labelPairs) {
        samples.add(new Sample(labels(labelPairs), 0, h));
        return this;
    }

    private static Map<String, String> labels(String... pairs) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return m;
    }

    /** The families in the text format (HELP and TYPE lines, then the samples; histograms as _bucket, _sum, _count). */
    static String text(List<Family> families) {
        StringBuilder out = new StringBuilder(8192);
        for (Family f : families) {
            out.append("# HELP ").append(f.name).append(' ').append(escapeHelp(f.help)).append('\n');
            out.append("# TYPE ").append(f.name).append(' ').append(f.type).append('\n');
            for (Sample s : f.samples) {
                if (s.histogram == null) {
                    line(out, f.name, s.labels, null, number(s.value));
                    continue;
                }
                Buckets.Snapshot h = s.histogram;
                for (int i = 0; i < h.cumulative().length; i++) {
                    String le = i < h.bounds().length ? number(h.bounds()[i]) : "+Inf";
                    line(out, f.name + "_bucket", s.labels, le, Long.toString(h.cumulative()[i]));
                }
                line(out, f.name + "_sum", s.labels, null, number(h.sum()));
                line(out, f.name + "_count", s.labels, null, Long.toString(h.count()));
            }
        }
        return out.toString();
    }

    private static void line(StringBuilder out, String name, Map<String, String> labels, String le, String value) {
        out.append(name);
        if (!labels.isEmpty() || le != null) {
            out.append('{');
            boolean first = true;
            for (Map.Entry<String, String> l : labels.entrySet()) {
                if (!first) {
                    out.append(',');
                }
                first = false;
                out.append(l.getKey()).append("=\"").append(escapeLabel(l.getValue())).append('"');
            }
            if (le != null) {
                out.append(first ? "" : ",").append("le=\"").append(le).append('"');
            }
            out.append('}');
        }
        out.append(' ').append(value).append('\n');
    }

    /** A label value: backslash, double quote and line feed escaped, as the format asks. */
    static String escapeLabel(String v) {
        if (v == null) {
            return "";
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
                        buckets.put(i < h.bounds().length ? number(h.bounds()[i]) : "+Inf", h.cumulative()[i]);
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
