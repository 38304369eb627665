package scorebook.usage;

import java.io.ByteArrayOutputStream;
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
        long n = total();
        if (n == 0) {
            return null;
        }
        long rank = Math.max(1, Math.min(n, (long) Math.ceil(p / 100.0 * n)));
        // negative values first, largest magnitude first
        long seen = 0;
        for (int i = negative.counts.length - 1; i >= 0; i--) {
            seen += negative.counts[i];
            if (seen >= rank) {
                return -estimate(negative.lo + i);
            }
        }
        seen += zero;
        if (seen >= rank) {
            return 0.0;
        }
        for (int i = 0; i < positive.counts.length; i++) {
            seen += positive.counts[i];
            if (seen >= rank) {
                return estimate(positive.lo + i);
            }
        }
        return null;
    }

    /** The sparse varint form, or null when empty (stored as NULL). */
    public byte[] encode() {
        if (isEmpty()) {
            return null;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(16);
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

    /** Counts for a contiguous key range, grown as keys arrive. */
    private static final class Dense {
        int lo;
        long[] counts = new long[0];

        void add(int key, long count) {
            if (counts.length == 0) {
                lo = key;
                counts = new long[8];
            } else if (key < lo) {
                int grow = Math.max(lo - key, 8);
                long[] c = new long[counts.length + grow];
                System.arraycopy(counts, 0, c, grow, counts.length);
                counts = c;
                lo -= grow;
            } else if (key - lo >= counts.length) {
                counts = Arrays.copyOf(counts, Math.max(key - lo + 1, counts.length * 2));
            }
            counts[key - lo] += count;
        }

        long total() {
            long t = 0;
            for (long c : counts) {
                t += c;
            }
            return t;
        }

        void merge(Dense o) {
            for (int i = 0; i < o.counts.length; i++) {
                if (o.counts[i] != 0) {
                    add(o.lo + i, o.counts[i]);
                }
            }
        }

        void encode(ByteArrayOutputStream out) {
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
            int key = 0;
            for (long i = 0; i < n; i++) {
                long d = Varint.read(b, pos);
                key = i == 0 ? (int) Varint.unzigzag(d) : key + (int) d;
                add(key, Varint.read(b, pos));
            }
        }
    }

    /** Unsigned LEB128 varints. */
    static final class Varint {
        private Varint() {
        }

        static void write(ByteArrayOutputStream out, long v) {
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
