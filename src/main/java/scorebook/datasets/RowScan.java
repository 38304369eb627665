package scorebook.datasets;

import java.util.Arrays;
import java.util.Set;
import java.util.function.Function;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.JsonBytes;

/**
 * Reads an append body's rows in one pass over its bytes ({@link JsonBytes}), without building them as trees: where
 * the rows are in the body (a JSON array SQLite splits), how many, and the values of the few fields the dataset's
 * adapter reads (to answer which rows make usage rows). It takes only bodies whose rows are JSON objects without
 * {@code _meta_*} fields, whose mapped fields hold plain values given once, and whose names and mapped texts have no
 * escapes; anything else (an error included) answers {@link #SLOW}, and the append reads the body as trees, whose
 * errors name what is wrong. (A tree parser took 60 % of an append's CPU.)
 */
final class RowScan extends JsonBytes {
    private static final byte[][] META = {bytes("_meta_user_id"), bytes("_meta_dataset"), bytes("_meta_ts")};
    private static final byte[] DATASET = bytes("dataset");
    private static final byte[] ROWS = bytes("rows");

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
        /** The names in slot order: the adapter asks with these very strings, so a lookup is a few {@code ==}. */
        private final String[] names;
        private final byte[][] keys;
        private final JsonNode[] values;
        /** Slot + 1 by a name's {@link #hash} (0: none), so that a row's name is compared with one field at most. */
        private final int[] byHash = new int[64];
        private boolean collisions;

        Values(Set<String> fields) {
            names = fields.toArray(String[]::new);
            keys = new byte[names.length][];
            for (int slot = 0; slot < names.length; slot++) {
                keys[slot] = bytes(names[slot]);
                int h = hash(keys[slot], 0, keys[slot].length);
                collisions |= byHash[h] != 0;
                byHash[h] = slot + 1;
            }
            values = new JsonNode[names.length];
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
            for (int k = 0; k < names.length; k++) {
                if (names[k].equals(field)) {
                    return values[k];
                }
            }
            return null;
        }
    }

    private RowScan(byte[] b, int from, int end) {
        super(b, from, end);
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

}
