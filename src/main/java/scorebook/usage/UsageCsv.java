package scorebook.usage;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Reader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.server.ApiException;
import scorebook.server.CsvCells;
import scorebook.server.Json;
import scorebook.store.Database;

/**
 * The usage CSV (§3.11): fixed columns, then one {@code extra.LABEL} column per extra label, sorted. RFC 4180
 * quoting, CRLF, no BOM; empty cells are null; text cells a spreadsheet would run as a formula get a leading
 * {@code '}; numbers are never altered. Export streams rows from one read (constant memory); import reads the
 * same header back, so export → import round-trips.
 */
public final class UsageCsv {
    public static final List<String> COLUMNS = List.of("event_id", "ts", "ts_iso", "source_kind", "device", "model", "tag",
            "tenant", "dataset", "job_id", "ok", "error_type", "prompt_tokens", "completion_tokens", "total_tokens",
            "latency_ms", "ttft_ms", "tok_s", "prefill_tok_s", "decode_tok_s", "load_ms", "battery_start_pct",
            "battery_end_pct", "temp_max_c", "thermal_status_max", "prompt_preview");
    private static final Set<String> DERIVED = Set.of("ts_iso", "total_tokens");
    private static final String SELECT = """
            SELECT request_id, ts_ms, source_kind, device, model, tag, tenant, dataset, job_id, ok, error_type,
                   prompt_tokens, completion_tokens, latency_ms, ttft_ms, tok_s, prefill_tok_s, decode_tok_s, load_ms,
                   battery_start_pct, battery_end_pct, temp_max_c, thermal_status_max, prompt_preview, extra
            FROM usage_events WHERE user_id = ? AND ts_ms >= ? AND ts_ms < ?""";

    private UsageCsv() {
    }

