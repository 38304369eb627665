package scorebook.server;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

/**
 * A cursor over JSON bytes that checks what it moves past (RFC 8259: grammar, escapes, numbers, UTF-8) and throws
 * {@link Slow} at anything else, so that a reader built on it can leave such input to Jackson's tree reading. The
 * plain values it reads are made as Jackson's trees make them.
 */
public abstract class JsonBytes {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /** As Jackson's limits, past which the tree reading refuses a body. */
    private static final int MAX_DEPTH = 1000;
    private static final int MAX_NUMBER = 1000;
    private static final double[] POW10 = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13,
        1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

    /** Thrown for input the reader does not take (or that is not JSON). */
    public static final class Slow extends Exception {
        public Slow() {
            super(null, null, false, false);
        }
    }

    protected final byte[] b;
    protected final int end;
    protected int i;
    /** Whether the last string read had an escape. */
    private boolean escaped;

    protected JsonBytes(byte[] b, int from, int end) {
        this.b = b;
        this.i = from;
        this.end = end;
    }

    /** A plain value as the tree reading makes it; a list, an object or an escaped text is refused. */
    protected JsonNode scalar() throws Slow {
        if (i == end) {
            throw new Slow();
        }
        switch (b[i]) {
            case '"' -> {
                int from = string();
                return NODES.textNode(text(from, i - 1));
            }
            case 't', 'f', 'n' -> {
                byte c = b[i];
                literal();
                return c == 'n' ? NODES.nullNode() : NODES.booleanNode(c == 't');
            }
            default -> {
                int from = i;
                boolean integral = number();
                return integral ? integer(from, i) : NODES.numberNode(decimal(from, i));
            }
        }
    }

    /** Checks one JSON value (on its first byte) and moves past it. */
    protected void value(int depth) throws Slow {
        if (i == end || depth > MAX_DEPTH) {
            throw new Slow();
        }
        switch (b[i]) {
            case '"' -> string();
            case '{' -> {
                if (!opens('}')) {
                    do {
                        string();
                        colon();
                        value(depth + 1);
                    } while (more('}'));
                }
            }
            case '[' -> {
                if (!opens(']')) {
                    do {
                        value(depth + 1);
                    } while (more(']'));
                }
            }
            case 't', 'f', 'n' -> literal();
            default -> {
                int from = i;
                if (!number() && (i - from >= 300 || exponent(from, i))) {
                    // 1e400 is too large for a double; one without an exponent and shorter than 300 digits is not
                    if (!Double.isFinite(Double.parseDouble(new String(b, from, i - from, StandardCharsets.ISO_8859_1)))) {
                        throw new Slow();
                    }
                }
            }
        }
    }

    private boolean exponent(int from, int to) {
        for (int k = from; k < to; k++) {
            if (b[k] == 'e' || b[k] == 'E') {
                return true;
            }
        }
        return false;
    }

    /** A JSON number (on its first byte); answers whether it is an integer (no fraction, no exponent). */
    private boolean number() throws Slow {
        int from = i;
        if (i < end && b[i] == '-') {
            i++;
        }
        if (i == end || b[i] < '0' || b[i] > '9') {
            throw new Slow();
        }
        if (b[i] == '0') {
            i++;
        } else {
            digits();
        }
        boolean integral = true;
        if (i < end && b[i] == '.') {
            i++;
            if (i == end || b[i] < '0' || b[i] > '9') {
                throw new Slow();
            }
            digits();
            integral = false;
        }
        if (i < end && (b[i] == 'e' || b[i] == 'E')) {
            i++;
            if (i < end && (b[i] == '+' || b[i] == '-')) {
                i++;
            }
            if (i == end || b[i] < '0' || b[i] > '9') {
                throw new Slow();
            }
            digits();
            integral = false;
        }
        if (i - from > MAX_NUMBER) {
            throw new Slow();
        }
        return integral;
    }

    private void digits() {
        while (i < end && b[i] >= '0' && b[i] <= '9') {
            i++;
        }
    }

    /** An integer as the tree reading makes it: an int, a long or a big integer, by size. */
    private JsonNode integer(int from, int to) {
        if (to - from <= 18) {
            long v = 0;
            boolean negative = b[from] == '-';
            for (int k = negative ? from + 1 : from; k < to; k++) {
                v = v * 10 + (b[k] - '0');
            }
            v = negative ? -v : v;
            return v == (int) v ? NODES.numberNode((int) v) : NODES.numberNode(v);
        }
        BigInteger v = new BigInteger(new String(b, from, to - from, StandardCharsets.ISO_8859_1));
        return v.bitLength() < 64 ? NODES.numberNode(v.longValue()) : NODES.numberNode(v);
    }

