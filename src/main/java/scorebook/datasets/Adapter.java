package scorebook.datasets;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.server.ApiException;
import scorebook.server.Json;
import scorebook.usage.UsageMapping;

/**
 * How a dataset's rows become usage rows (the body of {@code POST /user/data/save_adapter}): which field is the
 * time, device, model, the standard metrics, and the extra metrics under their labels. A field left out is not
 * mapped; without {@code x_field} a row's time is when it was received.
 *
 * @param dataset               the dataset's name
 * @param enabled               whether appended rows also become usage rows
 * @param xField                the time field (epoch s/ms or ISO-8601)
 * @param deviceField           the device field
 * @param modelField            the model field
 * @param promptTokensField     prompt tokens
 * @param completionTokensField completion tokens
 * @param latencyMsField        latency, ms
 * @param ttftMsField           time to first token, ms
 * @param extraFields           extra metrics: field, label, kind (number)
 */
public record Adapter(String dataset, boolean enabled, String xField, String deviceField, String modelField,
                      String promptTokensField, String completionTokensField, String latencyMsField, String ttftMsField,
                      List<ExtraField> extraFields) {

    /**
     * One extra metric.
     *
     * @param label the name it is shown and stored under (usage rows' extra)
     * @param field the row's field
     * @param kind  always "number"
     */
    public record ExtraField(String label, String field, String kind) {
    }

    static final List<String> FIELDS = List.of("x_field", "device_field", "model_field", "prompt_tokens_field",
            "completion_tokens_field", "latency_ms_field", "ttft_ms_field");

    /** Reads a save_adapter body (the dataset name already checked); a mistyped field is a 422 naming it. */
    static Adapter parse(String dataset, ObjectNode body) {
        JsonNode enabled = body.get("enabled");
        if (enabled != null && !enabled.isNull() && !enabled.isBoolean()) {
            throw ApiException.invalid("'enabled' must be true or false");
        }
        String[] f = new String[FIELDS.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = fieldName(body, FIELDS.get(i));
        }
        List<ExtraField> extras = new ArrayList<>();
        JsonNode list = body.get("extra_fields");
        if (list != null && !list.isNull()) {
            if (!list.isArray()) {
                throw ApiException.invalid("'extra_fields' must be a list of {label, field, kind}");
            }
            for (int i = 0; i < list.size(); i++) {
                JsonNode e = list.get(i);
                String at = "extra_fields[" + i + "]";
                if (!e.isObject()) {
                    throw ApiException.invalid("'" + at + "' must be an object {label, field, kind}");
                }
                String field = fieldName((ObjectNode) e, "field", at + ".field");
                if (field == null) {
                    throw ApiException.invalid("'" + at + ".field' is required");
                }
                String label = fieldName((ObjectNode) e, "label", at + ".label");
                JsonNode kind = e.get("kind");
                if (kind != null && !kind.isNull() && !(kind.isTextual() && kind.asText().equals("number"))) {
                    throw ApiException.invalid("'" + at + ".kind' must be \"number\" (the only kind of extra metric)");
                }
                String l = label == null ? field : label;
                if (extras.stream().anyMatch(x -> x.label().equals(l))) {
                    throw ApiException.invalid("'" + at + ".label' repeats the label '" + l + "'");
                }
                extras.add(new ExtraField(l, field, "number"));
            }
        }
        return new Adapter(dataset, enabled == null || enabled.isNull() || enabled.asBoolean(), f[0], f[1], f[2], f[3],
                f[4], f[5], f[6], List.copyOf(extras));
    }

    private static String fieldName(ObjectNode body, String name) {
        return fieldName(body, name, name);
    }

    private static String fieldName(ObjectNode body, String name, String path) {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw ApiException.invalid("'" + path + "' must be a string naming a field of the rows");
        }
        if (v.asText().isEmpty() || v.asText().length() > 256) {
            throw ApiException.invalid("'" + path + "' must be 1 to 256 characters");
        }
        return v.asText();
    }

    /** The fields usage rows are made from, and the rule that makes them. */
    public UsageMapping mapping() {
        List<UsageMapping.Extra> extras = new ArrayList<>();
        extraFields.forEach(e -> extras.add(new UsageMapping.Extra(e.label(), e.field())));
        return new UsageMapping(xField, deviceField, modelField, promptTokensField, completionTokensField,
                latencyMsField, ttftMsField, List.copyOf(extras));
    }

    /** The JSON form, as saved and as get_adapter answers. */
    Map<String, Object> toJson() {
        List<Object> extras = new ArrayList<>();
        extraFields.forEach(e -> extras.add(Json.fields("label", e.label(), "field", e.field(), "kind", e.kind())));
        return Json.fields("dataset", dataset, "enabled", enabled, "x_field", xField, "device_field", deviceField,
                "model_field", modelField, "prompt_tokens_field", promptTokensField,
                "completion_tokens_field", completionTokensField, "latency_ms_field", latencyMsField,
                "ttft_ms_field", ttftMsField, "extra_fields", extras);
    }

    /** Reads the stored JSON back. */
    static Adapter fromJson(String json) {
        try {
            ObjectNode o = (ObjectNode) Json.MAPPER.readTree(json);
            return parse(o.path("dataset").asText(), o);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("stored adapter is not JSON: " + e.getMessage(), e);
        }
    }
}
