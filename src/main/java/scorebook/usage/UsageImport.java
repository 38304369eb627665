package scorebook.usage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.helidon.http.Status;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.server.ApiException;
import scorebook.server.Json;
import scorebook.server.JsonBytes;
import scorebook.server.JsonErrors;

/**
 * {@code POST /usage/import}: reads the body (Evalyard's JSON array, NDJSON, or our CSV), checks every row and
 * stores the valid ones in one transaction, skipping events already stored. Errors name the row's index (0-based),
 * its line in the body, its event_id and the field.
 */
final class UsageImport {
    /** Reads one element of an array at a time (the mapper's trailing-token check is for whole bodies). */
    static final ObjectReader ELEMENT = Json.MAPPER.reader().without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .with(StreamReadFeature.STRICT_DUPLICATE_DETECTION);

    private UsageImport() {
    }

    /**
     * What an import did.
     *
     * @param received   rows in the body
     * @param imported   rows stored
     * @param duplicates valid rows already stored (skipped)
     * @param failed     invalid rows
     * @param errors     one per invalid row: index, line, event_id, field, message
     */
    record Result(int received, int imported, int duplicates, int failed, List<Map<String, Object>> errors) {
    }

    /**
     * Reads, checks and stores a body (valid UTF-8). JSON arrays and NDJSON are read by {@link ImportScan}; a body it
     * does not take goes the text way ({@link #parse}), whose answers and errors are the same.
     */
    static Result run(UsageStore store, long userId, byte[] body, String contentType, int maxRows, String source,
                      long nowMs, boolean strict, boolean dryRun) {
        List<UsageCsv.Parsed> parsed = read(body, contentType, maxRows,
                fields -> UsageRows.parse(userId, fields, null, source, nowMs));
        return run(store, userId, parsed, source, nowMs, strict, dryRun);
    }

    /** How a body is read. */
    private enum Format { CSV, NDJSON, ARRAY, SINGLE, EMPTY }

    /**
     * The format from the content type, else from {@code first}, the body's first character after leading white
     * space (-1: none).
     */
    private static Format format(String contentType, int first) {
        if (contentType.contains("csv")) {
            return Format.CSV;
        }
        if (contentType.contains("ndjson") || contentType.contains("jsonl")) {
            return Format.NDJSON;
        }
        if (first == '[') {
            return Format.ARRAY;
        }
        if (first == '{') {
            // declared JSON is one document (a row); NDJSON says so, or comes without a JSON content type
            return contentType.contains("json") ? Format.SINGLE : Format.NDJSON;
        }
        return first < 0 ? Format.EMPTY : Format.CSV;
    }

    /** The body's rows; the format from the content type, else from the first character. */
    static List<UsageCsv.Parsed> parse(String body, String contentType, int maxRows) {
        String t = body.stripLeading();
        return switch (format(contentType, t.isEmpty() ? -1 : t.charAt(0))) {
            case CSV -> UsageCsv.read(body, maxRows);
            case NDJSON -> ndjson(body, maxRows);
            case ARRAY -> array(body, maxRows);
            case SINGLE -> single(body);
            case EMPTY -> throw ApiException.invalid(
                    "the body is empty: send a JSON array of usage rows, NDJSON, or the export's CSV");
        };
    }

    /**
     * As {@link #parse(String, String, int)} for a body of bytes (valid UTF-8): JSON arrays and NDJSON are read by
     * {@link ImportScan}, which checks ordinary rows with {@code check} as it reads them; the rest as text.
     */
    static List<UsageCsv.Parsed> read(byte[] body, String contentType, int maxRows, ImportScan.Check check) {
        Boolean lines = lines(body, contentType);
        if (lines != null) {
            List<UsageCsv.Parsed> out = new ArrayList<>();
            try {
                ImportScan scan = new ImportScan(body, lines, maxRows, check);
                while (scan.next(out, 1_000)) {
                    // reads on
                }
                return out;
            } catch (JsonBytes.Slow slow) {
                // not JSON, or not as the scan reads it: the tree reading answers
            }
        }
        return parse(new String(body, StandardCharsets.UTF_8), contentType, maxRows);
    }

    /** Whether {@link #parse} reads the body as NDJSON (true), one JSON array (false), or otherwise (null). */
    private static Boolean lines(byte[] body, String contentType) {
        int k = 0;
        while (k < body.length && (body[k] == ' ' || body[k] == '\n' || body[k] == '\r' || body[k] == '\t')) {
            k++;
        }
        // other white space (CSV here) goes the text way, whose stripLeading knows it
        return switch (format(contentType, k == body.length ? -1 : body[k] & 0xff)) {
            case NDJSON -> Boolean.TRUE;
            case ARRAY -> Boolean.FALSE;
            default -> null;
        };
    }

