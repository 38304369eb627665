package scorebook.usage;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What a set of usage rows adds up to: counts, token sums, latency/TTFT/tok/s sums with histograms, and
 * per extra label n, sum, min, max and a histogram. One rollup cell is a Tally; so is every answer's group.
 */
public final class Tally {
    long requests;
    long okRequests;
    long promptTokens;
    long completionTokens;
    long latencyN;
    double latencySum;
    Double latencyMax;
    long ttftN;
    double ttftSum;
    long tokSN;
    double tokSSum;
    double tokSSq;
    long prefillN;
    double prefillSum;
    long decodeN;
    double decodeSum;
    final Histogram latency = new Histogram();
    final Histogram ttft = new Histogram();
    final Histogram tokS = new Histogram();
    final Map<String, Extra> extra = new TreeMap<>();
    /** Devices and models seen (answers only; rollup cells leave them null). */
    Set<String> devices;
    Set<String> models;

    /** One extra metric: n, sum, min, max and its histogram. */
    static final class Extra {
        long n;
        double sum;
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        final Histogram hist = new Histogram();

        void add(double v) {
            n++;
            sum += v;
            min = Math.min(min, v);
            max = Math.max(max, v);
            hist.add(v);
        }

        void merge(Extra o) {
            n += o.n;
            sum += o.sum;
            min = Math.min(min, o.min);
            max = Math.max(max, o.max);
            hist.merge(o.hist);
        }
    }

    /** Adds one usage row. */
    void add(UsageStore.Row r, Map<String, Double> extras) {
        addCall(r.ok(), r.promptTokens() == null ? 0 : r.promptTokens(),
                r.completionTokens() == null ? 0 : r.completionTokens());
        if (r.latencyMs() != null) {
            addLatency(r.latencyMs(), true);
        }
        if (r.ttftMs() != null) {
            addTtft(r.ttftMs(), true);
        }
        if (r.tokS() != null) {
            addTokS(r.tokS(), true);
        }
        UsageStore.Hardware hw = r.hardware();
        if (hw != null && hw.prefillTokS() != null) {
            addPrefill(hw.prefillTokS());
        }
        if (hw != null && hw.decodeTokS() != null) {
            addDecode(hw.decodeTokS());
        }
        addExtras(extras);
    }

    // one call's values, one at a time: a row of the fold and a raw row read by an answer add up the same way

    void addCall(boolean ok, long promptTokens, long completionTokens) {
        requests++;
        if (ok) {
            okRequests++;
        }
        this.promptTokens += promptTokens;
        this.completionTokens += completionTokens;
    }

    void addLatency(double ms, boolean histogram) {
        latencyN++;
        latencySum += ms;
        latencyMax = latencyMax == null ? ms : Math.max(latencyMax, ms);
        if (histogram) {
            latency.add(ms);
        }
    }

    void addTtft(double ms, boolean histogram) {
        ttftN++;
        ttftSum += ms;
        if (histogram) {
            ttft.add(ms);
        }
    }

    void addTokS(double v, boolean histogram) {
        tokSN++;
        tokSSum += v;
        tokSSq += v * v;
        if (histogram) {
            tokS.add(v);
        }
    }

    void addPrefill(double tokS) {
        prefillN++;
        prefillSum += tokS;
    }

    void addDecode(double tokS) {
        decodeN++;
        decodeSum += tokS;
    }

    /** Adds a call's extra metrics {label: value} (null: none). */
    void addExtras(Map<String, Double> extras) {
        if (extras != null) {
            extras.forEach((label, v) -> extra.computeIfAbsent(label, k -> new Extra()).add(v));
        }
    }

    /** Adds another tally. */
    void merge(Tally o) {
        mergeSums(o);
        latency.merge(o.latency);
        ttft.merge(o.ttft);
        tokS.merge(o.tokS);
        o.extra.forEach((label, e) -> extra.computeIfAbsent(label, k -> new Extra()).merge(e));
        if (o.devices != null) {
            seen(null, null);
            devices.addAll(o.devices);
            models.addAll(o.models);
        }
    }

