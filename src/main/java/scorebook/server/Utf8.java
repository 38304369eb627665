package scorebook.server;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Strict UTF-8: overlong forms, encoded surrogates and cut sequences are not text. Java's decoder refuses them;
 * Jackson's byte parser and percent-decoding let some through (an overlong "/" read as "/", or U+FFFD in its place).
 */
final class Utf8 {
    private Utf8() {
    }

    /** The offset of the first byte that does not belong to well-formed UTF-8, or -1. */
    static int firstInvalid(byte[] bytes) {
        int i = 0;
        while (i < bytes.length && bytes[i] >= 0) {
            i++; // ASCII, the usual case, without a decoder
        }
        if (i == bytes.length) {
            return -1;
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes, i, bytes.length - i);
        CharBuffer out = CharBuffer.allocate(8192);
        while (true) {
            CoderResult r = decoder.decode(in, out, true);
            if (r.isError()) {
                return in.position();
            }
            if (r.isUnderflow()) {
                r = decoder.flush(out.clear());
                return r.isError() ? in.position() : -1;
            }
            out.clear();
        }
    }

    /** Whether the %XX sequences of a raw (still encoded) path or query decode to well-formed UTF-8. */
    static boolean percentDecodesToText(String raw) {
        if (raw == null || raw.indexOf('%') < 0) {
            return true;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%' && i + 2 < raw.length() && hex(raw.charAt(i + 1)) >= 0 && hex(raw.charAt(i + 2)) >= 0) {
                bytes.write(hex(raw.charAt(i + 1)) * 16 + hex(raw.charAt(i + 2)));
                i += 2;
            } else if (c == '%') {
                return false;
            } else {
                bytes.write(c < 0x80 ? c : '?');
            }
        }
        return firstInvalid(bytes.toByteArray()) < 0;
    }

    private static int hex(char c) {
        return Character.digit(c, 16);
    }
}
