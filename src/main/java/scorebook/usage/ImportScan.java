package scorebook.usage;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.server.ApiException;
import scorebook.server.JsonBytes;

/**
 * Reads an import's JSON rows (one array, or NDJSON lines) in one pass over the body's bytes and checks each
 * ordinary row into its usage row without building a tree (trees and rules took ~4 ms per 1,000 rows, this ~1.5).
 * A row it does not take (escapes, lists, a name given twice, a field that breaks a rule...) is read as a tree and
 * goes the tree way; an array body that is not valid JSON answers {@link Slow}, and the whole body goes the tree
 * way, whose errors name what is wrong. So every answer is the tree reading's.
 */
final class ImportScan extends JsonBytes {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /** A longer number or text goes the tree way (Jackson's limits are far above; so nothing near them is taken). */
    private static final int MAX_SCALAR = 100_000;
    /** Rows nested deeper go the tree way at once: the array's own level counts in the tree reading's limit. */
    private static final int SHALLOW = 950;

    /** The usage row of one row's fields, by {@link UsageRows}' rules. */
    interface Check {
        UsageStore.Row row(Function<String, JsonNode> fields) throws UsageRows.Bad;
    }

    private final boolean lines;
    private final Check check;
    private final int maxRows;
    private final Members members = new Members();
    private int index;
    private boolean started;
    private boolean done;
    /** The line byte {@link #counted} is on, for the errors of tree rows (counted as Jackson counts lines). */
    private int counted;
    private long line = 1;
    /** NDJSON: the next line's number. */
    private long lineNumber = 1;

    /** {@code lines}: NDJSON, else one JSON array. */
    ImportScan(byte[] body, boolean lines, int maxRows, Check check) {
        super(body, 0, body.length);
        this.lines = lines;
        this.maxRows = maxRows;
        this.check = check;
    }

    /** Reads up to {@code max} more rows into {@code out}; false once the body is read. */
    boolean next(List<UsageCsv.Parsed> out, int max) throws Slow {
        try {
            for (int n = 0; n < max && !done; n++) {
                if (lines) {
                    line(out);
                } else {
                    element(out);
                }
            }
            return !done;
        } catch (RuntimeException e) {
            if (e instanceof ApiException) {
                throw e;
            }
            throw new Slow(); // a reader's bug must not answer differently from the tree reading
        }
    }

    /** The array's next element (or its end). */
    private void element(List<UsageCsv.Parsed> out) throws Slow {
        if (!started) {
            started = true;
            ws();
            if (i == end || b[i] != '[') {
                throw new Slow();
            }
            if (opens(']')) {
                finish();
                return;
            }
        }
        if (index >= maxRows) {
            throw new Slow(); // 413, or 400 when the next element is not even a token: the tree reading says which
        }
        int from = i;
        UsageStore.Row row = checked();
        if (row != null) {
            out.add(new UsageCsv.Parsed(index++, 0, null, null, row));
        } else {
            i = from;
            value(SHALLOW);
            JsonNode tree;
            try {
                tree = UsageImport.ELEMENT.readTree(b, from, i - from);
            } catch (java.io.IOException e) {
                throw new Slow(); // a name given twice, a parser limit: the tree reading of the body says which
            }
            out.add(UsageImport.row(index++, lineAt(from), tree));
        }
        if (!more(']')) {
            finish();
        }
    }

    private void finish() throws Slow {
        ws();
        if (i != end) {
            throw new Slow(); // text after the array
        }
        done = true;
    }

    /** The next non-blank NDJSON line as a row (or the end). */
    private void line(List<UsageCsv.Parsed> out) {
        while (i < end) {
            int from = i;
            int to = from;
            while (to < end && b[to] != '\n') {
                to++;
            }
            long number = lineNumber++;
            while (i < to && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r')) {
                i++;
            }
            if (i == to) {
                i = to + 1;
                continue; // blank
            }
            UsageStore.Row row = null;
            if (b[i] == '{') {
                row = checked();
                while (row != null && i < to && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r')) {
                    i++;
                }
            }
            if (row != null && i == to) {
                UsageImport.tooMany(index, maxRows);
                out.add(new UsageCsv.Parsed(index++, number, null, null, row));
                i = to + 1;
                return;
            }
            i = to + 1;
            String text = new String(b, from, to - from, StandardCharsets.UTF_8).strip();
            if (!text.isEmpty()) {
                UsageImport.tooMany(index, maxRows);
                out.add(UsageImport.line(index++, number, text));
                return;
            }
        }
        done = true;
    }

