package scorebook.usage;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import scorebook.server.ApiException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The import's byte reader against the tree reading it stands in for: thousands of random bodies (valid rows, every
 * kind of bad field, odd JSON, broken bodies, too many rows) give the same usage rows and the same errors (index,
 * line, event_id, field, message), or the same refusal of the whole body.
 */
class ImportScanTest {
    private static final long NOW = 1_764_500_000_000L;
    private static final long USER = 7;

    /** What an import makes of a body: the checked rows and errors, or the whole body's refusal. */
    private static String outcome(boolean bytes, String body, String type, int maxRows) {
        try {
            List<UsageCsv.Parsed> parsed = bytes
                    ? UsageImport.read(body.getBytes(StandardCharsets.UTF_8), type, maxRows,
                            fields -> UsageRows.parse(USER, fields, null, "import", NOW))
                    : UsageImport.parse(body, type, maxRows);
            UsageImport.Checked c = UsageImport.check(USER, parsed, "import", NOW);
            return parsed.size() + " received\n" + c.rows() + "\n" + c.errors();
        } catch (ApiException e) {
            return e.status().code() + " " + e.getMessage();
        } catch (RuntimeException e) {
            return e.toString(); // the text way's own (CSV of an odd body): the same on both sides
        }
    }

    @Test
    void randomBodiesGiveWhatTheTreeReadingGives() {
        Random r = new Random(10);
        int taken = 0;
        int refused = 0;
        for (int n = 0; n < 4_000; n++) {
            List<String> rows = new ArrayList<>();
            for (int k = r.nextInt(8); k > 0; k--) {
                rows.add(row(r));
            }
            boolean lines = r.nextBoolean();
            String body;
            if (lines) {
                StringBuilder s = new StringBuilder();
                for (String row : rows) {
                    s.append(r.nextInt(10) == 0 ? pick(r, "", "  ", "\r", "\u000b", "\u2028") + "\n" : "")
                            .append(r.nextInt(10) == 0 ? row : row.replace("\n", " ").replace("\r", " ")
                                    + (r.nextInt(20) == 0 ? " x" : ""))
                            .append(pick(r, "\n", "\r\n", "\n", " \n"));
                }
                body = s.toString();
            } else {
                body = ws(r) + "[" + ws(r) + String.join(ws(r) + "," + ws(r), rows) + ws(r) + "]" + ws(r);
            }
            body = broken(r, body);
            String type = lines ? pick(r, "application/x-ndjson", "", "application/jsonl")
                    : pick(r, "application/json", "", "text/plain");
            int maxRows = r.nextInt(10) == 0 ? 1 + r.nextInt(4) : 10_000;
            String want = outcome(false, body, type, maxRows);
            String got = outcome(true, body, type, maxRows);
            assertEquals(want, got, body);
            taken += checkedRows(body, type, maxRows);
            if (!want.contains(" received\n")) {
                refused++;
            }
        }
        assertTrue(taken > 3_000 && refused > 100, "rows checked by the byte reader " + taken + ", bodies refused " + refused);
    }

    private static int checkedRows(String body, String type, int maxRows) {
        try {
            return (int) UsageImport.read(body.getBytes(StandardCharsets.UTF_8), type, maxRows,
                    fields -> UsageRows.parse(USER, fields, null, "import", NOW)).stream()
                    .filter(p -> p.checked() != null).count();
        } catch (RuntimeException e) {
            return 0;
        }
    }

    @Test
    void ordinaryRowsAreCheckedWithoutTrees() {
        String body = "[" + row(1) + ",\r\n" + row(2) + "]";
        List<UsageCsv.Parsed> parsed = UsageImport.read(body.getBytes(StandardCharsets.UTF_8), "", 10,
                fields -> UsageRows.parse(USER, fields, null, "import", NOW));
        assertEquals(2, parsed.size());
        assertTrue(parsed.stream().allMatch(p -> p.checked() != null && p.row() == null), parsed.toString());
        assertEquals(outcome(false, body, "", 10), outcome(true, body, "", 10));
    }

