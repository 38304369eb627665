package scorebook.runner;

import scorebook.evals.Score;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import scorebook.server.Json;

/**
 * Reads what a command printed or an HTTP target answered: plain text is the output; a JSON object
 * with any of output, scores, metadata, trace_data, error, latency gives those fields.
 */
final class Reply {
    private static final List<String> FIELDS = List.of("output", "scores", "metadata", "trace_data", "error", "latency");

    private Reply() {
    }

    static Outcome read(String text, double measuredLatency) {
        String trimmed = text.strip();
        JsonNode json = null;
        if (trimmed.startsWith("{")) {
            try {
                json = Json.MAPPER.readTree(trimmed);
            } catch (JsonProcessingException e) {
                json = null;
            }
        }
        if (json == null || !json.isObject() || FIELDS.stream().noneMatch(json::has)) {
            return new Outcome(json != null ? json : TextNode.valueOf(trimmed), List.of(), null, null, null, measuredLatency);
        }
        List<Score> scores;
        try {
            scores = scores(json.get("scores"));
        } catch (IllegalArgumentException e) {
            return Outcome.error("the target reported invalid scores: " + e.getMessage(), measuredLatency);
        }
        JsonNode error = json.get("error");
        JsonNode latency = json.get("latency");
        return new Outcome(
                json.get("output"),
                scores,
                objectOrNull(json.get("metadata")),
                objectOrNull(json.get("trace_data")),
                error == null || error.isNull() || error.asText().isEmpty() ? null : error.isTextual() ? error.asText() : error.toString(),
                latency != null && latency.isNumber() && latency.asDouble() >= 0 ? latency.asDouble() : measuredLatency);
    }

    /** Scores as the API takes them: a key and at least one of value (number) and passed (boolean). */
    static List<Score> scores(JsonNode node) {
        List<Score> out = new ArrayList<>();
        if (node == null || node.isNull()) {
            return out;
        }
        if (!node.isArray()) {
            throw new IllegalArgumentException("scores must be a list");
        }
        for (JsonNode s : node) {
            if (!s.isObject() || !s.path("key").isTextual() || s.path("key").asText().isBlank()) {
                throw new IllegalArgumentException("each score needs a key");
            }
            JsonNode value = s.get("value");
            JsonNode passed = s.get("passed");
            boolean hasValue = value != null && !value.isNull();
            boolean hasPassed = passed != null && !passed.isNull();
            if (hasValue && !value.isNumber() || hasPassed && !passed.isBoolean()) {
                throw new IllegalArgumentException("score " + s.path("key").asText() + ": value must be a number, passed a boolean");
            }
            if (!hasValue && !hasPassed) {
                throw new IllegalArgumentException("score " + s.path("key").asText() + " needs value or passed");
            }
            JsonNode notes = s.get("notes");
            out.add(new Score(s.get("key").asText(), hasValue ? value.asDouble() : null, hasPassed ? passed.asBoolean() : null,
                    notes == null || notes.isNull() ? null : notes.asText()));
        }
        return out;
    }

    private static JsonNode objectOrNull(JsonNode node) {
        return node != null && node.isObject() ? node : null;
    }
}
