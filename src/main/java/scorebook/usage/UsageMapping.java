package scorebook.usage;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.server.Json;

/**
 * Which fields of a dataset's rows are a usage row's time, device, model, standard metrics and extra metrics (the
 * part of a dataset adapter the usage rows are made by), and the rule that makes one usage row from one dataset
 * row. Kept here, not with the datasets, because the usage rows of appended rows are made later, by the fold
 * ({@link DatasetUsage}), by the same rule the append answered with.
 *
 * @param xField                the time field (epoch s/ms or ISO-8601); null: the time the row was received
 * @param deviceField           the device field
 * @param modelField            the model field
 * @param promptTokensField     prompt tokens
 * @param completionTokensField completion tokens
 * @param latencyMsField        latency, ms
 * @param ttftMsField           time to first token, ms
 * @param extras                extra metrics: label and field
 */
public record UsageMapping(String xField, String deviceField, String modelField, String promptTokensField,
                           String completionTokensField, String latencyMsField, String ttftMsField, List<Extra> extras) {

    /**
     * One extra metric.
     *
     * @param label the name the value is stored under (usage rows' extra)
     * @param field the row's field
     */
    public record Extra(String label, String field) {
    }

    /** Every field the rule reads (a row's other fields do not matter to it). */
    public List<String> fields() {
        List<String> out = new ArrayList<>();
        for (String f : new String[] {xField, deviceField, modelField, promptTokensField, completionTokensField,
                latencyMsField, ttftMsField}) {
            if (f != null) {
                out.add(f);
            }
        }
        extras.forEach(e -> out.add(e.field()));
        return out;
    }

    /**
     * The usage row (source_kind dataset, no event id yet) made from {@code row}, received at {@code receivedMs}, or
     * which field does not fit. {@code row} needs to hold only the {@link #fields()}.
     */
    public UsageStore.Row row(long userId, String dataset, ObjectNode row, long receivedMs) throws UsageRows.Bad {
        return row(userId, dataset, row, receivedMs, true);
    }

    /**
     * Whether a row makes a usage row: the same checks as {@link #row}, without building it. {@code row} answers a
     * field's value, or null.
     */
    public void check(Function<String, JsonNode> row, long receivedMs) throws UsageRows.Bad {
        row(0, null, row, receivedMs, false);
    }

    private UsageStore.Row row(long userId, String dataset, ObjectNode row, long receivedMs, boolean build)
            throws UsageRows.Bad {
        return row(userId, dataset, (Function<String, JsonNode>) row::get, receivedMs, build);
    }

    private UsageStore.Row row(long userId, String dataset, Function<String, JsonNode> row, long receivedMs,
                               boolean build) throws UsageRows.Bad {
        long ts = receivedMs;
        if (xField != null) {
            JsonNode x = row.apply(xField);
            if (UsageRows.absent(x)) {
                throw new UsageRows.Bad(xField, "is missing (the adapter's x_field, the row's time)");
            }
            ts = UsageRows.time(xField, x, receivedMs);
        }
        Integer pt = promptTokensField == null ? null : UsageRows.tokens(promptTokensField, row.apply(promptTokensField));
        Integer ct = completionTokensField == null ? null
                : UsageRows.tokens(completionTokensField, row.apply(completionTokensField));
        Double latency = latencyMsField == null ? null : UsageRows.nonNegative(latencyMsField, row.apply(latencyMsField));
        Double ttft = ttftMsField == null ? null : UsageRows.nonNegative(ttftMsField, row.apply(ttftMsField));
        Map<String, Double> extra = build ? new LinkedHashMap<>() : null;
        for (Extra e : extras) {
            Double v = UsageRows.number(e.field(), row.apply(e.field()));
            if (v != null && build) {
                extra.put(e.label(), v);
            }
        }
        String device = name(row, deviceField);
        String model = name(row, modelField);
        if (!build) {
            return null;
        }
        Double tokS = ct != null && latency != null && latency > 0 ? ct / (latency / 1000.0) : null;
        return new UsageStore.Row(userId, null, ts, "dataset", null, device, model, null, pt, ct, latency, ttft, tokS,
                true, null, null, null, null, extra.isEmpty() ? null : Json.text(extra), null, dataset, null);
    }

    /** A name-like field: text, or a number written as text; at most 128 characters. */
    private static String name(Function<String, JsonNode> row, String field) throws UsageRows.Bad {
        if (field == null) {
            return null;
        }
        JsonNode v = row.apply(field);
        if (UsageRows.absent(v)) {
            return null;
        }
        if (!v.isTextual() && !v.isNumber()) {
            throw new UsageRows.Bad(field, "must be a string");
        }
        String s = v.asText();
        if (s.length() > UsageRows.MAX_NAME) {
            throw new UsageRows.Bad(field, "must be at most 128 characters");
        }
        return s;
    }

    /**
     * The mapping in a dataset adapter's JSON (what save_adapter stores: x_field, device_field, ..., extra_fields
     * [{label, field}]), as it is kept with the rows that wait for their usage rows.
     */
    static UsageMapping fromJson(String json) {
        JsonNode o = Json.parse(json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        List<Extra> ex = new ArrayList<>();
        o.path("extra_fields").forEach(e -> ex.add(new Extra(e.path("label").asText(), e.path("field").asText())));
        return new UsageMapping(text(o, "x_field"), text(o, "device_field"), text(o, "model_field"),
                text(o, "prompt_tokens_field"), text(o, "completion_tokens_field"), text(o, "latency_ms_field"),
                text(o, "ttft_ms_field"), List.copyOf(ex));
    }

    private static String text(JsonNode o, String name) {
        JsonNode v = o.get(name);
        return v == null || v.isNull() ? null : v.asText();
    }
}
