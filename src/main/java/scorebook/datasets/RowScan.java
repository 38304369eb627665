package scorebook.datasets;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

/**
 * Reads an append body's rows in one pass over its bytes, without building them as trees: where the rows are in the
 * body (a JSON array SQLite splits), how many, and the values of the few fields the dataset's adapter reads (to answer
 * which rows make usage rows). It checks the body is JSON (RFC 8259, UTF-8) as it goes, and takes only bodies whose
 * rows are JSON objects without {@code _meta_*} fields, whose mapped fields hold plain values given once, and whose
 * names and mapped texts have no escapes; anything else (an error included) answers {@link #SLOW}, and the append
 * reads the body as trees, whose errors name what is wrong. (A tree parser took 60 % of an append's CPU.)
 */
final class RowScan {
    private static final byte[][] META = {bytes("_meta_user_id"), bytes("_meta_dataset"), bytes("_meta_ts")};
    private static final byte[] DATASET = bytes("dataset");
    private static final byte[] ROWS = bytes("rows");
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /** As Jackson's limits, past which the tree reading refuses a body. */
    private static final int MAX_DEPTH = 1000;
    private static final int MAX_NUMBER = 1000;
    private static final double[] POW10 = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13,
        1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

    /** The answer for a body this reader does not take. */
    static final Rows SLOW = new Rows(null, null, 0, 0, 0);

    /**
     * The rows of an append body.
     *
     * @param dataset the dataset named (body or query)
     * @param json    bytes holding the rows as one JSON array at [from, to)
     * @param from    where the array starts
     * @param to      where it ends
     * @param count   how many rows
     */
    record Rows(String dataset, byte[] json, int from, int to, int count) {
    }

    /**
     * What is done with each row as it is read: {@code each} gets its index and its {@code fields}' values (a lookup
     * that answers null for a field the row does not have; valid until the next row).
     */
    record Check(Set<String> fields, Each each) {
        static final Check NONE = new Check(Set.of(), (i, row) -> { });
    }

    /** What a {@link Check} does with one row. */
    interface Each {
        void row(int index, Function<String, JsonNode> fields);
    }

    /** One row's values of the fields a check reads, in slots; the names as UTF-8 to compare with a row's bytes. */
    private static final class Values implements Function<String, JsonNode> {
        private final Map<String, Integer> slots = new HashMap<>();
        /** The names in slot order: the adapter asks with these very strings, so most lookups are one {@code ==}. */
        private final String[] names;
        private final byte[][] keys;
        private final JsonNode[] values;
        /** Slot + 1 by a name's {@link #hash} (0: none), so that a row's name is compared with one field at most. */
        private final int[] byHash = new int[64];
        private boolean collisions;

        Values(Set<String> fields) {
            keys = new byte[fields.size()][];
            names = new String[fields.size()];
            for (String f : fields) {
                names[slots.size()] = f;
                byte[] k = bytes(f);
                int h = hash(k, 0, k.length);
                collisions |= byHash[h] != 0;
                byHash[h] = slots.size() + 1;
                keys[slots.size()] = k;
                slots.put(f, slots.size());
            }
            values = new JsonNode[keys.length];
        }

        static int hash(byte[] b, int from, int to) {
            int n = to - from;
            return n == 0 ? 0 : (n * 7 + b[from] * 3 + b[to - 1]) & 63;
        }

        @Override
        public JsonNode apply(String field) {
            for (int k = 0; k < names.length; k++) {
                if (names[k] == field) {
                    return values[k];
                }
            }
            Integer slot = slots.get(field);
            return slot == null ? null : values[slot];
        }
    }

    /** Thrown inside the reader for a body it does not take (or that is not JSON). */
    private static final class Slow extends Exception {
        Slow() {
            super(null, null, false, false);
        }
    }

    private final byte[] b;
    private final int end;
    private int i;
    /** Whether the last string read had an escape. */
    private boolean escaped;

    private RowScan(byte[] b, int from, int end) {
        this.b = b;
        this.i = from;
        this.end = end;
    }

    /**
     * Reads {@code body}: {@code {dataset, rows: [...]}}, or NDJSON rows when {@code queryDataset} is given (and the
     * body is not one object with {@code rows}, or {@code ndjson} says it is NDJSON), by the same rules as the tree
     * reading. {@code checkOf} answers, for the dataset named, what to pick out of each row and do with it (it is asked
     * again when a first reading is given up for another).
     */
    static Rows read(byte[] body, String queryDataset, boolean ndjson, Function<String, Check> checkOf) {
        if (isBlank(body)) {
            return SLOW;
        }
        try {
            if (!ndjson) {
                Rows whole = new RowScan(body, 0, body.length).whole(queryDataset, checkOf);
                if (whole != null) {
                    return whole;
                }
            }
            return queryDataset == null ? SLOW : lines(body, queryDataset, checkOf.apply(queryDataset));
        } catch (Slow | RuntimeException e) {
            return SLOW;
        }
    }

