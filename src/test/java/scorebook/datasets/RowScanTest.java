package scorebook.datasets;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The append body's byte reader against Jackson's tree reading of the same bodies: whatever it takes, it reads as
 * the trees do (the rows, and each mapped field's value, node type included); whatever is not JSON, or not what it
 * takes, it leaves to the trees.
 */
class RowScanTest {
    private static final Set<String> FIELDS = Set.of("ts", "latency_ms", "model", "n");

    /** Each row's mapped values as the reader handed them over. */
    private static List<List<JsonNode>> seen;

    private static RowScan.Rows read(String body, String query, boolean ndjson) {
        return read(body.getBytes(StandardCharsets.UTF_8), query, ndjson);
    }

    private static RowScan.Rows read(byte[] body, String query, boolean ndjson) {
        seen = new ArrayList<>();
        return RowScan.read(body, query, ndjson, name -> {
            seen.clear();
            return new RowScan.Check(FIELDS, (i, row) -> {
                assertEquals(seen.size(), i);
                List<JsonNode> values = new ArrayList<>();
                for (String f : List.of("ts", "latency_ms", "model", "n")) {
                    values.add(row.apply(f));
                }
                seen.add(values);
            });
        });
    }

    /** The rows the reader found, as Jackson reads its array, against the tree of the rows given. */
    private static void assertReadAsTrees(RowScan.Rows rows, JsonNode want) throws Exception {
        assertNotSame(RowScan.SLOW, rows);
        JsonNode got = Json.MAPPER.readTree(new String(rows.json(), rows.from(), rows.to() - rows.from(),
                StandardCharsets.UTF_8));
        assertEquals(want, got);
        assertEquals(want.size(), rows.count());
        assertEquals(want.size(), seen.size());
        for (int r = 0; r < want.size(); r++) {
            List<String> names = List.of("ts", "latency_ms", "model", "n");
            for (int f = 0; f < names.size(); f++) {
                assertEquals(want.get(r).get(names.get(f)), seen.get(r).get(f), "row " + r + " field " + names.get(f));
            }
        }
    }

    @Test
    void randomBodiesAreReadAsTheTreesReadThem() throws Exception {
        Random r = new Random(11);
        int taken = 0;
        for (int n = 0; n < 3_000; n++) {
            List<String> rows = new ArrayList<>();
            for (int k = r.nextInt(6); k > 0; k--) {
                rows.add(row(r));
            }
            String sep = ws(r) + "," + ws(r);
            String array = "[" + ws(r) + String.join(sep, rows) + ws(r) + "]";
            JsonNode want = Json.MAPPER.readTree(array);
            String body = ws(r) + "{" + ws(r) + "\"dataset\"" + ws(r) + ":" + ws(r) + "\"d\"," + ws(r) + "\"rows\":"
                    + ws(r) + array + ws(r) + (r.nextBoolean() ? ", \"x\": [1, {\"y\": null}]" : "") + "}" + ws(r);
            RowScan.Rows got = read(body, null, false);
            if (got != RowScan.SLOW) {
                taken++;
                assertEquals("d", got.dataset());
                assertReadAsTrees(got, want);
            } else {
                // only what it leaves to the trees on purpose
                boolean container = false;
                for (JsonNode row : want) {
                    for (String f : FIELDS) {
                        container |= row.path(f).isContainerNode();
                    }
                }
                assertTrue(container || body.contains("\\") || body.contains("_meta_")
                        || body.contains("\"n\": 1, \"n\""), body);
            }
            // the same rows as NDJSON lines
            String lines = String.join("\n" + (r.nextBoolean() ? "\n  \r" : ""), rows.stream()
                    .map(s -> s.replace("\n", " ")).toList()) + "\n";
            RowScan.Rows nd = read(lines, "d", r.nextBoolean());
            if (nd != RowScan.SLOW) {
                assertReadAsTrees(nd, want);
            }
        }
        assertTrue(taken > 1_000, "most bodies are taken: " + taken);
    }

    private static String row(Random r) {
        List<String> fields = new ArrayList<>();
        String[] names = {"ts", "latency_ms", "model", "n", "other", "deep", "_meta_ts", "na\\u006de", "\u00e9t\u00e9"};
        Set<String> used = new java.util.HashSet<>();
        for (int k = r.nextInt(7); k > 0; k--) {
            String name = names[r.nextInt(r.nextInt(20) == 0 ? names.length : 6)];
            if (used.add(name)) {
                fields.add("\"" + name + "\"" + ws(r) + ":" + ws(r) + value(r, 0));
            }
        }
        if (r.nextInt(40) == 0) {
            fields.add("\"n\": 1, \"n\": 2");
        }
        return "{" + ws(r) + String.join("," + ws(r), fields) + ws(r) + "}";
    }

    private static String value(Random r, int depth) {
        return switch (r.nextInt(depth > 2 ? 9 : 11)) {
            case 0 -> String.valueOf(r.nextInt());
            case 1 -> String.valueOf(r.nextLong());
            case 2 -> "12345678901234567890123";
            case 3 -> String.valueOf(r.nextDouble() * Math.pow(10, r.nextInt(30) - 10));
            case 4 -> (r.nextBoolean() ? "-" : "") + r.nextInt(100_000) + "." + r.nextInt(1_000) + (r.nextBoolean()
                    ? "e" + (r.nextBoolean() ? "-" : "+") + r.nextInt(300) : "");
            case 5 -> "\"" + List.of("llama3", "2025-12-03T18:00:00Z", "900", "", " ", "caf\u00e9 \u2603 \ud83d\ude00",
                    "a\\\"b\\\\c\\n\\u00e9").get(r.nextInt(7)) + "\"";
            case 6 -> List.of("true", "false", "null").get(r.nextInt(3));
            case 7 -> "0";
            case 8 -> "-0.0";
            case 9 -> "[" + value(r, depth + 1) + ", " + value(r, depth + 1) + "]";
            default -> "{\"k\": " + value(r, depth + 1) + "}";
        };
    }

    private static String ws(Random r) {
        return List.of("", "", "", " ", "\n", " \t\r\n ").get(r.nextInt(6));
    }

    @Test
    void whatIsNotJsonIsLeftToTheTrees() {
        String[] rows = {"{\"a\": 01}", "{\"a\": 1.}", "{\"a\": .5}", "{\"a\": -}", "{\"a\": 1e}", "{\"a\": \"x\u0001\"}",
            "{\"a\": tru}", "{\"a\": nul}", "{\"a\": 1,}", "{,}", "{\"a\" 1}", "{\"a\": \"\\x\"}", "{\"a\": \"\\u12G4\"}",
            "{\"a\": NaN}", "{'a': 1}", "{a: 1}", "{\"a\": 1e400}", "{\"n\": 1e400}", "{\"a\": [1 2]}", "{\"a\": [1,]}",
            "{\"a\": \"unclosed}", "{\"a\": 1", "{\"a\": +1}", "{\"a\": 0x10}", "{\"a\": Infinity}", "{\"a\": 1} x",
            "{\"a\": [" + "[".repeat(1_100) + "]".repeat(1_100) + "]}", "{\"a\": " + "9".repeat(1_001) + "}",
            "5", "[1]", "\"row\"", "null", "{\"_meta_dataset\": \"x\"}", "{\"ts\": [1]}", "{\"model\": {\"a\": 1}}"};
        for (String row : rows) {
            assertSame(RowScan.SLOW, read("{\"dataset\": \"d\", \"rows\": [" + row + "]}", null, false), row);
            assertSame(RowScan.SLOW, read(row + "\n", "d", true), row);
        }
        // bytes that are not UTF-8: an overlong '/', a lone continuation, a surrogate, a cut sequence, past U+10FFFF
        for (byte[] bad : new byte[][] {{(byte) 0xc0, (byte) 0xaf}, {(byte) 0x80}, {(byte) 0xed, (byte) 0xa0, (byte) 0x80},
            {(byte) 0xe2, (byte) 0x82}, {(byte) 0xf5, (byte) 0x80, (byte) 0x80, (byte) 0x80}}) {
            java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
            body.writeBytes("{\"dataset\":\"d\",\"rows\":[{\"a\":\"".getBytes(StandardCharsets.UTF_8));
            body.writeBytes(bad);
            body.writeBytes("\"}]}".getBytes(StandardCharsets.UTF_8));
            assertSame(RowScan.SLOW, read(body.toByteArray(), null, false));
        }
        // the body's own shape: rows before the name, a name twice, rows that are not a list, nothing but blanks
        for (String body : new String[] {"{\"rows\": [], \"dataset\": \"d\"}", "{\"dataset\": \"d\", \"dataset\": \"e\", \"rows\": []}",
            "{\"dataset\": \"d\", \"rows\": 3}", "{\"dataset\": 5, \"rows\": []}", "{\"dataset\": \"d\", \"rows\": [], \"rows\": []}",
            " \n ", "{\"rows\": []}"}) {
            assertSame(RowScan.SLOW, read(body, null, false), body);
        }
    }

    @Test
    void theBodysFormDecidesLikeTheTreeReading() throws Exception {
        // one object with rows: its dataset wins over the query's; without rows, with a query, it is one NDJSON row
        RowScan.Rows whole = read("{\"dataset\": \"body\", \"rows\": [{\"n\": 1}]}", "query", false);
        assertEquals("body", whole.dataset());
        RowScan.Rows named = read("{\"rows\": [{\"n\": 1}]}", "query", false);
        assertEquals("query", named.dataset());
        RowScan.Rows single = read("{\"n\": 5}", "query", false);
        assertEquals(1, single.count());
        assertReadAsTrees(single, Json.MAPPER.readTree("[{\"n\": 5}]"));
        // several lines, the first one holding a "rows" field: NDJSON, each line a row
        RowScan.Rows lines = read("{\"rows\": [{\"n\": 1}]}\n{\"n\": 2}\n", "query", false);
        assertEquals(2, lines.count());
        assertEquals(List.of(Json.MAPPER.readTree("2")), List.of(seen.get(1).get(3)));
        // declared NDJSON: one object with rows is one row
        RowScan.Rows typed = read("{\"dataset\": \"x\", \"rows\": [{\"n\": 1}]}", "query", true);
        assertEquals(1, typed.count());
        assertEquals("query", typed.dataset());
        // a row spread over two lines is not NDJSON
        assertSame(RowScan.SLOW, read("{\"n\":\n1}\n", "query", true));
    }
}
