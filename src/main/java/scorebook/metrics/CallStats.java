package scorebook.metrics;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.LongAdder;

import scorebook.devices.Device;
import scorebook.devices.Models;

/**
 * Every model call a device answered or failed (gateway, jobs, eval targets and judges all call through
 * {@link Models}), kept per user, device and model: calls by outcome, and latency and time-to-first-token
 * histograms of the calls that succeeded. In memory, so a scrape costs nothing but reading counters; the
 * usage rows stay the record of each call.
 */
final class CallStats implements Models.Observer {
    /** Per user, device serial and model; sorted so the output is stable. */
    record Key(long userId, String device, String model) implements Comparable<Key> {
        @Override
        public int compareTo(Key o) {
            int c = Long.compare(userId, o.userId);
            if (c == 0) {
                c = device.compareTo(o.device);
            }
            return c != 0 ? c : model.compareTo(o.model);
        }
    }

    private static final class Series {
        final LongAdder ok = new LongAdder();
        final LongAdder failed = new LongAdder();
        final Buckets latency = new Buckets(Buckets.LATENCY);
        final Buckets ttft = new Buckets(Buckets.TTFT);
        final Rendered latencyText = new Rendered();
        final Rendered ttftText = new Rendered();
    }

    /**
     * A histogram's text lines from the last scrape, kept while its count and sum stay the same: most devices are
     * idle between two scrapes, and rendering their lines again was most of a scrape's cost.
     */
    private static final class Rendered {
        private record Kept(Buckets.Snapshot of, String text) {
        }

        private volatile Kept kept;

        String text(String name, Buckets.Snapshot now, String... labelPairs) {
            Kept k = kept;
            if (k == null || k.of().count() != now.count() || Double.compare(k.of().sum(), now.sum()) != 0) {
                k = new Kept(now, Family.histogramText(name, now, labelPairs));
                kept = k;
            }
            return k.text();
        }
    }

    private final Map<Key, Series> series = new ConcurrentSkipListMap<>();

    @Override
    public void finished(Device device, String model, double latencyMs, Double ttftMs, boolean ok) {
        Key k = new Key(device.userId(), device.serial(), model == null ? "" : model);
        Series s = series.computeIfAbsent(k, x -> new Series());
        if (!ok) {
            s.failed.increment();
            return;
        }
        s.ok.increment();
        s.latency.observe(latencyMs / 1000.0);
        if (ttftMs != null) {
            s.ttft.observe(ttftMs / 1000.0);
        }
    }

    void collect(List<Family> out) {
        Family calls = Family.of("scorebook_gateway_calls_total", "counter",
                "model calls a device answered (outcome ok) or failed (outcome error), by user id, device and model");
        Family latency = Family.of("scorebook_gateway_latency_seconds", "histogram",
                "latency of successful model calls, from the request to the last token, by user id, device and model");
        Family ttft = Family.of("scorebook_gateway_ttft_seconds", "histogram",
                "time to the first token of successful model calls, by user id, device and model");
        series.forEach((k, s) -> {
            String user = Long.toString(k.userId());
            calls.add(s.ok.sum(), "user", user, "device", k.device(), "model", k.model(), "outcome", "ok");
            calls.add(s.failed.sum(), "user", user, "device", k.device(), "model", k.model(), "outcome", "error");
            Buckets.Snapshot l = s.latency.snapshot();
            Buckets.Snapshot f = s.ttft.snapshot();
            String[] labels = {"user", user, "device", k.device(), "model", k.model()};
            latency.add(l, s.latencyText.text(latency.name(), l, labels), labels);
            ttft.add(f, s.ttftText.text(ttft.name(), f, labels), labels);
        });
        out.add(calls);
        out.add(latency);
        out.add(ttft);
    }
}