    /** The usage row of the object at {@code i}, when it is an ordinary row; else null ({@code i} is then anywhere). */
    private UsageStore.Row checked() {
        try {
            if (i == end || b[i] != '{') {
                return null;
            }
            members.clear();
            if (!opens('}')) {
                do {
                    int from = name();
                    int to = i - 1;
                    colon();
                    members.put(from, to, member());
                } while (more('}'));
            }
            return check.row(members);
        } catch (Slow | UsageRows.Bad e) {
            return null;
        }
    }

    /** A member's value: a plain value, or an object of plain values (extra). */
    private JsonNode member() throws Slow {
        if (i < end && b[i] == '{') {
            ObjectNode o = NODES.objectNode();
            if (!opens('}')) {
                do {
                    int from = name();
                    String name = text(from, i - 1);
                    colon();
                    if (i < end && (b[i] == '{' || b[i] == '[') || o.replace(name, plain()) != null) {
                        throw new Slow(); // deeper, or a name given twice
                    }
                } while (more('}'));
            }
            return o;
        }
        if (i < end && b[i] == '[') {
            throw new Slow();
        }
        return plain();
    }

    private JsonNode plain() throws Slow {
        int from = i;
        JsonNode v = scalar();
        if (i - from > MAX_SCALAR) {
            throw new Slow();
        }
        return v;
    }

    /** The line the byte at {@code at} is on, as Jackson counts: LF, CR and CR LF end a line. */
    private long lineAt(int at) {
        for (; counted < at; counted++) {
            if (b[counted] == '\n' || b[counted] == '\r' && (counted + 1 == end || b[counted + 1] != '\n')) {
                line++;
            }
        }
        return line;
    }

    /**
     * One row's members by name, for {@link UsageRows}: names as byte ranges of the body with their hash (as
     * {@link String#hashCode}, so a lookup hashes nothing), in a small open-addressing table.
     */
    private final class Members implements Function<String, JsonNode> {
        private static final int SLOTS = 64;
        private static final int MAX = 32;
        private final int[] from = new int[MAX];
        private final int[] to = new int[MAX];
        private final int[] hash = new int[MAX];
        private final JsonNode[] values = new JsonNode[MAX];
        /** Member + 1 by hash (0: free). */
        private final int[] table = new int[SLOTS];
        private int count;

        void clear() {
            if (count > 0) {
                Arrays.fill(table, 0);
                count = 0;
            }
        }

        /** Adds a member; a name given twice, a non-ASCII name, extra.LABEL or too many members: Slow. */
        void put(int nameFrom, int nameTo, JsonNode value) throws Slow {
            int h = 0;
            for (int k = nameFrom; k < nameTo; k++) {
                if (b[k] < 0) {
                    throw new Slow();
                }
                h = 31 * h + b[k];
            }
            if (count == MAX || nameTo - nameFrom >= 6 && startsWithExtraDot(nameFrom)) {
                throw new Slow(); // extra.LABEL members are read from the tree (UsageRows' dotted)
            }
            int s = h & (SLOTS - 1);
            for (; table[s] != 0; s = (s + 1) & (SLOTS - 1)) {
                int m = table[s] - 1;
                if (hash[m] == h && Arrays.equals(b, from[m], to[m], b, nameFrom, nameTo)) {
                    throw new Slow();
                }
            }
            from[count] = nameFrom;
            to[count] = nameTo;
            hash[count] = h;
            values[count] = value;
            table[s] = ++count;
        }

        private boolean startsWithExtraDot(int at) {
            return b[at] == 'e' && b[at + 1] == 'x' && b[at + 2] == 't' && b[at + 3] == 'r' && b[at + 4] == 'a'
                    && b[at + 5] == '.';
        }

        @Override
        public JsonNode apply(String name) {
            int h = name.hashCode();
            for (int s = h & (SLOTS - 1); table[s] != 0; s = (s + 1) & (SLOTS - 1)) {
                int m = table[s] - 1;
                if (hash[m] == h && same(m, name)) {
                    return values[m];
                }
            }
            return null;
        }

        private boolean same(int m, String name) {
            if (to[m] - from[m] != name.length()) {
                return false;
            }
            for (int k = 0; k < name.length(); k++) {
                if (b[from[m] + k] != name.charAt(k)) {
                    return false;
                }
            }
            return true;
        }
    }
}
