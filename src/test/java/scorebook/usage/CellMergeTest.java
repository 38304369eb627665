package scorebook.usage;

import java.util.Random;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The fold's byte-level merge of two cells' blobs writes exactly what decoding both, adding them up and encoding
 * the sum writes (the readers decode one encoding): random histograms with positive, negative and zero values,
 * disjoint and shared buckets, and extras with shared, missing and histogram-less labels.
 */
class CellMergeTest {
    private static Histogram random(Random r, int values) {
        Histogram h = new Histogram();
        for (int i = 0; i < values; i++) {
            int kind = r.nextInt(10);
            h.add(kind == 0 ? 0 : kind == 1 ? -Math.exp(r.nextGaussian() * 3) : Math.exp(r.nextGaussian() * 3 + r.nextInt(3)));
        }
        return h;
    }

    @Test
    void mergedHistogramBytesAreTheEncodingOfTheSum() {
        Random r = new Random(5);
        for (int round = 0; round < 2_000; round++) {
            Histogram a = random(r, 1 + r.nextInt(round % 50 + 1));
            Histogram b = random(r, 1 + r.nextInt(40));
            Histogram sum = new Histogram();
            sum.merge(a);
            sum.merge(b);
            assertArrayEquals(sum.encode(), CellMerge.histograms(a.encode(), b.encode()), "round " + round);
        }
    }

    private static Tally extras(Random r) {
        Tally t = new Tally();
        String[] labels = {"GPU power (W)", "cpu", "é-label", "watts", "zz"};
        for (String label : labels) {
            if (r.nextInt(3) == 0) {
                continue;
            }
            Tally.Extra x = t.extra.computeIfAbsent(label, k -> new Tally.Extra());
            for (int i = 1 + r.nextInt(20); i > 0; i--) {
                x.add(r.nextInt(4) == 0 ? 0 : r.nextGaussian() * 100);
            }
        }
        if (t.extra.isEmpty()) {
            t.extra.computeIfAbsent("watts", k -> new Tally.Extra()).add(1.5);
        }
        return t;
    }

    @Test
    void mergedExtraBytesAreTheEncodingOfTheSum() {
        Random r = new Random(9);
        for (int round = 0; round < 2_000; round++) {
            Tally a = extras(r);
            Tally b = extras(r);
            Tally sum = new Tally();
            sum.mergeEncodedExtras(a.encodeExtra(), true);
            sum.mergeEncodedExtras(b.encodeExtra(), true);
            assertArrayEquals(sum.encodeExtra(), CellMerge.extras(a.encodeExtra(), b.encodeExtra()), "round " + round);
        }
    }
}
