package scorebook.usage;

import java.util.Arrays;

/**
 * A log-scale histogram of any finite values: bucket {@code k} holds the values in {@code (γ^(k-1), γ^k]} with
 * γ = 1.015 (negative values mirrored, zero and |v| below 1e-9 in a bucket of their own). A percentile read from
 * it is the estimate {@code 2γ^k / (γ + 1)} of its nearest-rank bucket, within (γ-1)/(γ+1) = 0.75 % of the
 * exact nearest-rank value. Stored sparse: only occupied buckets, as varints (about 2 bytes each).
 */
public final class Histogram {
    static final double GAMMA = 1.015;
    private static final double LOG_GAMMA = Math.log(GAMMA);
    private static final double TINY = 1e-9;

    private final Dense positive = new Dense();
    private final Dense negative = new Dense();
    private long zero;

    /** Adds {@code count} values equal to {@code v} (ignored when not finite). */
    public void add(double v, long count) {
        if (!Double.isFinite(v)) {
            return;
        }
        double a = Math.abs(v);
        if (a < TINY) {
            zero += count;
        } else {
            (v > 0 ? positive : negative).add(key(a), count);
        }
    }

    public void add(double v) {
        add(v, 1);
    }

    static int key(double abs) {
        return (int) Math.ceil(Math.log(abs) / LOG_GAMMA);
    }

    static double estimate(int key) {
        return 2 * Math.pow(GAMMA, key) / (GAMMA + 1);
    }

    public long total() {
        return zero + positive.total() + negative.total();
    }

    public boolean isEmpty() {
        return total() == 0;
    }

    public void merge(Histogram o) {
        zero += o.zero;
        positive.merge(o.positive);
        negative.merge(o.negative);
    }

    /**
     * The nearest-rank percentile ({@code p} in 0..100): the value of rank ceil(p/100 · n), or null when empty.
     */
    public Double percentile(double p) {
        double v = percentiles(p)[0];
        return Double.isNaN(v) ? null : v;
    }

    /**
     * The nearest-rank percentiles {@code ps} (ascending, each in 0..100) in one pass over the counts; NaN when
     * empty. A series point asks for two of each histogram, thousands of points per answer.
     */
    public double[] percentiles(double... ps) {
        double[] out = new double[ps.length];
        long n = total();
        if (n == 0) {
            java.util.Arrays.fill(out, Double.NaN);
            return out;
        }
        int next = 0;
        long rank = rank(ps[0], n);
        // negative values first, largest magnitude first
        long seen = 0;
        for (int i = negative.counts.length - 1; i >= 0 && next < ps.length; i--) {
            seen += negative.counts[i];
            while (next < ps.length && seen >= rank) {
                out[next++] = -estimate(negative.lo + i);
                rank = next < ps.length ? rank(ps[next], n) : rank;
            }
        }
        seen += zero;
        while (next < ps.length && seen >= rank) {
            out[next++] = 0.0;
            rank = next < ps.length ? rank(ps[next], n) : rank;
        }
        for (int i = 0; i < positive.counts.length && next < ps.length; i++) {
            seen += positive.counts[i];
            while (next < ps.length && seen >= rank) {
                out[next++] = estimate(positive.lo + i);
                rank = next < ps.length ? rank(ps[next], n) : rank;
            }
        }
        return out;
    }

    private static long rank(double p, long n) {
        return Math.max(1, Math.min(n, (long) Math.ceil(p / 100.0 * n)));
    }

    /** The sparse varint form, or null when empty (stored as NULL). */
    public byte[] encode() {
        if (isEmpty()) {
            return null;
        }
        ByteSink out = new ByteSink(16);
        Varint.write(out, zero);
        positive.encode(out);
        negative.encode(out);
        return out.toByteArray();
    }

    /** Adds the histogram encoded in {@code bytes} (null: nothing). */
    public void mergeEncoded(byte[] bytes) {
        if (bytes == null || bytes.length == 0) {
            return;
        }
        int[] pos = {0};
        zero += Varint.read(bytes, pos);
        positive.decode(bytes, pos);
        negative.decode(bytes, pos);
    }

