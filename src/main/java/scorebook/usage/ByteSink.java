package scorebook.usage;

import java.util.Arrays;

/**
 * A growable byte array for the histogram and cell encodings: ByteArrayOutputStream without its lock, which every
 * write takes (varints are written a byte at a time: the lock was a tenth of a fold's CPU in a profile).
 */
final class ByteSink {
    private byte[] bytes;
    private int size;

    ByteSink(int capacity) {
        bytes = new byte[Math.max(capacity, 8)];
    }

    void write(int b) {
        if (size == bytes.length) {
            bytes = Arrays.copyOf(bytes, bytes.length * 2);
        }
        bytes[size++] = (byte) b;
    }

    void writeBytes(byte[] b) {
        if (size + b.length > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + b.length));
        }
        System.arraycopy(b, 0, bytes, size, b.length);
        size += b.length;
    }

    void writeLong(long v) {
        for (int shift = 56; shift >= 0; shift -= 8) {
            write((int) (v >>> shift));
        }
    }

    void writeInt(int v) {
        for (int shift = 24; shift >= 0; shift -= 8) {
            write(v >>> shift);
        }
    }

    byte[] toByteArray() {
        return Arrays.copyOf(bytes, size);
    }
}
