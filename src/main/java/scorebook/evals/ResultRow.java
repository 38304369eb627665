package scorebook.evals;

import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One result row of a run: the eval that made it and its result object. Fields that hold any JSON
 * value ({@code labels}, {@code input}, ..., {@code annotations}) are never Java null (a NullNode is
 * the JSON null).
 *
 * @param scores null when the result's scores are null, else the list (possibly empty)
 */
public record ResultRow(String function, String dataset, JsonNode labels, JsonNode input, JsonNode output,
                        JsonNode reference, List<Score> scores, String error, Double latency, JsonNode metadata,
                        JsonNode traceData, String status, String annotation, JsonNode annotations) {

    /** Statuses a row can have; a runner moves rows through them. */
    public static final List<String> STATUSES = List.of("not_started", "pending", "running", "completed", "error", "cancelled");

    /** The same row with another status (and error, for a row that ends in one); human notes kept. */
    public ResultRow withStatus(String newStatus, String newError) {
        return new ResultRow(function, dataset, labels, input, output, reference, scores, newError, latency, metadata,
                traceData, newStatus, annotation, annotations);
    }

    /** Whether the error is "truthy" (set and non-empty), which is what counts as an errored row. */
    public boolean hasError() {
        return error != null && !error.isEmpty();
    }

    /** Whether a reviewer's note is set and not empty ("Has Note" in the original UI). */
    public boolean hasAnnotation() {
        return annotation != null && !annotation.isEmpty();
    }

    /** Whether {@code trace_data.trace_url} is a non-empty string. */
    public boolean hasUrl() {
        JsonNode url = traceData == null ? null : traceData.get("trace_url");
        return url != null && url.isTextual() && !url.asText().isEmpty();
    }

    /** Whether {@code trace_data.messages} is a non-empty list. */
    public boolean hasMessages() {
        JsonNode messages = traceData == null ? null : traceData.get("messages");
        return messages != null && messages.isArray() && !messages.isEmpty();
    }

    /**
     * The lower-cased text the rows endpoint's search looks in: function, dataset, labels, input, output,
     * reference (text as it is, other JSON compact), error, annotation, and each score as "key value passed"
     * (the parts that are set).
     */
    public String searchText() {
        StringBuilder b = new StringBuilder(256).append(function).append('\n');
        if (dataset != null) {
            b.append(dataset).append('\n');
        }
        if (labels != null && labels.isArray()) {
            labels.forEach(l -> b.append(l.asText()).append('\n'));
        }
        for (JsonNode n : new JsonNode[] {input, output, reference}) {
            if (n != null && !n.isNull()) {
                b.append(n.isTextual() ? n.asText() : n.toString()).append('\n');
            }
        }
        if (error != null) {
            b.append(error).append('\n');
        }
        if (annotation != null) {
            b.append(annotation).append('\n');
        }
        if (scores != null) {
            for (Score s : scores) {
                b.append(s.key());
                if (s.value() != null) {
                    b.append(' ').append(s.value());
                }
                if (s.passed() != null) {
                    b.append(' ').append(s.passed());
                }
                b.append('\n');
            }
        }
        return b.toString().toLowerCase(java.util.Locale.ROOT);
    }

    /** The labels as JSON text for the store's {@code labels} column: a list, empty when there are none. */
    public String labelsJson() {
        return labels != null && labels.isArray() ? labels.toString() : "[]";
    }
}