    /**
     * Adds every histogram of {@code bytes}, which holds encodings one after the other (null: nothing). The
     * encoding is self-delimiting, so SQLite can concatenate a group's cells ({@code group_concat(hist, '')})
     * and hand over one blob instead of one per cell.
     */
    public void mergeEncodedAll(byte[] bytes) {
        if (bytes == null) {
            return;
        }
        int[] pos = {0};
        while (pos[0] < bytes.length) {
            zero += Varint.read(bytes, pos);
            positive.decode(bytes, pos);
            negative.decode(bytes, pos);
        }
    }

    /** Counts for a contiguous key range, grown as keys arrive. */
    private static final class Dense {
        int lo;
        long[] counts = new long[0];
        /** The sum of {@link #counts}, kept as they change: a percentile asks for it each time. */
        long total;

        void add(int key, long count) {
            if (counts.length == 0 || key < lo || key - lo >= counts.length) {
                ensure(key, key);
            }
            counts[key - lo] += count;
            total += count;
        }

        /**
         * Makes room for the keys {@code from..to} (inclusive), growing to at least twice the size on the side
         * that grew: decoding and merging many histograms then copies the counts a few times, not once per key.
         */
        void ensure(int from, int to) {
            if (counts.length == 0) {
                lo = from;
                counts = new long[Math.max(16, to - from + 1)];
                return;
            }
            int hi = lo + counts.length - 1;
            if (from >= lo && to <= hi) {
                return;
            }
            int newLo = Math.min(lo, from);
            int newHi = Math.max(hi, to);
            int size = newHi - newLo + 1;
            int slack = Math.max(size, counts.length * 2) - size;
            if (from < lo) {
                newLo -= slack;
            }
            long[] c = new long[size + slack];
            System.arraycopy(counts, 0, c, lo - newLo, counts.length);
            counts = c;
            lo = newLo;
        }

        long total() {
            return total;
        }

        void merge(Dense o) {
            int first = 0;
            int last = o.counts.length - 1;
            while (first <= last && o.counts[first] == 0) {
                first++;
            }
            while (last >= first && o.counts[last] == 0) {
                last--;
            }
            if (first > last) {
                return;
            }
            ensure(o.lo + first, o.lo + last);
            int shift = o.lo - lo;
            for (int i = first; i <= last; i++) {
                counts[i + shift] += o.counts[i];
            }
            total += o.total;
        }

        void encode(ByteSink out) {
            int n = 0;
            for (long c : counts) {
                if (c != 0) {
                    n++;
                }
            }
            Varint.write(out, n);
            int prev = 0;
            boolean first = true;
            for (int i = 0; i < counts.length; i++) {
                if (counts[i] == 0) {
                    continue;
                }
                int key = lo + i;
                Varint.write(out, first ? Varint.zigzag(key) : key - prev);
                Varint.write(out, counts[i]);
                prev = key;
                first = false;
            }
        }

        void decode(byte[] b, int[] pos) {
            long n = Varint.read(b, pos);
            if (n == 0) {
                return;
            }
            // keys ascend: find the last one first, so the counts grow at most once per histogram
            int start = pos[0];
            int first = (int) Varint.unzigzag(Varint.read(b, pos));
            int last = first;
            Varint.read(b, pos);
            for (long i = 1; i < n; i++) {
                last += (int) Varint.read(b, pos);
                Varint.read(b, pos);
            }
            ensure(first, last);
            pos[0] = start;
            int key = 0;
            for (long i = 0; i < n; i++) {
                long d = Varint.read(b, pos);
                key = i == 0 ? (int) Varint.unzigzag(d) : key + (int) d;
                long c = Varint.read(b, pos);
                counts[key - lo] += c;
                total += c;
            }
        }
    }

    /** Unsigned LEB128 varints. */
    static final class Varint {
        private Varint() {
        }

        static void write(ByteSink out, long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }

        static long read(byte[] b, int[] pos) {
            long v = 0;
            int shift = 0;
            while (true) {
                byte x = b[pos[0]++];
                v |= (long) (x & 0x7F) << shift;
                if ((x & 0x80) == 0) {
                    return v;
                }
                shift += 7;
            }
        }

        static long zigzag(long v) {
            return (v << 1) ^ (v >> 63);
        }

        static long unzigzag(long v) {
            return (v >>> 1) ^ -(v & 1);
        }
    }
}
