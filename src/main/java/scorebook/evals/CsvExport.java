package scorebook.evals;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

/**
 * The run as CSV (RFC 4180, CRLF, quoted only when needed), streamed row by row in the original's 12
 * columns; a cell a spreadsheet would run as a formula gets a leading {@code '}.
 */
final class CsvExport {
    static final List<String> HEADER = List.of("function", "dataset", "labels", "input", "output", "reference", "scores",
            "error", "latency", "metadata", "trace_data", "annotations");
    private static final JsonFactory READER = new JsonFactory();

    private CsvExport() {
    }

    static void write(OutputStream out, EvalStore.RunView view) throws IOException {
        BufferedWriter w = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), 64 * 1024);
        CSVPrinter csv = new CSVPrinter(w, CSVFormat.RFC4180);
        csv.printRecord(HEADER);
        List<String> cells = new ArrayList<>(HEADER.size());
        view.forEachRow((i, r) -> {
            cells.clear();
            cells.add(safe(r.function()));
            cells.add(safe(r.dataset() == null ? "" : r.dataset()));
            cells.add(safe(labels(r.labels())));
            cells.add(safe(PyJson.dumps(r.input())));
            cells.add(safe(PyJson.dumps(r.output())));
            cells.add(safe(PyJson.dumps(r.reference())));
            cells.add(safe(scores(r.scores())));
            cells.add(safe(r.error() == null ? "" : r.error()));
            cells.add(r.latency() == null ? "" : PyJson.repr(r.latency()));
            cells.add(safe(PyJson.dumps(r.metadata())));
            cells.add(safe(PyJson.dumps(r.traceData())));
            cells.add(safe(PyJson.dumps(r.annotations())));
            csv.printRecord(cells);
        });
        csv.flush();
    }

    /** Labels joined with {@code ;} (empty when null or not a list of strings). */
    static String labels(String json) throws IOException {
        if ("null".equals(json)) {
            return "";
        }
        StringBuilder b = new StringBuilder();
        try (JsonParser p = READER.createParser(json)) {
            if (p.nextToken() != JsonToken.START_ARRAY) {
                return "";
            }
            while (p.nextToken() != JsonToken.END_ARRAY) {
                if (!b.isEmpty()) {
                    b.append(';');
                }
                b.append(p.getText());
            }
        }
        return b.toString();
    }

    /** Scores as Python prints the list: {@code [{"key": "a", "value": 0.8, "passed": null, "notes": null}]}. */
    static String scores(List<Score> scores) {
        if (scores == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder("[");
        for (Score s : scores) {
            if (b.length() > 1) {
                b.append(", ");
            }
            b.append("{\"key\": ").append(PyJson.dumps(scorebook.server.Json.text(s.key())))
                    .append(", \"value\": ").append(s.value() == null ? "null" : PyJson.repr(s.value()))
                    .append(", \"passed\": ").append(s.passed() == null ? "null" : s.passed().toString())
                    .append(", \"notes\": ").append(s.notes() == null ? "null" : PyJson.dumps(scorebook.server.Json.text(s.notes())))
                    .append('}');
        }
        return b.append(']').toString();
    }

    /** A cell starting with = + - @ tab or CR would be a formula in a spreadsheet: make it text. */
    static String safe(String cell) {
        if (cell.isEmpty()) {
            return cell;
        }
        char c = cell.charAt(0);
        return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r' ? "'" + cell : cell;
    }
}