    private static String row(int i) {
        return "{\"ts\": " + (NOW / 1000 - 600 + i) + ".25, \"device\": \"gpu-1\", \"model\": \"llama3-8b\", "
                + "\"prompt_tokens\": 50, \"latency_ms\": 900, \"ttft_ms\": 220.5, \"ok\": true, \"event_id\": \"e" + i
                + "\", \"extra\": {\"GPU power (W)\": 41.5}}";
    }

    /** Now and then a body broken as bodies get broken: cut short, a stray comma, text after it, a lone bracket. */
    private static String broken(Random r, String body) {
        return switch (r.nextInt(40)) {
            case 0 -> body.substring(0, r.nextInt(body.length() + 1));
            case 1 -> body.replaceFirst("}", "},");
            case 2 -> body + "x";
            case 3 -> body.replaceFirst(",", "");
            case 4 -> "\u2028" + body;
            case 5 -> body.replaceFirst("\\[", "[[");
            default -> body;
        };
    }

    private static String row(Random r) {
        switch (r.nextInt(60)) {
            case 0 -> {
                return pick(r, "5", "\"row\"", "[1, 2]", "null", "true", "{}");
            }
            case 1 -> {
                return "{\"ts\": 1764499000, \"model\": \"a\", \"model\": \"b\"}";
            }
            default -> {
                // below
            }
        }
        List<String> members = new ArrayList<>();
        java.util.Set<String> used = new java.util.HashSet<>();
        String[] names = {"ts", "ts_iso", "event_id", "insert_id", "source_kind", "prompt_tokens", "completion_tokens",
            "latency_ms", "ttft_ms", "tok_s", "error_type", "ok", "prompt_preview", "error_message", "prefill_tok_s",
            "decode_tok_s", "load_ms", "battery_start_pct", "battery_end_pct", "temp_max_c", "thermal_status_max",
            "device", "model", "tag", "job_id", "tenant", "dataset", "extra", "extra.gpu", "other", "mo\\u0064el",
            "caf\u00e9", "extra."};
        if (r.nextInt(8) != 0) {
            members.add("\"ts\"" + ws(r) + ":" + ws(r) + time(r));
            used.add("ts");
        }
        boolean ordinary = r.nextInt(3) != 0;
        for (int k = r.nextInt(12); k > 0; k--) {
            String name = names[r.nextInt(r.nextInt(6) == 0 ? names.length : 28)];
            if (used.add(name) || r.nextInt(100) == 0) {
                members.add("\"" + name + "\"" + ws(r) + ":" + ws(r) + (ordinary ? good(r, name) : value(r, name)));
            }
        }
        java.util.Collections.shuffle(members, r);
        return "{" + ws(r) + String.join(ws(r) + "," + ws(r), members) + ws(r) + "}";
    }

    /** A value that passes. */
    private static String good(Random r, String name) {
        return switch (name) {
            case "ts", "ts_iso" -> String.valueOf(NOW / 1000 - r.nextInt(5_000_000));
            case "prompt_tokens", "completion_tokens" -> String.valueOf(r.nextInt(5_000));
            case "latency_ms", "ttft_ms", "load_ms", "tok_s", "prefill_tok_s", "decode_tok_s", "battery_start_pct",
                 "battery_end_pct", "temp_max_c", "thermal_status_max" -> r.nextBoolean() ? String.valueOf(r.nextInt(300))
                    : String.valueOf(r.nextDouble() * 300);
            case "ok" -> pick(r, "true", "false", "1");
            case "extra" -> pick(r, "{\"GPU power (W)\": 41.5, \"cpu\": 12}", "{}", "{\"caf\u00e9\": 1e2}");
            case "extra.gpu" -> "40";
            case "other" -> pick(r, "\"text\"", "17", "null");
            default -> pick(r, "\"llama3-8b\"", "\"gpu-1\"", "\"caf\u00e9 \u2603 \ud83d\ude00\"", "\"e" + r.nextInt(50) + "\"");
        };
    }

