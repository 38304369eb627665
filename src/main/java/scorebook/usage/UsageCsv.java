package scorebook.usage;

import java.io.IOException;
import java.io.OutputStream;
import java.io.Reader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.DuplicateHeaderMode;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.server.ApiException;
import scorebook.server.CsvCells;
import scorebook.server.Json;
import scorebook.store.Database;
import scorebook.store.IsoTime;

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

    /**
     * Writes the user's rows matching {@code f}, oldest first, with {@code labels} as extra columns: in slices of
     * about {@value Slices#ROWS} rows ({@link Slices}), each read in its own read transaction.
     */
    public static long export(Database db, long userId, UsageFilter f, List<String> labels, OutputStream out) {
        return export(db, userId, f, labels, out, Slices.ROWS);
    }

    static long export(Database db, long userId, UsageFilter f, List<String> labels, OutputStream out, int sliceRows) {
        UsageStore.derivePending(db); // staged imports and dataset rows' usage rows are exported too
        Lines header = new Lines(out);
        try {
            for (String c : COLUMNS) {
                header.cell(c.getBytes(StandardCharsets.UTF_8), false);
            }
            for (String l : labels) {
                header.cell(("extra." + l).getBytes(StandardCharsets.UTF_8), true);
            }
            header.end();
            header.flush();
            List<Object> filters = new ArrayList<>();
            StringBuilder sql = new StringBuilder(SELECT).append(UsageQueries.where(f, filters));
            if (!f.jobIds().isEmpty()) {
                sql.append(" AND job_id IN (").append("?,".repeat(f.jobIds().size() - 1)).append("?)");
                filters.addAll(f.jobIds());
            }
            // the index's own order (user_id, ts_ms, event_key): ties ordered by id made SQLite sort again as it read
            // (2.2 of a 1,000,000-row export's seconds in SQLite, 0.8 without)
            sql.append(" ORDER BY ts_ms, event_key");
            String query = sql.toString();
            long rows = Slices.write(Slices.starts(db, userId, f.fromMs(), f.toMs(), sliceRows), f.toMs(),
                    (from, to, buffer) -> slice(db, query, userId, from, to, filters, labels, buffer), out);
            out.flush();
            return rows;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The CSV lines of one slice of the export, in memory. */
    private static Slices.Slice slice(Database db, String query, long userId, long fromMs, long toMs, List<Object> filters,
                                      List<String> labels, byte[] buffer) {
        Lines lines = new Lines(null, buffer);
        long n = db.read(h -> {
            long count = 0;
            try (PreparedStatement ps = h.getConnection().prepareStatement(query)) {
                ps.setLong(1, userId);
                ps.setLong(2, fromMs);
                ps.setLong(3, toMs);
                for (int i = 0; i < filters.size(); i++) {
                    ps.setObject(i + 4, filters.get(i));
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        row(rs, labels, lines);
                        count++;
                    }
                }
            } catch (SQLException e) {
                throw new IllegalStateException("usage export failed: " + e.getMessage(), e);
            }
            return count;
        });
        return new Slices.Slice(lines.buf, lines.len, n);
    }

    /**
     * One row as CSV bytes. Text columns are read as their UTF-8 bytes ({@code getBytes}: one JNI call, no String,
     * no re-encoding), the time is formatted by position: with a String per cell and a Writer this was most of
     * an export's CPU.
     */
    private static void row(ResultSet rs, List<String> labels, Lines line) throws SQLException {
        long ts = rs.getLong(2);
        line.text(rs.getBytes(1));
        line.digits(Math.floorDiv(ts, 1000));
        long frac = Math.floorMod(ts, 1000);
        line.ascii(frac < 100 ? frac < 10 ? ".00" : ".0" : ".");
        line.digits(frac);
        line.comma();
        line.iso(ts);
        line.comma();
        for (int c = 3; c <= 9; c++) {
            line.text(rs.getBytes(c));
        }
        line.ascii(rs.getInt(10) == 1 ? "true," : "false,");
        line.text(rs.getBytes(11));
        Object pt = rs.getObject(12);
        Object ct = rs.getObject(13);
        line.num(pt);
        line.num(ct);
        line.num(pt == null && ct == null ? null
                : (pt == null ? 0L : ((Number) pt).longValue()) + (ct == null ? 0L : ((Number) ct).longValue()));
        for (int c = 14; c <= 23; c++) {
            line.num(rs.getObject(c));
        }
        line.text(rs.getBytes(24));
        if (!labels.isEmpty()) {
            String extra = rs.getString(25);
            Map<String, Double> values = extra == null ? Map.of() : UsageStore.extras(extra);
            for (String l : labels) {
                line.num(values.get(l));
            }
        }
        line.end();
    }

    /** CSV lines built as bytes in one buffer, written to the stream in pieces of about 64 KB (kept whole without one). */
    private static final class Lines {
        private static final int FLUSH_AT = 1 << 16;
        private final OutputStream out;
        private byte[] buf;
        private int len;

        Lines(OutputStream out) {
            this(out, null);
        }

        /** Into {@code buf} when given (a written slice's), else a new buffer. */
        Lines(OutputStream out, byte[] buf) {
            this.out = out;
            this.buf = buf != null ? buf : new byte[FLUSH_AT + 4096];
        }

        /** A text cell (UTF-8; null is empty): made inert when a spreadsheet would run it, quoted when it must be. */
        void text(byte[] v) {
            if (v != null) {
                cell(v, true);
            } else {
                comma();
            }
        }

        /**
         * Appends one cell and a comma; {@code guard} makes formula-like text inert ({@link CsvCells}). Scanning
         * bytes is exact for UTF-8: no byte of a multi-byte character is ASCII.
         */
        void cell(byte[] v, boolean guard) {
            boolean quote = false;
            for (int i = 0; i < v.length && !quote; i++) {
                byte c = v[i];
                quote = c == ',' || c == '"' || c == '\n' || c == '\r';
            }
            room(v.length * 2 + 4);
            if (quote) {
                buf[len++] = '"';
            }
            if (guard && v.length > 0 && CsvCells.formulaStart((char) v[0])) {
                buf[len++] = '\'';
            }
            for (byte c : v) {
                if (c == '"') {
                    buf[len++] = '"';
                }
                buf[len++] = c;
            }
            if (quote) {
                buf[len++] = '"';
            }
            buf[len++] = ',';
        }

        /** A number cell: whole doubles below 1e15 without a fraction, others as Java writes them. */
        void num(Object v) {
            if (v instanceof Double d) {
                if (d == Math.rint(d) && Math.abs(d) < 1e15) {
                    digits((long) (double) d);
                } else {
                    ascii(Double.toString(d));
                }
            } else if (v instanceof Number n) {
                digits(n.longValue());
            }
            comma();
        }

        void digits(long v) {
            room(21);
            if (v < 0) {
                if (v == Long.MIN_VALUE) {
                    ascii(Long.toString(v));
                    return;
                }
                buf[len++] = '-';
                v = -v;
            }
            int start = len;
            do {
                buf[len++] = (byte) ('0' + v % 10);
                v /= 10;
            } while (v != 0);
            for (int i = start, j = len - 1; i < j; i++, j--) {
                byte t = buf[i];
                buf[i] = buf[j];
                buf[j] = t;
            }
        }

        /** A time as {@link IsoTime#format} writes it, straight into the buffer. */
        void iso(long ms) {
            room(IsoTime.LENGTH);
            if (IsoTime.write(ms, buf, len)) {
                len += IsoTime.LENGTH;
            } else {
                ascii(IsoTime.format(ms));
            }
        }

        void ascii(String s) {
            room(s.length());
            for (int i = 0; i < s.length(); i++) {
                buf[len++] = (byte) s.charAt(i);
            }
        }

        void comma() {
            room(1);
            buf[len++] = ',';
        }

        /** Ends the line (in place of the last cell's comma) and writes the buffer once it is full enough. */
        void end() {
            if (len > 0 && buf[len - 1] == ',') {
                len--;
            }
            room(2);
            buf[len++] = '\r';
            buf[len++] = '\n';
            if (len >= FLUSH_AT && out != null) {
                try {
                    out.write(buf, 0, len);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                len = 0;
            }
        }

        void flush() throws IOException {
            out.write(buf, 0, len);
            len = 0;
            out.flush();
        }

        private void room(int n) {
            if (len + n > buf.length) {
                buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, len + n));
            }
        }
    }

    /**
     * One imported record: its 0-based index, its line in the body, and the row (or why it could not be read), or the
     * usage row the import's byte reader already checked it into ({@code checked}; then row and error are null).
     */
    public record Parsed(int index, long line, ObjectNode row, String error, UsageStore.Row checked) {
        public Parsed(int index, long line, ObjectNode row, String error) {
            this(index, line, row, error, null);
        }
    }

    /**
     * Reads a CSV body with a header row into rows of text values (empty cells left out): known columns by name,
     * {@code extra.LABEL} columns and unknown columns as extra metrics.
     */
    public static List<Parsed> read(String body, int maxRows) {
        List<Parsed> out = new ArrayList<>();
        CSVParser opened;
        try {
            opened = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).setIgnoreEmptyLines(true)
                    .setDuplicateHeaderMode(DuplicateHeaderMode.DISALLOW).get().parse(new StringReader(body));
        } catch (IOException | UncheckedIOException | IllegalArgumentException | IllegalStateException e) {
            // commons-csv refuses a header with a blank or a repeated name by an IllegalArgumentException
            throw ApiException.badRequest("malformed CSV header: " + e.getMessage());
        }
        try (CSVParser p = opened) {
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
                    } else if (name.startsWith("extra.") || isNumber(v)) {
                        // §3.12: unknown numeric columns are extra metrics; text in another tool's column is not
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

    /** A finite number as a CSV cell holds one (what an extra metric's value may be). */
    private static boolean isNumber(String v) {
        try {
            return Double.isFinite(Double.parseDouble(v.strip()));
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
