package scorebook.evals;

import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import scorebook.server.Json;

/**
 * Writes runs and result rows as JSON straight from the store's cursor: stored JSON text is spliced in
 * raw (API responses) or re-indented (the exported run document), never parsed into objects.
 */
final class RunJson {
    private static final JsonFactory COMPACT = Json.MAPPER.getFactory();
    /** The run document as the original tool writes its run files: indent 2, non-ASCII escaped. */
    private static final JsonFactory DOCUMENT = JsonFactory.builder()
            .enable(JsonWriteFeature.ESCAPE_NON_ASCII).disable(JsonWriteFeature.WRITE_HEX_UPPER_CASE).build();

    private RunJson() {
    }

    static JsonGenerator compact(OutputStream out) throws IOException {
        return COMPACT.createGenerator(out);
    }

    static JsonGenerator document(OutputStream out) throws IOException {
        Separators seps = Separators.createDefaultInstance()
                .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                .withObjectEmptySeparator("")
                .withArrayEmptySeparator("");
        DefaultIndenter indent = new DefaultIndenter("  ", "\n");
        return DOCUMENT.createGenerator(out).setCodec(Json.MAPPER).setPrettyPrinter(new DefaultPrettyPrinter(seps)
                .withObjectIndenter(indent).withArrayIndenter(indent));
    }

    /**
     * {@code GET /results} and {@code GET /api/runs/{id}/data}: the run, its live totals, rows and chips
     * ({@code selected_total} only for the active run, as the original does).
     */
    static void results(JsonGenerator g, EvalStore.RunView view, boolean withSelectedTotal) throws IOException {
        EvalStore.Run run = view.run();
        EvalStore.Totals t = view.totals();
        List<EvalStore.Chip> chips = view.chips();
        g.writeStartObject();
        g.writeStringField("session_name", run.sessionName());
        g.writeStringField("run_name", run.runName());
        g.writeStringField("run_id", run.runId());
        g.writeNumberField("total_evaluations", t.totalEvaluations());
        if (withSelectedTotal) {
            g.writeFieldName("selected_total");
            writeInteger(g, run.selectedTotal());
        }
        g.writeNumberField("total_errors", t.totalErrors());
        g.writeNumberField("total_passed", t.totalPassed());
        g.writeNumberField("average_latency", t.averageLatency());
        g.writeArrayFieldStart("results");
        view.forEachRaw((i, json) -> g.writeRawValue(new RawJson(json)));
        g.writeEndArray();
        writeChips(g, chips);
        g.writeStringField("eval_path", run.evalPath());
        g.writeEndObject();
    }

    /** A run's figures without its rows, named as {@code GET /api/runs/{id}/data} names them (a compared run). */
    static void summary(JsonGenerator g, EvalStore.RunView view) throws IOException {
        EvalStore.Run run = view.run();
        EvalStore.Totals t = view.totals();
        g.writeStartObject();
        g.writeStringField("session_name", run.sessionName());
        g.writeStringField("run_name", run.runName());
        g.writeStringField("run_id", run.runId());
        g.writeNumberField("total_evaluations", t.totalEvaluations());
        g.writeNumberField("total_errors", t.totalErrors());
        g.writeNumberField("total_passed", t.totalPassed());
        g.writeNumberField("average_latency", t.averageLatency());
        writeChips(g, view.chips());
        g.writeStringField("eval_path", run.evalPath());
        g.writeEndObject();
    }

    /**
     * {@code GET /api/runs/{id}/rows}: the page of rows (each its stored JSON with {@code index} put first),
     * the counts, the chips and average latency of the filtered rows, the run's totals as /results has them, and
     * the run's datasets and labels (every value a filter can pick, not only those of the page).
     */
    static void rows(JsonGenerator g, EvalStore.Run run, RowsSql.Selection sel, List<RowsSql.Indexed> rows, RowQuery q)
            throws IOException {
        g.writeStartObject();
        g.writeStringField("run_id", run.runId());
        g.writeStringField("session_name", run.sessionName());
        g.writeStringField("run_name", run.runName());
        g.writeNumberField("total", sel.total());
        g.writeNumberField("filtered", sel.filtered());
        g.writeNumberField("offset", q.offset());
        g.writeNumberField("limit", q.limit());
        g.writeArrayFieldStart("rows");
        for (RowsSql.Indexed r : rows) {
            writeWithIndex(g, r.index(), r.json());
        }
        g.writeEndArray();
        chips(g, "chips", sel.chips());
        g.writeNumberField("average_latency", sel.averageLatency());
        totals(g, run, sel.run());
        strings(g, "datasets", sel.datasets());
        strings(g, "labels", sel.labels());
        g.writeEndObject();
    }

