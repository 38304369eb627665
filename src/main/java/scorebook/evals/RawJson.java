package scorebook.evals;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.core.SerializableString;

/**
 * Stored JSON as UTF-8 bytes (or a slice of them), for {@code JsonGenerator.writeRawValue} and {@code writeRaw}:
 * a byte generator copies the bytes as they are, without decoding them to a String and encoding them back.
 */
final class RawJson implements SerializableString {
    private final byte[] utf8;
    private final int from;
    private final int length;

    RawJson(byte[] utf8) {
        this(utf8, 0, utf8.length);
    }

    /** The bytes {@code from} (inclusive) to {@code to} (exclusive) of {@code utf8}. */
    RawJson(byte[] utf8, int from, int to) {
        this.utf8 = utf8;
        this.from = from;
        this.length = to - from;
    }

    @Override
    public String getValue() {
        return new String(utf8, from, length, StandardCharsets.UTF_8);
    }

    @Override
    public int charLength() {
        return getValue().length();
    }

    @Override
    public char[] asQuotedChars() {
        throw new UnsupportedOperationException("raw JSON is never quoted");
    }

    @Override
    public byte[] asUnquotedUTF8() {
        return from == 0 && length == utf8.length ? utf8 : java.util.Arrays.copyOfRange(utf8, from, from + length);
    }

    @Override
    public byte[] asQuotedUTF8() {
        throw new UnsupportedOperationException("raw JSON is never quoted");
    }

    @Override
    public int appendQuotedUTF8(byte[] buffer, int offset) {
        throw new UnsupportedOperationException("raw JSON is never quoted");
    }

    @Override
    public int appendQuoted(char[] buffer, int offset) {
        throw new UnsupportedOperationException("raw JSON is never quoted");
    }

    @Override
    public int appendUnquotedUTF8(byte[] buffer, int offset) {
        if (offset + length > buffer.length) {
            return -1;
        }
        System.arraycopy(utf8, from, buffer, offset, length);
        return length;
    }

    @Override
    public int appendUnquoted(char[] buffer, int offset) {
        String s = getValue();
        if (offset + s.length() > buffer.length) {
            return -1;
        }
        s.getChars(0, s.length(), buffer, offset);
        return s.length();
    }

    @Override
    public int writeQuotedUTF8(OutputStream out) {
        throw new UnsupportedOperationException("raw JSON is never quoted");
    }

    @Override
    public int writeUnquotedUTF8(OutputStream out) throws IOException {
        out.write(utf8, from, length);
        return length;
    }

    @Override
    public int putQuotedUTF8(ByteBuffer buffer) {
        throw new UnsupportedOperationException("raw JSON is never quoted");
    }

    @Override
    public int putUnquotedUTF8(ByteBuffer buffer) {
        if (buffer.remaining() < length) {
            return -1;
        }
        buffer.put(utf8, from, length);
        return length;
    }
}
