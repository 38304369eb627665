package scorebook.evals;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import scorebook.server.ApiException;
import scorebook.server.Json;
import scorebook.server.Names;

/**
 * Turns posted JSON (rows, scores, run documents) into validated {@link ResultRow}s and {@link Score}s, or
 * a 422 that names the field (as a path such as {@code results[3].result.scores[0].key}) and what is wrong.
 */
final class RowParser {
    static final int MAX_SCORES = 1000;
    private static final int MAX_FUNCTION = 1000;
    private static final Set<String> ROW_FIELDS = Set.of("function", "dataset", "labels", "result");
    private static final Set<String> RESULT_FIELDS = Set.of("input", "output", "reference", "scores", "error", "latency",
            "metadata", "trace_data", "status", "annotation", "annotations");
    private static final Set<String> SCORE_FIELDS = Set.of("key", "value", "passed", "notes");

    private static final Pattern RUN_ID = Pattern.compile("[0-9a-f]{8}");
    private static final Set<String> DOCUMENT_FIELDS = Set.of("session_name", "run_name", "run_id", "created_at",
            "total_evaluations", "total_functions", "total_errors", "total_passed", "total_with_scores", "average_latency",
            "selected_total", "results", "path", "dataset", "labels", "function_name");

    /** A run document to import: the run and its rows. */
    record Document(EvalStore.NewRun run, List<ResultRow> rows) {
    }

    private RowParser() {
    }

    /**
     * A run document as the JSON export writes it (and the original tool's run files look). Its totals
     * are accepted and ignored (they are computed); a missing session is "default", a missing run name
     * a friendly one, and a run id that is not 8 hex characters is replaced by a fresh one.
     */
    static Document document(JsonNode doc) {
        onlyFields(doc, "", DOCUMENT_FIELDS);
        JsonNode results = doc.get("results");
        if (results == null || !results.isArray()) {
            throw ApiException.invalid("'results' is required and must be a list of result rows");
        }
        List<ResultRow> rows = rows(results);
        String session = optionalText(doc.get("session_name"), "session_name");
        session = session == null || session.isBlank() ? "default" : Names.check("session_name", session);
        String name = optionalText(doc.get("run_name"), "run_name");
        name = name == null || name.isBlank() ? FriendlyNames.random() : Names.check("run_name", name);
        String runId = optionalText(doc.get("run_id"), "run_id");
        if (runId != null && !RUN_ID.matcher(runId).matches()) {
            runId = null;
        }
        JsonNode created = doc.get("created_at");
        if (created != null && !created.isNull() && !created.isNumber()) {
            throw ApiException.invalid("'created_at' must be epoch seconds or null");
        }
        JsonNode labels = doc.get("labels");
        return new Document(new EvalStore.NewRun(session, name, optionalText(doc.get("path"), "path"),
                optionalText(doc.get("dataset"), "dataset"), labels == null || labels.isNull() ? null : Json.text(labels),
                optionalText(doc.get("function_name"), "function_name"), runId,
                created == null || created.isNull() ? null : created.asLong()), rows);
    }

    /** The rows of a {@code results} list, each named {@code results[i]} in errors. */
    static List<ResultRow> rows(JsonNode results) {
        List<ResultRow> rows = new ArrayList<>(results.size());
        for (int i = 0; i < results.size(); i++) {
            rows.add(row(results.get(i), "results[" + i + "]"));
        }
        return rows;
    }

    /** A row {@code {"function", "dataset"?, "labels"?, "result": {...}}}; a missing status follows the error. */
    static ResultRow row(JsonNode node, String path) {
        object(node, path);
        onlyFields(node, path, ROW_FIELDS);
        String function = function(node.get("function"), path + ".function");
        String dataset = optionalText(node.get("dataset"), path + ".dataset");
        JsonNode labels = node.get("labels");
        if (labels != null && !labels.isNull()) {
            if (!labels.isArray()) {
                throw ApiException.invalid("'" + path + ".labels' must be a list of strings or null");
            }
            for (int i = 0; i < labels.size(); i++) {
                if (!labels.get(i).isTextual()) {
                    throw ApiException.invalid("'" + path + ".labels[" + i + "]' must be a string");
                }
            }
        }
        JsonNode result = node.get("result");
        String rp = path + ".result";
        if (result == null || result.isNull()) {
            throw ApiException.invalid("'" + rp + "' is required");
        }
        object(result, rp);
        onlyFields(result, rp, RESULT_FIELDS);
        String error = optionalText(result.get("error"), rp + ".error");
        Double latency = latency(result.get("latency"), rp + ".latency");
        List<Score> scores = scores(result.get("scores"), rp + ".scores");
        String status = status(result.get("status"), rp + ".status", error);
        return new ResultRow(function, dataset, json(labels), json(result.get("input")), json(result.get("output")),
                json(result.get("reference")), scores, error, latency, json(result.get("metadata")),
                json(result.get("trace_data")), status, optionalText(result.get("annotation"), rp + ".annotation"),
                json(result.get("annotations")));
    }

