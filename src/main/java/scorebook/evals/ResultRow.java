package scorebook.evals;

import java.util.List;

/**
 * One result row of a run as stored: the eval that made it and its result object. Fields that hold
 * any JSON value ({@code labels}, {@code input}, ..., {@code annotations}) are compact JSON text, never
 * Java null ("null" is the JSON null).
 *
 * @param scores null when the result's scores are null, else the list (possibly empty)
 */
public record ResultRow(String function, String dataset, String labels, String input, String output, String reference,
                        List<Score> scores, String error, Double latency, String metadata, String traceData,
                        String status, String annotation, String annotations) {

    /** Statuses a row can have; a runner moves rows through them. */
    public static final List<String> STATUSES = List.of("not_started", "pending", "running", "completed", "error", "cancelled");

    /** Whether the error is "truthy" (set and non-empty), which is what counts as an errored row. */
    public boolean hasError() {
        return error != null && !error.isEmpty();
    }
}