    /** {@code {dataset, rows}}; null when the body is not one JSON object with {@code rows} (NDJSON, perhaps). */
    private Rows whole(String queryDataset, Function<String, Check> checkOf) throws Slow {
        ws();
        if (i == end || b[i] != '{') {
            return null;
        }
        String dataset = null;
        Rows rows = null;
        if (opens('}')) {
            return null;
        }
        do {
            int key = name();
            int keyEnd = i - 1;
            colon();
            if (same(key, keyEnd, DATASET)) {
                if (dataset != null || rows != null || i == end || b[i] != '"') {
                    throw new Slow(); // given twice, after the rows or not a text: the tree reading
                }
                int from = string();
                dataset = text(from, i - 1);
            } else if (same(key, keyEnd, ROWS)) {
                String named = dataset != null ? dataset : queryDataset;
                if (rows != null || named == null || i == end || b[i] != '[') {
                    throw new Slow();
                }
                rows = array(named, checkOf.apply(named));
            } else {
                value(0);
            }
        } while (more('}'));
        ws();
        // more after the object: NDJSON, or an error the tree reading describes
        return i == end ? rows : null;
    }

    /** The rows array (on its '['). */
    private Rows array(String dataset, Check check) throws Slow {
        int from = i;
        Values fields = new Values(check.fields());
        int count = 0;
        if (!opens(']')) {
            do {
                row(fields);
                check.each().row(count++, fields);
            } while (more(']'));
        }
        return new Rows(dataset, b, from, i, count);
    }

    /** NDJSON: one object per line, blank lines skipped. */
    private static Rows lines(byte[] body, String dataset, Check check) throws Slow {
        byte[] json = new byte[body.length + 2];
        int n = 0;
        json[n++] = '[';
        Values fields = new Values(check.fields());
        int count = 0;
        int lineStart = 0;
        while (lineStart < body.length) {
            int lineEnd = lineStart;
            while (lineEnd < body.length && body[lineEnd] != '\n') {
                lineEnd++;
            }
            RowScan line = new RowScan(body, lineStart, lineEnd);
            line.ws();
            if (line.i < lineEnd) {
                line.row(fields);
                line.ws();
                if (line.i != lineEnd) {
                    throw new Slow();
                }
                check.each().row(count++, fields);
                if (count > 1) {
                    json[n++] = ',';
                }
                System.arraycopy(body, lineStart, json, n, lineEnd - lineStart);
                n += lineEnd - lineStart;
            }
            lineStart = lineEnd + 1;
        }
        json[n++] = ']';
        return new Rows(dataset, json, 0, n, count);
    }

    /** One row, an object (on its first byte): its mapped fields' values into {@code fields}. */
    private void row(Values fields) throws Slow {
        if (i == end || b[i] != '{') {
            throw new Slow();
        }
        Arrays.fill(fields.values, null);
        if (opens('}')) {
            return;
        }
        do {
            int key = name();
            int keyEnd = i - 1;
            colon();
            int slot = slot(fields, key, keyEnd);
            if (slot >= 0) {
                // a mapped field given twice: the tree reading keeps the last, and so must the rule
                if (fields.values[slot] != null) {
                    throw new Slow();
                }
                fields.values[slot] = scalar();
            } else {
                value(1);
            }
        } while (more('}'));
    }

    /** The mapped field a name (its bytes at [from, to)) is, or -1; a _meta_* name is left to the tree reading. */
    private int slot(Values fields, int from, int to) throws Slow {
        if (!fields.collisions) {
            int k = fields.byHash[Values.hash(b, from, to)] - 1;
            if (k >= 0 && same(from, to, fields.keys[k])) {
                return k;
            }
        } else {
            for (int k = 0; k < fields.keys.length; k++) {
                if (same(from, to, fields.keys[k])) {
                    return k;
                }
            }
        }
        if (to - from > 6 && b[from] == '_') {
            for (byte[] meta : META) {
                if (same(from, to, meta)) {
                    throw new Slow();
                }
            }
        }
        return -1;
    }

    /** A mapped field's value as the tree reading makes it; a list, an object or an escaped text is left to it. */
    private JsonNode scalar() throws Slow {
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
    private void value(int depth) throws Slow {
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
    private int string() throws Slow {
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
    private String text(int from, int to) throws Slow {
        if (escaped) {
            throw new Slow();
        }
        return new String(b, from, to - from, StandardCharsets.UTF_8);
    }

    /** A name (on its '"'); answers where it starts. One with escapes goes the tree way (it is compared as bytes). */
    private int name() throws Slow {
        int from = string();
        if (escaped) {
            throw new Slow();
        }
        return from;
    }

    /** Whether the bytes at [from, to) are {@code name}'s (names are short: a plain loop). */
    private boolean same(int from, int to, byte[] name) {
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
    private boolean opens(char close) {
        i++;
        ws();
        if (i < end && b[i] == close) {
            i++;
            return true;
        }
        return false;
    }

    /** After a member or an element: true past a ',' (another follows), false past {@code close}, else Slow. */
    private boolean more(char close) throws Slow {
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

    private void colon() throws Slow {
        ws();
        if (i == end || b[i] != ':') {
            throw new Slow();
        }
        i++;
        ws();
    }

    private void ws() {
        while (i < end && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t')) {
            i++;
        }
    }

    /** As String.isBlank, without making the string of a large body. */
    private static boolean isBlank(byte[] b) {
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

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
