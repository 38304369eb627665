package scorebook.metrics;

import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.LongAdder;

import scorebook.devices.Device;
import scorebook.devices.Models;

/**
 * Every model call a device answered or failed (gateway, jobs, eval targets and judges all call through
 * {@link Models}), kept per device and model: calls by outcome, and latency and time-to-first-token histograms
 * of the calls that succeeded. In memory, so a scrape costs nothing but reading counters; the usage rows stay
 * the record of each call (and of whose it was: the series are not split by user, see docs/operations-metrics.md).
 */
final class CallStats implements Models.Observer {
    static final String CALLS = "scorebook_gateway_calls_total";
    static final String LATENCY = "scorebook_gateway_latency_seconds";
    static final String TTFT = "scorebook_gateway_ttft_seconds";

    /** Per device serial and model; sorted so the output is stable. */
    record Key(String device, String model) implements Comparable<Key> {
        @Override
        public int compareTo(Key o) {
            int c = device.compareTo(o.device);
            return c != 0 ? c : model.compareTo(o.model);
        }
    }

    private static final class Series {
        final LongAdder ok = new LongAdder();
        final LongAdder failed = new LongAdder();
        final HistogramSeries latency;
        final HistogramSeries ttft;

        Series(Key k) {
            latency = new HistogramSeries(LATENCY, Buckets.LATENCY, "device", k.device(), "model", k.model());
            ttft = new HistogramSeries(TTFT, Buckets.TTFT, "device", k.device(), "model", k.model());
        }
    }

    private final Map<Key, Series> series = new ConcurrentSkipListMap<>();

    @Override
    public void finished(Device device, String model, double latencyMs, Double ttftMs, boolean ok) {
        Series s = series.computeIfAbsent(new Key(device.serial(), model == null ? "" : model), Series::new);
        if (!ok) {
            s.failed.increment();
            return;
        }
        s.ok.increment();
        s.latency.buckets.observe(latencyMs / 1000.0);
        if (ttftMs != null) {
            s.ttft.buckets.observe(ttftMs / 1000.0);
        }
    }

    void write(Exposition out) {
        out.family(CALLS, "counter", "model calls a device answered (outcome ok) or failed (outcome error), by device and model");
        series.forEach((k, s) -> {
            out.sample(s.ok.sum(), "device", k.device(), "model", k.model(), "outcome", "ok");
            out.sample(s.failed.sum(), "device", k.device(), "model", k.model(), "outcome", "error");
        });
        out.family(LATENCY, "histogram",
                "latency of successful model calls, from the request to the last token, by device and model");
        series.values().forEach(s -> out.histogram(s.latency));
        out.family(TTFT, "histogram", "time to the first token of successful model calls, by device and model");
        series.values().forEach(s -> out.histogram(s.ttft));
    }
}