    private static void strings(JsonGenerator g, String field, List<String> values) throws IOException {
        g.writeArrayFieldStart(field);
        for (String v : values) {
            g.writeString(v);
        }
        g.writeEndArray();
    }

    /**
     * The "totals" event of a run's live stream: {@code {"run_id", "totals": {...}, "chips": [...]}}, the
     * run's figures after a change (chips of the whole run, as /results has them).
     */
    static String totalsEvent(EvalStore.Run run, EvalStore.Live live) {
        StringWriter w = new StringWriter(512);
        try (JsonGenerator g = COMPACT.createGenerator(w)) {
            g.writeStartObject();
            g.writeStringField("run_id", run.runId());
            totals(g, run, live);
            chips(g, "chips", live.chips());
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return w.toString();
    }

    /**
     * {@code "totals": {...}}: the run's live totals as {@code GET /results} names them, and {@code statuses},
     * how many rows are in each status (those with none left out).
     */
    private static void totals(JsonGenerator g, EvalStore.Run run, EvalStore.Live live) throws IOException {
        EvalStore.Totals t = live.totals();
        g.writeObjectFieldStart("totals");
        g.writeNumberField("total_evaluations", t.totalEvaluations());
        g.writeFieldName("selected_total");
        writeInteger(g, run.selectedTotal());
        g.writeNumberField("total_errors", t.totalErrors());
        g.writeNumberField("total_passed", t.totalPassed());
        g.writeNumberField("average_latency", t.averageLatency());
        g.writeObjectFieldStart("statuses");
        for (var e : live.statuses().entrySet()) {
            g.writeNumberField(e.getKey(), e.getValue());
        }
        g.writeEndObject();
        g.writeEndObject();
    }

    /** A stored row {@code {"function", ...}} as {@code {"index": i, "function", ...}}: its members copied as stored. */
    static void writeWithIndex(JsonGenerator g, int index, byte[] rowJson) throws IOException {
        int end = rowJson.length - 1;
        while (end > 0 && rowJson[end] != '}') {
            end--;
        }
        g.writeStartObject();
        g.writeNumberField("index", index);
        // the stored object's members as they are, between its braces, after the index
        int first = 1;
        while (first < end && rowJson[first] <= ' ') {
            first++;
        }
        if (first < end) {
            g.writeRaw(',');
            g.writeRaw(new RawJson(rowJson, first, end));
        }
        g.writeEndObject();
    }

    /** {@code GET /results} before any run: the discovered cases, not_started, totals 0, no selected_total. */
    static void discovered(JsonGenerator g, List<ResultRow> rows, String evalPath) throws IOException {
        g.writeStartObject();
        g.writeNullField("session_name");
        g.writeNullField("run_name");
        g.writeNullField("run_id");
        g.writeNumberField("total_evaluations", rows.size());
        g.writeNumberField("total_errors", 0);
        g.writeNumberField("total_passed", 0);
        g.writeNumberField("average_latency", 0.0);
        g.writeArrayFieldStart("results");
        for (ResultRow r : rows) {
            g.writeRawValue(render(r));
        }
        g.writeEndArray();
        writeChips(g, List.of());
        g.writeStringField("eval_path", evalPath);
        g.writeEndObject();
    }

    /** The whole run document, as the JSON export writes it and the import reads it. */
    static void document(JsonGenerator g, EvalStore.RunView view) throws IOException {
        EvalStore.Run run = view.run();
        EvalStore.Totals t = view.totals();
        g.writeStartObject();
        g.writeStringField("session_name", run.sessionName());
        g.writeStringField("run_name", run.runName());
        g.writeStringField("run_id", run.runId());
        g.writeNumberField("created_at", run.createdAt());
        g.writeNumberField("total_evaluations", t.totalEvaluations());
        g.writeNumberField("total_functions", t.totalFunctions());
        g.writeNumberField("total_errors", t.totalErrors());
        g.writeNumberField("total_passed", t.totalPassed());
        g.writeNumberField("total_with_scores", t.totalWithScores());
        g.writeNumberField("average_latency", t.averageLatency());
        g.writeArrayFieldStart("results");
        view.forEachRaw((i, json) -> {
            try (JsonParser p = COMPACT.createParser(json)) {
                p.nextToken();
                g.copyCurrentStructure(p);
            }
        });
        g.writeEndArray();
        g.writeStringField("path", run.evalPath());
        g.writeStringField("dataset", run.dataset());
        g.writeFieldName("labels");
        value(g, run.labels() == null ? NullNode.getInstance() : Json.MAPPER.readTree(run.labels()));
        g.writeStringField("function_name", run.functionName());
        g.writeEndObject();
    }

    /** A row as the compact JSON text the store keeps (and serves as it is). */
    static String render(ResultRow r) {
        StringWriter w = new StringWriter(1024);
        try (JsonGenerator g = COMPACT.createGenerator(w)) {
            row(g, r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return w.toString();
    }

    /** Reads a row the store kept (trusted: written by {@link #render}). */
    static ResultRow read(byte[] json) {
        try {
            JsonNode row = Json.MAPPER.readTree(json);
            JsonNode r = row.path("result");
            List<Score> scores = null;
            if (r.path("scores").isArray()) {
                scores = new ArrayList<>(r.path("scores").size());
                for (JsonNode s : r.path("scores")) {
                    scores.add(new Score(s.path("key").asText(), s.path("value").isNumber() ? s.path("value").asDouble() : null,
                            s.path("passed").isBoolean() ? s.path("passed").asBoolean() : null, text(s.path("notes"))));
                }
            }
            return new ResultRow(row.path("function").asText(), text(row.path("dataset")), row.path("labels"),
                    r.path("input"), r.path("output"), r.path("reference"), scores,
                    text(r.path("error")), r.path("latency").isNumber() ? r.path("latency").asDouble() : null,
                    r.path("metadata"), r.path("trace_data"), r.path("status").asText(),
                    text(r.path("annotation")), r.path("annotations"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String text(JsonNode n) {
        return n.isTextual() ? n.asText() : null;
    }

    /** {@code {"function", "dataset", "labels", "result": {...}}}. */
    static void row(JsonGenerator g, ResultRow r) throws IOException {
        g.writeStartObject();
        g.writeStringField("function", r.function());
        g.writeStringField("dataset", r.dataset());
        g.writeFieldName("labels");
        value(g, r.labels());
        g.writeObjectFieldStart("result");
        g.writeFieldName("input");
        value(g, r.input());
        g.writeFieldName("output");
        value(g, r.output());
        g.writeFieldName("reference");
        value(g, r.reference());
        g.writeFieldName("scores");
        scores(g, r.scores());
        g.writeStringField("error", r.error());
        g.writeFieldName("latency");
        writeDouble(g, r.latency());
        g.writeFieldName("metadata");
        value(g, r.metadata());
        g.writeFieldName("trace_data");
        value(g, r.traceData());
        g.writeStringField("status", r.status());
        g.writeStringField("annotation", r.annotation());
        g.writeFieldName("annotations");
        value(g, r.annotations());
        g.writeEndObject();
        g.writeEndObject();
    }

    private static void scores(JsonGenerator g, List<Score> scores) throws IOException {
        if (scores == null) {
            g.writeNull();
            return;
        }
        g.writeStartArray();
        for (Score s : scores) {
            g.writeStartObject();
            g.writeStringField("key", s.key());
            g.writeFieldName("value");
            writeDouble(g, s.value());
            g.writeFieldName("passed");
            if (s.passed() == null) {
                g.writeNull();
            } else {
                g.writeBoolean(s.passed());
            }
            g.writeStringField("notes", s.notes());
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    private static void writeChips(JsonGenerator g, List<EvalStore.Chip> chips) throws IOException {
        chips(g, "score_chips", chips);
    }

    /** Score chips as the original serves them: ratio with passed/total, avg with avg/count. */
    static void chips(JsonGenerator g, String field, List<EvalStore.Chip> chips) throws IOException {
        g.writeArrayFieldStart(field);
        for (EvalStore.Chip c : chips) {
            g.writeStartObject();
            g.writeStringField("key", c.key());
            g.writeStringField("type", c.type());
            if (c.type().equals("ratio")) {
                g.writeNumberField("passed", c.passed());
                g.writeNumberField("total", c.total());
            } else {
                g.writeNumberField("avg", c.avg());
                g.writeNumberField("count", c.count());
            }
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    /** A JSON value (the generator's printer decides the layout). */
    private static void value(JsonGenerator g, JsonNode node) throws IOException {
        g.writeTree(node);
    }

    private static void writeDouble(JsonGenerator g, Double d) throws IOException {
        if (d == null) {
            g.writeNull();
        } else {
            g.writeNumber(d);
        }
    }

    private static void writeInteger(JsonGenerator g, Integer i) throws IOException {
        if (i == null) {
            g.writeNull();
        } else {
            g.writeNumber(i);
        }
    }
}
