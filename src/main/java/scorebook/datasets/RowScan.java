package scorebook.datasets;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Function;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import scorebook.server.Json;

/**
 * Reads an append body's rows in one streaming pass, without building them as trees: where the rows are in the body
 * (a JSON array SQLite splits), how many, and the few fields the dataset's adapter reads from each (to answer which
 * rows make usage rows). It takes only bodies whose every row is a plain JSON object without {@code _meta_*} fields;
 * anything else (a syntax error, a row that is not an object, a number too large for a double) answers
 * {@link #SLOW}, and the append reads the body as trees, whose errors name what is wrong.
 */
final class RowScan {
    private static final Set<String> META = Set.of("_meta_user_id", "_meta_dataset", "_meta_ts");
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** The answer for a body this reader does not take. */
    static final Rows SLOW = new Rows(null, null, 0, 0, 0);

    private RowScan() {
    }

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

    /** One row's values of the fields a check reads, in slots (no map written per row). */
    private static final class Values implements Function<String, JsonNode> {
        private final Map<String, Integer> slots = new HashMap<>();
        private final JsonNode[] values;

        Values(Set<String> fields) {
            for (String f : fields) {
                slots.put(f, slots.size());
            }
            values = new JsonNode[slots.size()];
        }

        @Override
        public JsonNode apply(String field) {
            Integer slot = slots.get(field);
            return slot == null ? null : values[slot];
        }
    }

    /** Thrown inside the reader for a body it does not take. */
    private static final class Slow extends Exception {
        Slow() {
            super(null, null, false, false);
        }
    }

    /**
     * Reads {@code body}: {@code {dataset, rows: [...]}}, or NDJSON rows when {@code queryDataset} is given (and the
     * body is not one object with {@code rows}, or {@code ndjson} says it is NDJSON), by the same rules as the tree
     * reading. {@code checkOf} answers, for the dataset named, what to pick out of each row and do with it.
     */
    static Rows read(byte[] body, String queryDataset, boolean ndjson, Function<String, Check> checkOf) {
        if (isBlank(body)) {
            return SLOW;
        }
        try {
            if (!ndjson) {
                Rows whole = whole(body, queryDataset, checkOf);
                if (whole != null) {
                    return whole;
                }
            }
            return queryDataset == null ? SLOW : lines(body, queryDataset, checkOf.apply(queryDataset));
        } catch (Slow | IOException | RuntimeException e) {
            return SLOW;
        }
    }