    /**
     * A decimal's double: exact (so correctly rounded) by one multiplication or division when its digits make at most
     * 15 and its power of ten is at most 22 either way (the common case: 45.5, 1.764E9), else by the JDK's parser.
     */
    private double decimal(int from, int to) throws Slow {
        long digits = 0;
        int count = 0;
        int scale = 0;
        int k = from;
        boolean negative = b[k] == '-';
        if (negative) {
            k++;
        }
        boolean fraction = false;
        for (; k < to && b[k] != 'e' && b[k] != 'E' && count <= 15; k++) {
            if (b[k] == '.') {
                fraction = true;
            } else {
                digits = digits * 10 + (b[k] - '0');
                count += digits != 0 ? 1 : 0;
                scale += fraction ? 1 : 0;
            }
        }
        int exponent = 0;
        if (k < to && count <= 15 && (b[k] == 'e' || b[k] == 'E') && to - k <= 5) {
            int e = k + 1;
            boolean minus = b[e] == '-';
            e += b[e] == '-' || b[e] == '+' ? 1 : 0;
            for (; e < to; e++) {
                exponent = exponent * 10 + (b[e] - '0');
            }
            exponent = minus ? -exponent : exponent;
            k = to;
        }
        int power = exponent - scale;
        if (k == to && count <= 15 && power >= -22 && power <= 22) {
            double v = power < 0 ? digits / POW10[-power] : digits * POW10[power];
            return negative ? -v : v;
        }
        double v = Double.parseDouble(new String(b, from, to - from, StandardCharsets.ISO_8859_1));
        if (!Double.isFinite(v)) {
            throw new Slow();
        }
        return v;
    }

    private void literal() throws Slow {
        String word = b[i] == 't' ? "true" : b[i] == 'f' ? "false" : "null";
        for (int k = 0; k < word.length(); k++) {
            if (i == end || b[i++] != word.charAt(k)) {
                throw new Slow();
            }
        }
    }

    /**
     * A JSON string (on its '"'), checked: no control characters, valid escapes, valid UTF-8. Answers where its text
     * starts; afterwards {@code i} is past the closing quote. One with escapes is valid but answered with Slow when
     * its text is wanted ({@link #text}).
     */
    protected int string() throws Slow {
        if (i == end || b[i] != '"') {
            throw new Slow();
        }
        int from = ++i;
        escaped = false;
        while (i < end) {
            int c = b[i];
            if (c == '"') {
                i++;
                return from;
            }
            if (c == '\\') {
                escaped = true;
                i++;
                if (i == end) {
                    throw new Slow();
                }
                switch (b[i]) {
                    case '"', '\\', '/', 'b', 'f', 'n', 'r', 't' -> i++;
                    case 'u' -> {
                        for (int k = 1; k <= 4; k++) {
                            if (i + k >= end || Character.digit(b[i + k], 16) < 0) {
                                throw new Slow();
                            }
                        }
                        i += 5;
                    }
                    default -> throw new Slow();
                }
            } else if (c >= 0 && c < 0x20) {
                throw new Slow();
            } else if (c < 0) {
                utf8();
            } else {
                i++;
            }
        }
        throw new Slow();
    }

    /** One UTF-8 sequence of two to four bytes (RFC 3629: no overlong forms, no surrogates). */
    private void utf8() throws Slow {
        int c = b[i] & 0xff;
        int n;
        int lo = 0x80;
        int hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            lo = c == 0xe0 ? 0xa0 : 0x80;
            hi = c == 0xed ? 0x9f : 0xbf;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            lo = c == 0xf0 ? 0x90 : 0x80;
            hi = c == 0xf4 ? 0x8f : 0xbf;
        } else {
            throw new Slow();
        }
        if (i + n >= end) {
            throw new Slow();
        }
        int second = b[i + 1] & 0xff;
        if (second < lo || second > hi) {
            throw new Slow();
        }
        for (int k = 2; k <= n; k++) {
            int next = b[i + k] & 0xff;
            if (next < 0x80 || next > 0xbf) {
                throw new Slow();
            }
        }
        i += n + 1;
    }

    /** The text of the string just read, at [from, to) (between its quotes); one with escapes goes the tree way. */
    protected String text(int from, int to) throws Slow {
        if (escaped) {
            throw new Slow();
        }
        return new String(b, from, to - from, StandardCharsets.UTF_8);
    }

    /** A name (on its '"'); answers where it starts. One with escapes goes the tree way (it is compared as bytes). */
    protected int name() throws Slow {
        int from = string();
        if (escaped) {
            throw new Slow();
        }
        return from;
    }

    /** Whether the bytes at [from, to) are {@code name}'s (names are short: a plain loop). */
    protected boolean same(int from, int to, byte[] name) {
        if (to - from != name.length) {
            return false;
        }
        for (int k = 0; k < name.length; k++) {
            if (b[from + k] != name[k]) {
                return false;
            }
        }
        return true;
    }

    /** On a '{' or '[': moves past it; true when {@code close} follows at once (and moves past it too). */
    protected boolean opens(char close) {
        i++;
        ws();
        if (i < end && b[i] == close) {
            i++;
            return true;
        }
        return false;
    }

    /** After a member or an element: true past a ',' (another follows), false past {@code close}, else Slow. */
    protected boolean more(char close) throws Slow {
        ws();
        if (i < end && b[i] == ',') {
            i++;
            ws();
            return true;
        }
        if (i < end && b[i] == close) {
            i++;
            return false;
        }
        throw new Slow();
    }

    protected void colon() throws Slow {
        ws();
        if (i == end || b[i] != ':') {
            throw new Slow();
        }
        i++;
        ws();
    }

    protected void ws() {
        while (i < end && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t')) {
            i++;
        }
    }

    /** As String.isBlank, without making the string of a large body. */
    protected static boolean isBlank(byte[] b) {
        for (byte c : b) {
            if (c < 0) {
                return new String(b, StandardCharsets.UTF_8).isBlank();
            }
            if (c > ' ') {
                return false;
            }
        }
        return new String(b, StandardCharsets.UTF_8).isBlank();
    }

    protected static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
