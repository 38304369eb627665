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
}
