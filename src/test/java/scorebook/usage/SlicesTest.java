package scorebook.usage;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import scorebook.testing.Wait;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An export's memory stays bounded however long its range: slices are made at most {@value Slices#AHEAD} ahead of
 * the one being written, and written in their order.
 */
class SlicesTest {
    @Test
    void slicesAreMadeAFewAheadOfTheWriterAndWrittenInOrderInBuffersUsedAgain() throws Exception {
        List<Long> starts = new ArrayList<>();
        for (long s = 0; s < 100; s++) {
            starts.add(s * 10);
        }
        AtomicInteger made = new AtomicInteger();
        int[] written = {0};
        int[] mostAhead = {0};
        ByteArrayOutputStream out = new ByteArrayOutputStream() {
            @Override
            public synchronized void write(byte[] b, int off, int len) {
                written[0]++;
                if (written[0] == 1) {
                    // a slow first write: the workers run ahead meanwhile, and must stop where the bound says
                    Wait.until("the slices allowed ahead are made", () -> made.get() >= Slices.AHEAD);
                }
                mostAhead[0] = Math.max(mostAhead[0], made.get() - written[0]);
                super.write(b, off, len);
            }
        };
        java.util.Set<byte[]> buffers = java.util.Collections.synchronizedSet(
                java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>()));
        long rows = Slices.write(starts, 1_000, (from, to, buffer) -> {
            made.incrementAndGet();
            byte[] line = (from + "-" + to + "\n").getBytes(StandardCharsets.US_ASCII);
            byte[] into = buffer != null ? buffer : new byte[64];
            System.arraycopy(line, 0, into, 0, line.length);
            buffers.add(into);
            return new Slices.Slice(into, line.length, 1);
        }, out);
        assertEquals(100, rows);
        assertEquals(100, made.get());
        assertTrue(mostAhead[0] <= Slices.AHEAD, "made ahead of the writer: " + mostAhead[0]);
        // a written slice's buffer is used again, and only once written (else a line below would be another's)
        assertTrue(buffers.size() <= Slices.AHEAD + 2, buffers.size() + " buffers for 100 slices");
        String[] lines = out.toString(StandardCharsets.US_ASCII).split("\n");
        for (int i = 0; i < 100; i++) {
            assertEquals(i * 10 + "-" + (i == 99 ? 1_000 : (i + 1) * 10), lines[i]);
        }
    }
}
