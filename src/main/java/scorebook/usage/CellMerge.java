package scorebook.usage;

import java.nio.charset.StandardCharsets;

/**
 * Merges two encoded rollup blobs (a stored cell's and a fold's) straight from their bytes: the occupied buckets
 * of both histograms are read in key order and joined, without building histograms. The output is the bytes
 * {@link Histogram#encode} and {@link Tally#encodeExtra} would write for the merged values (same buckets, same
 * order), so cells stay in the one encoding the readers decode. The fold's cell upsert calls these through the
 * SQL functions usage_hist_merge and usage_extra_merge, once per touched cell.
 */
final class CellMerge {
    private CellMerge() {
    }

    /** The merge of two encoded histograms (neither null). */
    static byte[] histograms(byte[] a, byte[] b) {
        int[] pa = {0};
        int[] pb = {0};
        ByteSink out = new ByteSink(a.length + b.length);
        Histogram.Varint.write(out, Histogram.Varint.read(a, pa) + Histogram.Varint.read(b, pb));
        side(a, pa, b, pb, out);
        side(a, pa, b, pb, out);
        return out.toByteArray();
    }

    /** One sign's buckets: n, then (first key zigzagged, later keys as deltas, each with its count). */
    private static void side(byte[] a, int[] pa, byte[] b, int[] pb, ByteSink out) {
        int na = (int) Histogram.Varint.read(a, pa);
        int nb = (int) Histogram.Varint.read(b, pb);
        int[] keys = new int[na + nb];
        long[] counts = new long[na + nb];
        int n = 0;
        int ia = 0;
        int ib = 0;
        int ka = 0;
        int kb = 0;
        long ca = 0;
        long cb = 0;
        if (ia < na) {
            ka = (int) Histogram.Varint.unzigzag(Histogram.Varint.read(a, pa));
            ca = Histogram.Varint.read(a, pa);
        }
        if (ib < nb) {
            kb = (int) Histogram.Varint.unzigzag(Histogram.Varint.read(b, pb));
            cb = Histogram.Varint.read(b, pb);
        }
        while (ia < na || ib < nb) {
            boolean takeA = ib >= nb || (ia < na && ka <= kb);
            boolean takeB = ia >= na || (ib < nb && kb <= ka);
            keys[n] = takeA ? ka : kb;
            counts[n] = (takeA ? ca : 0) + (takeB ? cb : 0);
            n++;
            if (takeA && ++ia < na) {
                ka += (int) Histogram.Varint.read(a, pa);
                ca = Histogram.Varint.read(a, pa);
            }
            if (takeB && ++ib < nb) {
                kb += (int) Histogram.Varint.read(b, pb);
                cb = Histogram.Varint.read(b, pb);
            }
        }
        Histogram.Varint.write(out, n);
        for (int i = 0; i < n; i++) {
            Histogram.Varint.write(out, i == 0 ? Histogram.Varint.zigzag(keys[i]) : keys[i] - keys[i - 1]);
            Histogram.Varint.write(out, counts[i]);
        }
    }

    /** One label of an encoded extra blob. */
    private record Label(String label, byte[] name, long n, double sum, double min, double max, byte[] hist) {
    }

    /** The merge of two encoded extra blobs (neither null): labels in order, same labels added up. */
    static byte[] extras(byte[] a, byte[] b) {
        Label[] la = labels(a);
        Label[] lb = labels(b);
        ByteSink out = new ByteSink(a.length + b.length);
        int ia = 0;
        int ib = 0;
        int n = 0;
        // count the merged labels first (the blob starts with their number)
        while (ia < la.length || ib < lb.length) {
            int c = ia >= la.length ? 1 : ib >= lb.length ? -1 : la[ia].label.compareTo(lb[ib].label);
            ia += c <= 0 ? 1 : 0;
            ib += c >= 0 ? 1 : 0;
            n++;
        }
        Histogram.Varint.write(out, n);
        ia = 0;
        ib = 0;
        while (ia < la.length || ib < lb.length) {
            int c = ia >= la.length ? 1 : ib >= lb.length ? -1 : la[ia].label.compareTo(lb[ib].label);
            Label x;
            if (c < 0) {
                x = la[ia++];
            } else if (c > 0) {
                x = lb[ib++];
            } else {
                Label p = la[ia++];
                Label q = lb[ib++];
                byte[] hist = p.hist == null ? q.hist : q.hist == null ? p.hist : histograms(p.hist, q.hist);
                x = new Label(p.label, p.name, p.n + q.n, p.sum + q.sum, Math.min(p.min, q.min), Math.max(p.max, q.max),
                        hist);
            }
            Histogram.Varint.write(out, x.name.length);
            out.writeBytes(x.name);
            Histogram.Varint.write(out, x.n);
            Tally.writeDouble(out, x.sum);
            Tally.writeDouble(out, x.min);
            Tally.writeDouble(out, x.max);
            Histogram.Varint.write(out, x.hist == null ? 0 : x.hist.length);
            if (x.hist != null) {
                out.writeBytes(x.hist);
            }
        }
        return out.toByteArray();
    }

    private static Label[] labels(byte[] b) {
        int[] pos = {0};
        Label[] out = new Label[(int) Histogram.Varint.read(b, pos)];
        for (int i = 0; i < out.length; i++) {
            int len = (int) Histogram.Varint.read(b, pos);
            byte[] name = java.util.Arrays.copyOfRange(b, pos[0], pos[0] + len);
            pos[0] += len;
            long n = Histogram.Varint.read(b, pos);
            double sum = Tally.readDouble(b, pos);
            double min = Tally.readDouble(b, pos);
            double max = Tally.readDouble(b, pos);
            int hl = (int) Histogram.Varint.read(b, pos);
            byte[] hist = hl == 0 ? null : java.util.Arrays.copyOfRange(b, pos[0], pos[0] + hl);
            pos[0] += hl;
            out[i] = new Label(new String(name, StandardCharsets.UTF_8), name, n, sum, min, max, hist);
        }
        return out;
    }
}
