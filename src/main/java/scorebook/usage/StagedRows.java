package scorebook.usage;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Usage rows as the bytes of a staged import ({@link ImportBatches}): every field of {@link UsageStore.Row} but the
 * user (the batch's), so the fold inserts exactly the rows the import checked. Per row: a mask of the fields it has
 * (and {@code ok}), the time, then each field it has: text as a varint length and UTF-8, integers as 4 bytes,
 * numbers as the 8 bytes of their double.
 */
final class StagedRows {
    private static final int VERSION = 1;
    private static final int OK = 1;
    private static final int API_KEY = 1 << 1;
    /** Bits 2 to 18: the text and number fields, in {@link #fields} order. */
    private static final int FIRST_FIELD = 2;
    private static final int HARDWARE = 1 << 19;
    private static final int FIRST_HARDWARE = 20;

    private StagedRows() {
    }

    /** The rows {@code order[k]} for which {@code keep[k]}, in that order. */
    static byte[] encode(List<UsageStore.Row> rows, int[] order, boolean[] keep, int kept) {
        ByteSink out = new ByteSink(kept * 96 + 8);
        out.write(VERSION);
        Histogram.Varint.write(out, kept);
        for (int k = 0; k < order.length; k++) {
            if (keep[k]) {
                write(out, rows.get(order[k]));
            }
        }
        return out.toByteArray();
    }

    private static void write(ByteSink out, UsageStore.Row r) {
        Object[] fields = fields(r);
        UsageStore.Hardware hw = r.hardware();
        Double[] hardware = hw == null ? new Double[0] : hardware(hw);
        int mask = r.ok() ? OK : 0;
        mask |= r.apiKeyId() != null ? API_KEY : 0;
        for (int i = 0; i < fields.length; i++) {
            mask |= fields[i] != null ? 1 << FIRST_FIELD + i : 0;
        }
        mask |= hw != null ? HARDWARE : 0;
        for (int i = 0; i < hardware.length; i++) {
            mask |= hardware[i] != null ? 1 << FIRST_HARDWARE + i : 0;
        }
        out.writeInt(mask);
        out.writeLong(r.tsMs());
        if (r.apiKeyId() != null) {
            out.writeLong(r.apiKeyId());
        }
        for (Object f : fields) {
            switch (f) {
                case null -> {
                }
                case String text -> {
                    byte[] b = text.getBytes(StandardCharsets.UTF_8);
                    Histogram.Varint.write(out, b.length);
                    out.writeBytes(b);
                }
                case Integer n -> out.writeInt(n);
                case Double d -> out.writeLong(Double.doubleToRawLongBits(d));
                default -> throw new IllegalArgumentException("a staged row cannot hold " + f.getClass());
            }
        }
        for (Double d : hardware) {
            if (d != null) {
                out.writeLong(Double.doubleToRawLongBits(d));
            }
        }
    }

    /** The rows of {@code bytes}, each of user {@code userId}. */
    static List<UsageStore.Row> decode(long userId, byte[] bytes) {
        if (bytes[0] != VERSION) {
            throw new IllegalStateException("staged usage rows of an unknown version " + bytes[0]);
        }
        int[] pos = {1};
        int n = (int) Histogram.Varint.read(bytes, pos);
        List<UsageStore.Row> rows = new ArrayList<>(n);
        for (int k = 0; k < n; k++) {
            int mask = readInt(bytes, pos);
            long ts = readLong(bytes, pos);
            Long apiKey = (mask & API_KEY) != 0 ? readLong(bytes, pos) : null;
            Object[] f = new Object[FIELD_TYPES.length];
            for (int i = 0; i < f.length; i++) {
                if ((mask & 1 << FIRST_FIELD + i) != 0) {
                    f[i] = switch (FIELD_TYPES[i]) {
                        case 's' -> {
                            int len = (int) Histogram.Varint.read(bytes, pos);
                            String s = new String(bytes, pos[0], len, StandardCharsets.UTF_8);
                            pos[0] += len;
                            yield s;
                        }
                        case 'i' -> readInt(bytes, pos);
                        default -> Double.longBitsToDouble(readLong(bytes, pos));
                    };
                }
            }
            UsageStore.Hardware hw = null;
            if ((mask & HARDWARE) != 0) {
                Double[] h = new Double[7];
                for (int i = 0; i < h.length; i++) {
                    h[i] = (mask & 1 << FIRST_HARDWARE + i) != 0 ? Double.longBitsToDouble(readLong(bytes, pos)) : null;
                }
                hw = new UsageStore.Hardware(h[0], h[1], h[2], h[3], h[4], h[5], h[6]);
            }
            rows.add(new UsageStore.Row(userId, apiKey, ts, (String) f[0], (String) f[1], (String) f[2],
                    (String) f[3], (String) f[4], (Integer) f[5], (Integer) f[6], (Double) f[7], (Double) f[8],
                    (Double) f[9], (mask & OK) != 0, (String) f[10], (String) f[11], (String) f[12], (String) f[13],
                    (String) f[14], (String) f[15], (String) f[16], hw));
        }
        return rows;
    }

    /** The types of {@link #fields}: s text, i integer, d number. */
    private static final char[] FIELD_TYPES = "sssssiidddsssssss".toCharArray();

    private static Object[] fields(UsageStore.Row r) {
        return new Object[] {r.sourceKind(), r.requestId(), r.device(), r.model(), r.tag(), r.promptTokens(),
                r.completionTokens(), r.latencyMs(), r.ttftMs(), r.tokS(), r.errorType(), r.errorMessage(), r.jobId(),
                r.promptPreview(), r.extra(), r.tenant(), r.dataset()};
    }

    private static Double[] hardware(UsageStore.Hardware h) {
        return new Double[] {h.prefillTokS(), h.decodeTokS(), h.loadMs(), h.batteryStartPct(), h.batteryEndPct(),
                h.tempMaxC(), h.thermalStatusMax()};
    }

    private static int readInt(byte[] b, int[] pos) {
        int p = pos[0];
        pos[0] = p + 4;
        return (b[p] & 0xff) << 24 | (b[p + 1] & 0xff) << 16 | (b[p + 2] & 0xff) << 8 | b[p + 3] & 0xff;
    }

    private static long readLong(byte[] b, int[] pos) {
        return (long) readInt(b, pos) << 32 | readInt(b, pos) & 0xffffffffL;
    }
}