    /** A list of scores, or null (absent or JSON null). */
    static List<Score> scores(JsonNode node, String path) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isArray()) {
            throw ApiException.invalid("'" + path + "' must be a list of scores or null");
        }
        if (node.size() > MAX_SCORES) {
            throw ApiException.invalid("'" + path + "' holds " + node.size() + " scores; at most " + MAX_SCORES + " are allowed");
        }
        List<Score> out = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            out.add(score(node.get(i), path + "[" + i + "]"));
        }
        return out;
    }

    private static Score score(JsonNode node, String path) {
        object(node, path);
        onlyFields(node, path, SCORE_FIELDS);
        JsonNode key = node.get("key");
        if (key == null || key.isNull()) {
            throw ApiException.invalid("'" + path + ".key' is required");
        }
        if (!key.isTextual() || key.asText().isBlank()) {
            throw ApiException.invalid("'" + path + ".key' must be a non-empty string");
        }
        JsonNode value = node.get("value");
        if (value != null && !value.isNull() && !value.isNumber()) {
            throw ApiException.invalid("'" + path + ".value' must be a number or null");
        }
        if (value != null && value.isNumber() && !Double.isFinite(value.asDouble())) {
            throw ApiException.invalid("'" + path + ".value' must be a finite number");
        }
        JsonNode passed = node.get("passed");
        if (passed != null && !passed.isNull() && !passed.isBoolean()) {
            throw ApiException.invalid("'" + path + ".passed' must be true, false or null");
        }
        boolean hasValue = value != null && !value.isNull();
        boolean hasPassed = passed != null && !passed.isNull();
        if (!hasValue && !hasPassed) {
            throw ApiException.invalid("'" + path + "' needs at least one of 'value' and 'passed'");
        }
        return new Score(key.asText(), hasValue ? value.asDouble() : null, hasPassed ? passed.asBoolean() : null,
                optionalText(node.get("notes"), path + ".notes"));
    }

    static String optionalText(JsonNode node, String path) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isTextual()) {
            throw ApiException.invalid("'" + path + "' must be a string or null");
        }
        return node.asText();
    }

    /** Any JSON value; absent is the JSON null. */
    static JsonNode json(JsonNode node) {
        return node == null ? NullNode.getInstance() : node;
    }

    static void object(JsonNode node, String path) {
        if (node == null || !node.isObject()) {
            throw ApiException.invalid("'" + path + "' must be an object");
        }
    }

    static void onlyFields(JsonNode node, String path, Set<String> allowed) {
        Json.onlyFields(node, allowed, f -> "'" + (path.isEmpty() ? f : path + "." + f) + "' is not a known field (known: "
                + String.join(", ", allowed.stream().sorted().toList()) + ")");
    }

    private static String function(JsonNode node, String path) {
        if (node == null || node.isNull()) {
            throw ApiException.invalid("'" + path + "' is required");
        }
        if (!node.isTextual()) {
            throw ApiException.invalid("'" + path + "' must be a string");
        }
        String f = node.asText().strip();
        if (f.isEmpty() || f.length() > MAX_FUNCTION) {
            throw ApiException.invalid("'" + path + "' must be 1 to " + MAX_FUNCTION + " characters");
        }
        if (f.codePoints().anyMatch(Character::isISOControl)) {
            throw ApiException.invalid("'" + path + "' must not contain control characters");
        }
        return f;
    }

    private static Double latency(JsonNode node, String path) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isNumber() || !Double.isFinite(node.asDouble()) || node.asDouble() < 0) {
            throw ApiException.invalid("'" + path + "' must be a number of seconds (0 or more) or null");
        }
        return node.asDouble();
    }

    private static String status(JsonNode node, String path, String error) {
        if (node == null || node.isNull()) {
            return error != null && !error.isEmpty() ? "error" : "completed";
        }
        if (!node.isTextual() || !ResultRow.STATUSES.contains(node.asText())) {
            throw ApiException.invalid("'" + path + "' must be one of " + String.join(", ", ResultRow.STATUSES));
        }
        return node.asText();
    }
}