    /** {@code {dataset, rows}}; null when the body is not exactly one JSON object with {@code rows}. */
    private static Rows whole(byte[] body, String queryDataset, Function<String, Check> checkOf)
            throws Slow, IOException {
        try (JsonParser p = parser(body, 0, body.length)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            String dataset = null;
            boolean datasetInBody = false;
            int from = -1;
            int to = -1;
            Rows rows = null;
            for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                if (name.equals("dataset") && !datasetInBody) {
                    if (v != JsonToken.VALUE_STRING || from >= 0) {
                        throw new Slow(); // a bad name, or rows read before the name: the tree reading
                    }
                    dataset = p.getText();
                    datasetInBody = true;
                } else if (name.equals("rows") && from < 0) {
                    if (v != JsonToken.START_ARRAY) {
                        throw new Slow();
                    }
                    from = (int) p.currentTokenLocation().getByteOffset();
                    String named = datasetInBody ? dataset : queryDataset;
                    if (named == null) {
                        throw new Slow();
                    }
                    Check check = checkOf.apply(named);
                    Values fields = new Values(check.fields());
                    int count = 0;
                    for (JsonToken r = p.nextToken(); r != JsonToken.END_ARRAY; r = p.nextToken()) {
                        check.each().row(count++, row(p, r, fields));
                    }
                    to = (int) p.currentLocation().getByteOffset();
                    rows = new Rows(named, body, from, to, count);
                } else if (name.equals("dataset") || name.equals("rows")) {
                    throw new Slow(); // a name given twice
                } else {
                    p.skipChildren();
                }
            }
            if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null) {
                return null; // not one JSON value: NDJSON, or an error the tree reading describes
            }
            return rows;
        } catch (IOException e) {
            return null;
        }
    }

    /** NDJSON: one object per line, blank lines skipped. */
    private static Rows lines(byte[] body, String dataset, Check check) throws Slow, IOException {
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
            if (!blank(body, lineStart, lineEnd)) {
                try (JsonParser p = parser(body, lineStart, lineEnd - lineStart)) {
                    check.each().row(count++, row(p, p.nextToken(), fields));
                    if (p.nextToken() != null) {
                        throw new Slow();
                    }
                }
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

    private static JsonParser parser(byte[] b, int from, int length) throws IOException {
        // the same doubles as the JDK's parser, correctly rounded, in a fraction of the time
        return Json.MAPPER.createParser(b, from, length).enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER.mappedFeature());
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

    private static boolean blank(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] != ' ' && b[i] != '\t' && b[i] != '\r') {
                return false;
            }
        }
        return true;
    }

    /**
     * One row (the parser on its first token): an object, its numbers finite, without _meta_* fields; answers
     * {@code mapped} holding the values of the row's fields it has slots for.
     */
    private static Values row(JsonParser p, JsonToken first, Values mapped) throws IOException, Slow {
        if (first != JsonToken.START_OBJECT) {
            throw new Slow();
        }
        Arrays.fill(mapped.values, null);
        int depth = 0;
        for (JsonToken t = p.nextToken(); ; t = p.nextToken()) {
            if (t == null) {
                throw new Slow();
            }
            switch (t) {
                case FIELD_NAME -> {
                    if (depth == 0) {
                        String name = p.currentName();
                        if (META.contains(name)) {
                            throw new Slow();
                        }
                        Integer slot = mapped.slots.get(name);
                        if (slot != null) {
                            // a mapped field given twice: the tree reading keeps the last, and so must the rule
                            if (mapped.values[slot] != null) {
                                throw new Slow();
                            }
                            mapped.values[slot] = scalar(p, p.nextToken());
                        }
                    }
                }
                case START_OBJECT, START_ARRAY -> depth++;
                case END_ARRAY -> depth--;
                case END_OBJECT -> {
                    if (depth-- == 0) {
                        return mapped;
                    }
                }
                case VALUE_NUMBER_FLOAT -> finite(p);
                default -> {
                }
            }
        }
    }

    /**
     * Refuses a float too large for a double (1e400). One without an exponent and shorter than 300 characters is
     * finite, and is not parsed to find out.
     */
    private static void finite(JsonParser p) throws IOException, Slow {
        char[] text = p.getTextCharacters();
        int from = p.getTextOffset();
        int length = p.getTextLength();
        boolean exponent = length >= 300;
        for (int i = from; i < from + length && !exponent; i++) {
            exponent = text[i] == 'e' || text[i] == 'E';
        }
        if (exponent && !Double.isFinite(p.getDoubleValue())) {
            throw new Slow();
        }
    }

    /** A value as the tree reading makes it; a list or an object is left to the tree reading. */
    private static JsonNode scalar(JsonParser p, JsonToken v) throws IOException, Slow {
        return switch (v) {
            case VALUE_STRING -> NODES.textNode(p.getText());
            case VALUE_NUMBER_INT -> switch (p.getNumberType()) {
                case INT -> NODES.numberNode(p.getIntValue());
                case LONG -> NODES.numberNode(p.getLongValue());
                default -> NODES.numberNode(p.getBigIntegerValue());
            };
            case VALUE_NUMBER_FLOAT -> {
                finite(p);
                yield NODES.numberNode(p.getDoubleValue());
            }
            case VALUE_TRUE, VALUE_FALSE -> NODES.booleanNode(v == JsonToken.VALUE_TRUE);
            case VALUE_NULL -> NODES.nullNode();
            default -> throw new Slow();
        };
    }
}
