package scorebook.gateway;

import java.time.Duration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.devices.ModelRequest;
import scorebook.server.ApiException;
import scorebook.server.Names;

/** The {@code /ask} body: {@code {prompt, system?, model?, options?, device_serial?, tag?, timeout_s?}}. */
final class AskBody {
    static final double MAX_TIMEOUT_S = 3600;

    private AskBody() {
    }

    /** Validates one ask body; {@code prefix} names its place in a batch in error messages. */
    static ModelRequest parse(ObjectNode body, String prefix) {
        JsonNode prompt = body.get("prompt");
        if (prompt == null || prompt.isNull()) {
            throw ApiException.invalid("'" + prefix + "prompt' is required");
        }
        if (!prompt.isTextual()) {
            throw ApiException.invalid("'" + prefix + "prompt' must be a string");
        }
        if (prompt.asText().isEmpty()) {
            throw ApiException.invalid("'" + prefix + "prompt' must not be empty");
        }
        String system = optionalString(body, "system", prefix);
        JsonNode options = body.get("options");
        if (options != null && !options.isNull() && !options.isObject()) {
            throw ApiException.invalid("'" + prefix + "options' must be an object, e.g. {\"num_predict\": 256, \"temperature\": 0.7}");
        }
        if (options != null) {
            requireFinite(options, prefix + "options");
        }
        ModelRequest r = ModelRequest.of(system, prompt.asText())
                .withModel(optionalText(body, "model", prefix))
                .withOptions(options == null || options.isNull() ? null : (ObjectNode) options)
                .withDevice(optionalText(body, "device_serial", prefix))
                .withTag(optionalText(body, "tag", prefix))
                .withSource("gateway");
        return r.withTimeout(timeout(body, prefix));
    }

    static Duration timeout(ObjectNode body, String prefix) {
        JsonNode t = body.get("timeout_s");
        if (t == null || t.isNull()) {
            return ModelRequest.DEFAULT_TIMEOUT;
        }
        if (!t.isNumber() || t.asDouble() <= 0 || t.asDouble() > MAX_TIMEOUT_S) {
            throw ApiException.invalid("'" + prefix + "timeout_s' must be a number of seconds above 0 and at most " + (int) MAX_TIMEOUT_S);
        }
        return Duration.ofMillis((long) (t.asDouble() * 1000));
    }

    /** Rejects a number too large for a double anywhere in {@code n}: 1e400 would reach the device as "Infinity". */
    static void requireFinite(JsonNode n, String path) {
        if (n.isFloatingPointNumber() && !Double.isFinite(n.asDouble())) {
            throw ApiException.invalid("'" + path + "' is too large a number");
        }
        if (n.isArray()) {
            for (int i = 0; i < n.size(); i++) {
                requireFinite(n.get(i), path + "[" + i + "]");
            }
        } else if (n.isObject()) {
            n.properties().forEach(e -> requireFinite(e.getValue(), path.isEmpty() ? e.getKey() : path + "." + e.getKey()));
        }
    }

    /** A name-like text field (trimmed, 1 to 200 characters), or null when absent. */
    static String optionalText(ObjectNode body, String field, String prefix) {
        String v = optionalString(body, field, prefix);
        return v == null ? null : Names.check(prefix + field, v);
    }

    /** A text field as given (not trimmed, may be empty), or null when absent. */
    private static String optionalString(ObjectNode body, String field, String prefix) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw ApiException.invalid("'" + prefix + field + "' must be a string");
        }
        return v.asText();
    }
}
