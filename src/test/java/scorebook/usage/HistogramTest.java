package scorebook.usage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * Histograms merged in any way (directly, through their encodings, one by one or concatenated; few occupied
 * buckets or many) equal the histogram of all their values added one by one: the same encoding byte for byte, the
 * same total and percentiles. (The fold's cells and every grouped read rely on it.)
 */
class HistogramTest {
    @Test
    void mergesOfFewAndManyBucketsEqualAddingEveryValue() {
        Random r = new Random(11);
        for (int trial = 0; trial < 3_000; trial++) {
            Histogram all = new Histogram();
            List<Histogram> parts = new ArrayList<>();
            int n = 1 + r.nextInt(6);
            for (int p = 0; p < n; p++) {
                Histogram h = new Histogram();
                int values = r.nextInt(4) == 0 ? r.nextInt(200) : r.nextInt(5);
                for (int v = 0; v < values; v++) {
                    double x = value(r);
                    long count = 1 + r.nextInt(3);
                    h.add(x, count);
                    all.add(x, count);
                }
                parts.add(h);
            }
            Histogram merged = new Histogram();
            ByteArrayOutputStream concatenated = new ByteArrayOutputStream();
            for (Histogram h : parts) {
                switch (r.nextInt(3)) {
                    case 0 -> merged.merge(h);
                    case 1 -> merged.mergeEncoded(h.encode());
                    default -> {
                        byte[] e = h.encode();
                        if (e != null) {
                            concatenated.writeBytes(e);
                        }
                    }
                }
            }
            merged.mergeEncodedAll(concatenated.toByteArray());
            String what = "trial " + trial;
            assertEquals(all.total(), merged.total(), what);
            if (all.isEmpty()) {
                assertNull(merged.encode(), what);
                continue;
            }
            assertArrayEquals(all.encode(), merged.encode(), what);
            assertArrayEquals(all.percentiles(1, 50, 95, 99), merged.percentiles(1, 50, 95, 99), what);
            Histogram decoded = new Histogram();
            decoded.mergeEncoded(merged.encode());
            assertArrayEquals(all.encode(), decoded.encode(), what + ": decoded again");
        }
    }

    /** Latencies over a wide range, small ones, negatives and zeros: every kind of bucket. */
    private static double value(Random r) {
        return switch (r.nextInt(6)) {
            case 0 -> 300 + r.nextInt(5_000);
            case 1 -> 1 + r.nextDouble() * 3;
            case 2 -> -(1 + r.nextInt(100));
            case 3 -> 0;
            case 4 -> Math.pow(10, r.nextInt(12) - 4);
            default -> 50 + r.nextInt(250);
        };
    }
}
