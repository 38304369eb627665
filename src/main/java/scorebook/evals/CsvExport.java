package scorebook.evals;

import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.CsvCells;
import scorebook.server.Json;

/**
 * The run as CSV (RFC 4180, CRLF, quoted only when needed), streamed row by row in the original's 12
 * columns with values printed as Python prints them; a cell a spreadsheet would run as a formula gets
 * a leading {@code '}.
 */
final class CsvExport {
    static final List<String> HEADER = List.of("function", "dataset", "labels", "input", "output", "reference", "scores",
            "error", "latency", "metadata", "trace_data", "annotations");

    private CsvExport() {
    }

    static void write(OutputStream out, EvalStore.RunView view) throws IOException {
        Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
        // rows are printed into a StringBuilder and written in 64 KB pieces: the printer appends
        // piece by piece, and a Writer takes a lock for every append
        StringBuilder buffer = new StringBuilder(80 * 1024);
        CSVPrinter csv = new CSVPrinter(buffer, CSVFormat.RFC4180);
        csv.printRecord(HEADER);
        view.forEachRaw((i, json) -> {
            JsonNode row = Json.MAPPER.readTree(json);
            JsonNode r = row.path("result");
            JsonNode latency = r.path("latency");
            csv.print(CsvCells.safe(row.path("function").asText()));
            csv.print(CsvCells.safe(row.path("dataset").isTextual() ? row.path("dataset").asText() : ""));
            csv.print(CsvCells.safe(labels(row.path("labels"))));
            csv.print(CsvCells.safe(PyJson.dumps(r.path("input"))));
            csv.print(CsvCells.safe(PyJson.dumps(r.path("output"))));
            csv.print(CsvCells.safe(PyJson.dumps(r.path("reference"))));
            csv.print(CsvCells.safe(PyJson.dumps(r.path("scores"))));
            csv.print(CsvCells.safe(r.path("error").isTextual() ? r.path("error").asText() : ""));
            csv.print(latency.isNumber() ? PyJson.repr(latency.asDouble()) : "");
            csv.print(CsvCells.safe(PyJson.dumps(r.path("metadata"))));
            csv.print(CsvCells.safe(PyJson.dumps(r.path("trace_data"))));
            csv.print(CsvCells.safe(PyJson.dumps(r.path("annotations"))));
            csv.println();
            if (buffer.length() >= 64 * 1024) {
                w.append(buffer);
                buffer.setLength(0);
            }
        });
        w.append(buffer);
        w.flush();
    }

    /** Labels joined with {@code ;} (empty when null). */
    private static String labels(JsonNode labels) {
        StringBuilder b = new StringBuilder();
        for (JsonNode l : labels) {
            if (!b.isEmpty()) {
                b.append(';');
            }
            b.append(l.asText());
        }
        return b.toString();
    }

}