    private static List<UsageCsv.Parsed> array(String body, int maxRows) {
        List<UsageCsv.Parsed> out = new ArrayList<>();
        try (JsonParser p = ELEMENT.createParser(body)) {
            if (p.nextToken() != JsonToken.START_ARRAY) {
                throw ApiException.invalid("a JSON import must be an array of usage rows");
            }
            while (p.nextToken() != JsonToken.END_ARRAY) {
                tooMany(out.size(), maxRows);
                long line = p.currentTokenLocation().getLineNr();
                JsonNode n = ELEMENT.readTree(p);
                out.add(row(out.size(), line, n));
            }
            if (p.nextToken() != null) {
                throw ApiException.badRequest("malformed JSON: text after the array");
            }
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest(JsonErrors.describe("the body", e));
        } catch (IOException e) {
            throw ApiException.badRequest("malformed JSON: " + e.getMessage());
        }
        return out;
    }

    /** A row read from JSON: an object holding only valid text, else the row's error. */
    static UsageCsv.Parsed row(int index, long line, JsonNode n) {
        if (!(n instanceof ObjectNode o)) {
            return new UsageCsv.Parsed(index, line, null, "row must be a JSON object");
        }
        String broken = JsonErrors.unpairedSurrogate(o, "");
        return broken == null ? new UsageCsv.Parsed(index, line, o, null)
                : new UsageCsv.Parsed(index, line, null, "'" + broken + "' holds an unpaired surrogate: text must be valid Unicode");
    }

    private static List<UsageCsv.Parsed> single(String body) {
        try {
            return List.of(row(0, 1, ELEMENT.readTree(body)));
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest(JsonErrors.describe("the body", e)
                    + " (send several rows as a JSON array, or as NDJSON with Content-Type: application/x-ndjson)");
        }
    }

    private static List<UsageCsv.Parsed> ndjson(String body, int maxRows) {
        List<UsageCsv.Parsed> out = new ArrayList<>();
        String[] lines = body.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty()) {
                continue;
            }
            tooMany(out.size(), maxRows);
            out.add(line(out.size(), i + 1, line));
        }
        return out;
    }

    /** One NDJSON line (stripped, not blank) as a row. */
    static UsageCsv.Parsed line(int index, long number, String line) {
        try {
            return row(index, number, ELEMENT.readTree(line));
        } catch (JsonProcessingException e) {
            return new UsageCsv.Parsed(index, number, null, JsonErrors.describe("the line", e));
        }
    }

    static void tooMany(int n, int maxRows) {
        if (n >= maxRows) {
            throw new ApiException(Status.REQUEST_ENTITY_TOO_LARGE_413, "too_large",
                    "at most " + maxRows + " rows per import; split the rows into several requests");
        }
    }

    /**
     * The rows checked: the valid ones as usage rows, and one error per invalid one, in the body's order.
     *
     * @param rows   valid rows
     * @param errors one per invalid row: index, line, event_id, field, message
     */
    record Checked(List<UsageStore.Row> rows, List<Map<String, Object>> errors) {
    }

    /** Checks every row (those the byte reader checked are taken as they are). */
    static Checked check(long userId, List<UsageCsv.Parsed> parsed, String source, long nowMs) {
        List<UsageStore.Row> rows = new ArrayList<>(parsed.size());
        List<Map<String, Object>> errors = new ArrayList<>();
        for (UsageCsv.Parsed p : parsed) {
            if (p.checked() != null) {
                rows.add(p.checked());
                continue;
            }
            if (p.error() != null) {
                errors.add(error(p, null, p.error()));
                continue;
            }
            try {
                rows.add(UsageRows.parse(userId, p.row(), source, nowMs));
            } catch (UsageRows.Bad b) {
                errors.add(error(p, b.field(), "'" + b.field() + "' " + b.getMessage()));
            }
        }
        return new Checked(rows, errors);
    }

    /** Checks the rows and stores the valid ones (none under strict when any is invalid; none at all on a dry run). */
    static Result run(UsageStore store, long userId, List<UsageCsv.Parsed> parsed, String source, long nowMs,
                      boolean strict, boolean dryRun) {
        Checked c = check(userId, parsed, source, nowMs);
        if (strict && !c.errors().isEmpty()) {
            return new Result(parsed.size(), 0, 0, c.errors().size(), c.errors());
        }
        int imported = c.rows().isEmpty() ? 0 : store.importRows(userId, c.rows(), dryRun);
        return new Result(parsed.size(), imported, c.rows().size() - imported, c.errors().size(), c.errors());
    }

    private static Map<String, Object> error(UsageCsv.Parsed p, String field, String message) {
        JsonNode id = p.row() == null ? null : p.row().get("event_id");
        return Json.fields("index", p.index(), "line", p.line(), "event_id", id == null || id.isNull() ? null : id.asText(),
                "field", field, "message", message);
    }
}
