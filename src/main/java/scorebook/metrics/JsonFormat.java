package scorebook.metrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON of {@code /metrics/summary}: {name: {type, help, samples: [{labels, value} | {labels, count, sum, buckets}]}}.
 * The one output that needs labels as maps; made per request (people read it, Prometheus does not).
 */
final class JsonFormat implements Exposition {
    private final Map<String, Object> families = new LinkedHashMap<>();
    private List<Map<String, Object>> samples;

    Map<String, Object> result() {
        return families;
    }

    @Override
    public void family(String name, String type, String help) {
        samples = new ArrayList<>();
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("type", type);
        f.put("help", help);
        f.put("samples", samples);
        families.put(name, f);
    }

    @Override
    public void sample(double value) {
        add(value, Map.of());
    }

    @Override
    public void sample(double value, String n1, String v1) {
        add(value, labels(n1, v1));
    }

    @Override
    public void sample(double value, String n1, String v1, String n2, String v2) {
        Map<String, String> l = labels(n1, v1);
        l.put(n2, v2);
        add(value, l);
    }

    @Override
    public void sample(double value, String n1, String v1, String n2, String v2, String n3, String v3) {
        Map<String, String> l = labels(n1, v1);
        l.put(n2, v2);
        l.put(n3, v3);
        add(value, l);
    }

    @Override
    public void histogram(HistogramSeries series) {
        Buckets.Snapshot h = series.buckets.snapshot();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("labels", series.labels());
        m.put("count", h.count());
        m.put("sum", h.sum());
        Map<String, Long> buckets = new LinkedHashMap<>();
        for (int i = 0; i < h.cumulative().length; i++) {
            buckets.put(h.le()[i], h.cumulative()[i]);
        }
        m.put("buckets", buckets);
        samples.add(m);
    }

    private static Map<String, String> labels(String n1, String v1) {
        Map<String, String> l = new LinkedHashMap<>();
        l.put(n1, v1);
        return l;
    }

    private void add(double value, Map<String, String> labels) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("labels", labels);
        m.put("value", value == Math.rint(value) && Math.abs(value) < 1e15 ? (Object) (long) value : value);
        samples.add(m);
    }
}