    /** Adds another tally's counts and sums only (not its histograms, extras or devices and models seen). */
    void mergeSums(Tally o) {
        requests += o.requests;
        okRequests += o.okRequests;
        promptTokens += o.promptTokens;
        completionTokens += o.completionTokens;
        latencyN += o.latencyN;
        latencySum += o.latencySum;
        if (o.latencyMax != null) {
            latencyMax = latencyMax == null ? o.latencyMax : Math.max(latencyMax, o.latencyMax);
        }
        ttftN += o.ttftN;
        ttftSum += o.ttftSum;
        tokSN += o.tokSN;
        tokSSum += o.tokSSum;
        tokSSq += o.tokSSq;
        prefillN += o.prefillN;
        prefillSum += o.prefillSum;
        decodeN += o.decodeN;
        decodeSum += o.decodeSum;
    }

    /** Notes a device and model that served rows of this tally. */
    void seen(String device, String model) {
        if (devices == null) {
            devices = new HashSet<>();
            models = new HashSet<>();
        }
        if (device != null) {
            devices.add(device);
        }
        if (model != null) {
            models.add(model);
        }
    }

    int devicesActive() {
        return devices == null ? 0 : devices.size();
    }

    int modelsActive() {
        return models == null ? 0 : models.size();
    }

    long errors() {
        return requests - okRequests;
    }

    /** The extras as stored in a rollup cell, or null when there are none. */
    byte[] encodeExtra() {
        if (extra.isEmpty()) {
            return null;
        }
        ByteSink out = new ByteSink(32);
        Histogram.Varint.write(out, extra.size());
        for (Map.Entry<String, Extra> e : extra.entrySet()) {
            byte[] label = e.getKey().getBytes(StandardCharsets.UTF_8);
            Histogram.Varint.write(out, label.length);
            out.writeBytes(label);
            Extra x = e.getValue();
            Histogram.Varint.write(out, x.n);
            writeDouble(out, x.sum);
            writeDouble(out, x.min);
            writeDouble(out, x.max);
            byte[] h = x.hist.encode();
            Histogram.Varint.write(out, h == null ? 0 : h.length);
            if (h != null) {
                out.writeBytes(h);
            }
        }
        return out.toByteArray();
    }

    /** Adds the extras of several cells encoded one after the other (a group's {@code group_concat(extra, '')}). */
    void mergeEncodedExtras(byte[] b, boolean withHistograms) {
        if (b == null) {
            return;
        }
        int[] pos = {0};
        while (pos[0] < b.length) {
            mergeOneExtra(b, pos, withHistograms);
        }
    }

    private void mergeOneExtra(byte[] b, int[] pos, boolean withHistograms) {
        long labels = Histogram.Varint.read(b, pos);
        for (long i = 0; i < labels; i++) {
            int len = (int) Histogram.Varint.read(b, pos);
            String label = new String(b, pos[0], len, StandardCharsets.UTF_8);
            pos[0] += len;
            Extra x = extra.computeIfAbsent(label, k -> new Extra());
            x.n += Histogram.Varint.read(b, pos);
            x.sum += readDouble(b, pos);
            x.min = Math.min(x.min, readDouble(b, pos));
            x.max = Math.max(x.max, readDouble(b, pos));
            int hl = (int) Histogram.Varint.read(b, pos);
            if (hl > 0 && withHistograms) {
                x.hist.mergeEncoded(java.util.Arrays.copyOfRange(b, pos[0], pos[0] + hl));
            }
            pos[0] += hl;
        }
    }

    /** Little-endian, as the extra blob stores its sums and bounds (shared with {@link CellMerge}). */
    static void writeDouble(ByteSink out, double v) {
        long bits = Double.doubleToRawLongBits(v);
        for (int i = 0; i < 8; i++) {
            out.write((int) (bits >>> (8 * i)) & 0xFF);
        }
    }

    static double readDouble(byte[] b, int[] pos) {
        long bits = 0;
        for (int i = 0; i < 8; i++) {
            bits |= (long) (b[pos[0]++] & 0xFF) << (8 * i);
        }
        return Double.longBitsToDouble(bits);
    }
}