    /** Writes the user's rows matching {@code f}, oldest first, with {@code labels} as extra columns. */
    public static long export(Database db, long userId, UsageFilter f, List<String> labels, OutputStream out) {
        Writer w = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), 1 << 16);
        try {
            StringBuilder line = new StringBuilder(512);
            for (String c : COLUMNS) {
                cell(line, c, false);
            }
            for (String l : labels) {
                cell(line, "extra." + l, true);
            }
            endLine(w, line);
            List<Object> args = new ArrayList<>(List.of(userId, f.fromMs(), f.toMs()));
            StringBuilder sql = new StringBuilder(SELECT).append(UsageQueries.where(f, args));
            if (!f.jobIds().isEmpty()) {
                sql.append(" AND job_id IN (").append("?,".repeat(f.jobIds().size() - 1)).append("?)");
                args.addAll(f.jobIds());
            }
            sql.append(" ORDER BY ts_ms, id");
            long rows = db.read(h -> {
                long n = 0;
                try (PreparedStatement ps = h.getConnection().prepareStatement(sql.toString())) {
                    for (int i = 0; i < args.size(); i++) {
                        ps.setObject(i + 1, args.get(i));
                    }
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            row(rs, labels, line);
                            try {
                                endLine(w, line);
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                            n++;
                        }
                    }
                }
                return n;
            });
            w.flush();
            return rows;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (SQLException e) {
            throw new IllegalStateException("usage export failed: " + e.getMessage(), e);
        }
    }

    private static void row(ResultSet rs, List<String> labels, StringBuilder line) throws SQLException {
        long ts = rs.getLong(2);
        text(line, rs.getString(1));
        line.append(Math.floorDiv(ts, 1000)).append('.');
        long frac = Math.floorMod(ts, 1000);
        line.append(frac < 100 ? frac < 10 ? "00" : "0" : "").append(frac).append(',');
        line.append(UsageStore.iso(ts)).append(',');
        for (int c = 3; c <= 9; c++) {
            text(line, rs.getString(c));
        }
        line.append(rs.getInt(10) == 1 ? "true" : "false").append(',');
        text(line, rs.getString(11));
        Object pt = rs.getObject(12);
        Object ct = rs.getObject(13);
        num(line, pt);
        num(line, ct);
        num(line, pt == null && ct == null ? null
                : (pt == null ? 0L : ((Number) pt).longValue()) + (ct == null ? 0L : ((Number) ct).longValue()));
        for (int c = 14; c <= 23; c++) {
            num(line, rs.getObject(c));
        }
        text(line, rs.getString(24));
        String extra = rs.getString(25);
        Map<String, Double> values = extra == null || labels.isEmpty() ? Map.of() : UsageStore.extras(extra);
        for (String l : labels) {
            num(line, values.get(l));
        }
        line.setLength(line.length() - 1);
    }

    private static void endLine(Writer w, StringBuilder line) throws IOException {
        if (!line.isEmpty() && line.charAt(line.length() - 1) == ',') {
            line.setLength(line.length() - 1);
        }
        line.append("\r\n");
        w.append(line);
        line.setLength(0);
    }

    private static void text(StringBuilder line, String v) {
        cell(line, v == null ? "" : v, true);
    }

    /** Appends one cell and a comma; {@code guard} makes formula-like text inert. */
    private static void cell(StringBuilder line, String v, boolean guard) {
        String s = guard ? CsvCells.safe(v) : v;
        boolean quote = false;
        for (int i = 0; i < s.length() && !quote; i++) {
            char c = s.charAt(i);
            quote = c == ',' || c == '"' || c == '\n' || c == '\r';
        }
        if (quote) {
            line.append('"').append(s.replace("\"", "\"\"")).append('"');
        } else {
            line.append(s);
        }
        line.append(',');
    }

    private static void num(StringBuilder line, Object v) {
        if (v instanceof Double d) {
            if (d == Math.rint(d) && Math.abs(d) < 1e15) {
                line.append((long) (double) d);
            } else {
                line.append(d);
            }
        } else if (v instanceof Number n) {
            line.append(n.longValue());
        }
        line.append(',');
    }

    /** One imported record: its 0-based index, its line in the body, and the row (or why it could not be read). */
    public record Parsed(int index, long line, ObjectNode row, String error) {
    }

    /**
     * Reads a CSV body with a header row into rows of text values (empty cells left out): known columns by name,
     * {@code extra.LABEL} columns and unknown columns as extra metrics.
     */
    public static List<Parsed> read(String body, int maxRows) {
        List<Parsed> out = new ArrayList<>();
        try (Reader r = new StringReader(body);
             CSVParser p = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).setIgnoreEmptyLines(true)
                     .get().parse(r)) {
            List<String> header = p.getHeaderNames();
            if (!header.contains("ts") && !header.contains("ts_iso")) {
                throw ApiException.invalid("the CSV header must have a 'ts' column (the export's header: "
                        + String.join(",", COLUMNS) + ")");
            }
            long previousLine = 1;
            for (CSVRecord rec : p) {
                if (out.size() >= maxRows) {
                    throw new ApiException(io.helidon.http.Status.REQUEST_ENTITY_TOO_LARGE_413, "too_large",
                            "at most " + maxRows + " rows per import");
                }
                long line = previousLine + 1;
                previousLine = p.getCurrentLineNumber();
                ObjectNode o = Json.MAPPER.createObjectNode();
                ObjectNode extra = null;
                for (int i = 0; i < header.size() && i < rec.size(); i++) {
                    String name = header.get(i);
                    String v = rec.get(i);
                    if (v.isEmpty() || DERIVED.contains(name) && !(name.equals("ts_iso") && !header.contains("ts"))) {
                        continue;
                    }
                    if (COLUMNS.contains(name)) {
                        o.put(name, CsvCells.unsafe(v));
                    } else {
                        if (extra == null) {
                            extra = o.putObject("extra");
                        }
                        extra.put(name.startsWith("extra.") ? name.substring(6) : name, v);
                    }
                }
                out.add(new Parsed(out.size(), line, o, null));
            }
        } catch (IOException | UncheckedIOException | IllegalStateException e) {
            throw ApiException.badRequest("malformed CSV: " + e.getMessage());
        }
        return out;
    }
}