    private static String time(Random r) {
        long s = NOW / 1000 - r.nextInt(5_000_000);
        return switch (r.nextInt(9)) {
            case 0 -> String.valueOf(s * 1000 + r.nextInt(1000));
            case 1 -> "\"" + java.time.Instant.ofEpochSecond(s) + "\"";
            case 2 -> "\"" + s + "\"";
            case 3 -> pick(r, "\"yesterday\"", "-5", "true", "null", "\"\"", "1e400", "946684799", "[1]", "{\"a\": 1}");
            case 4 -> String.valueOf(NOW / 1000 + 7_200); // too far ahead
            case 5 -> s + "." + r.nextInt(1000) + "e0";
            default -> s + "." + r.nextInt(1000);
        };
    }

    private static String value(Random r, String name) {
        int roll = r.nextInt(10);
        if (roll == 0) {
            return pick(r, "null", "\"\"", "\" \"", "true", "[]", "{}", "[1, {\"a\": null}]", "\"a\\\"b\"",
                    "12345678901234567890123", "-0.0", "1E2", "\"\\ud800\"", "\"x\\u0000y\"");
        }
        return switch (name) {
            case "ts", "ts_iso" -> time(r);
            case "prompt_tokens", "completion_tokens" -> pick(r, "50", "0", "\"900\"", "1.5", "-1", "3000000000",
                    "2147483647", "7.0", "\" 12 \"", "\"x\"", String.valueOf(r.nextInt(5_000)));
            case "latency_ms", "ttft_ms", "load_ms" -> pick(r, "900", "220.5", "0", "-3", "\"1e3\"", "1e2",
                    "0.1", "99999.999", String.valueOf(r.nextDouble() * 10_000), "\"NaN\"", "\"Infinity\"");
            case "tok_s", "prefill_tok_s", "decode_tok_s", "battery_start_pct", "battery_end_pct", "temp_max_c",
                 "thermal_status_max" -> pick(r, "31.5", "-2", "0", "\"17\"", String.valueOf(r.nextGaussian() * 100),
                    "1.7976931348623157e308");
            case "ok" -> pick(r, "true", "false", "0", "1", "\"true\"", "\"FALSE\"", "\"yes\"", "2", "1.0", "\" 1 \"");
            case "extra" -> pick(r, "{\"GPU power (W)\": 41.5, \"cpu\": \"12\"}", "{\"a\": \"bad\"}", "{}", "5",
                    "\"\"", "{\"a\": {\"b\": 1}}", "{\"a\": 1, \"a\": 2}", "{\"a\": [1]}", "{\"n\\u00e9\": 3}",
                    "{\"caf\u00e9\": 1e2}", "{\"x\": null}", "{\"x\": 1e400}");
            case "extra.gpu" -> pick(r, "40", "\"41.5\"", "\"\"", "\"hot\"");
            case "other" -> pick(r, "{\"a\": {\"b\": [1, 2]}}", "\"text\"", "[1, 2, 3]", "{\"k\": 1, \"k\": 2}");
            default -> pick(r, "\"llama3-8b\"", "\"gpu-1\"", "\"caf\u00e9 \u2603 \ud83d\ude00\"", "\"a\\nb\"",
                    "\"" + "x".repeat(128) + "\"", "\"" + "y".repeat(129) + "\"", "\"" + "\u00e9".repeat(129) + "\"",
                    "42", "\"e" + r.nextInt(5) + "\"", "\"" + "p".repeat(600) + "\"");
        };
    }

    private static String ws(Random r) {
        return pick(r, "", "", "", " ", "\n", " \t\r\n ", "\r", "\r\n");
    }

    private static String pick(Random r, String... options) {
        return options[r.nextInt(options.length)];
    }
}
