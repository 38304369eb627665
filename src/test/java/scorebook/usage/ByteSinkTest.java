package scorebook.usage;

import java.util.Arrays;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** The sink grows past its first capacity by single bytes and by arrays, and keeps every byte in order. */
class ByteSinkTest {
    @Test
    void keepsEveryByteInOrderAsItGrows() {
        ByteSink sink = new ByteSink(0);
        byte[] want = new byte[7_000];
        for (int i = 0; i < 1_000; i++) {
            sink.write(i);
            want[i] = (byte) i;
        }
        byte[] block = new byte[6_000];
        Arrays.fill(block, (byte) 7);
        sink.writeBytes(block);
        System.arraycopy(block, 0, want, 1_000, block.length);
        assertArrayEquals(want, sink.toByteArray());
        assertArrayEquals(new byte[0], new ByteSink(4).toByteArray());
    }
}
