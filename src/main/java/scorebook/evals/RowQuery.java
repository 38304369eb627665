package scorebook.evals;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

import scorebook.server.ApiException;

/**
 * The query of {@code GET /api/runs/{id}/rows}: a page, a search, the original UI's filters and sort keys,
 * parsed from the URL's parameters; anything that does not parse is a 422 naming the parameter.
 *
 * @param search      lower-cased text to find, or null
 * @param regex       the search as a regular expression ({@code search=/re/} or {@code regex=1}), or null
 * @param annotation  rows with (true) or without (false) a note, or null for any; likewise the has* flags
 * @param statuses    rows in one of these statuses (empty: any)
 * @param sorts       sort keys in order; ties always fall back to the index
 */
record RowQuery(int offset, int limit, String search, Pattern regex, Boolean annotation, Boolean hasError, Boolean hasUrl,
                Boolean hasMessages, List<ScoreRule> scoreRules, List<String> datasetIn, List<String> datasetOut,
                List<String> labelIn, List<String> labelOut, List<String> statuses, List<Sort> sorts) {

    static final int DEFAULT_LIMIT = 50;
    static final int MAX_LIMIT = 1000;
    static final Set<String> PARAMETERS = Set.of("offset", "limit", "search", "regex", "annotation", "has_error", "has_url",
            "has_messages", "score_value", "score_passed", "dataset_in", "dataset_out", "label_in", "label_out", "status",
            "sort");
    /** The comparison of {@code score_value=key,op,value}, URL word to SQL operator. */
    private static final Map<String, String> OPS = Map.of("gt", ">", "gte", ">=", "lt", "<", "lte", "<=", "eq", "=", "neq", "<>");
    private static final Set<String> COLUMNS = Set.of("index", "function", "dataset", "status", "latency");

    /**
     * A score rule: the row has a score of {@code key} whose value compares ({@code op} is SQL) with
     * {@code value}, or, when {@code op} is null, whose passed is {@code passed}. A row without the key fails.
     */
    record ScoreRule(String key, String op, double value, boolean passed) {
    }

    /** A sort key: a column ({@code index, function, dataset, status, latency}) or a score key ({@code score:KEY}). */
    record Sort(String column, String scoreKey, boolean descending) {
    }

    /** Whether any filter or search narrows the rows (else {@code filtered == total} and chips are the run's). */
    boolean narrows() {
        return search != null || regex != null || annotation != null || hasError != null || hasUrl != null
                || hasMessages != null || !scoreRules.isEmpty() || !datasetIn.isEmpty() || !datasetOut.isEmpty()
                || !labelIn.isEmpty() || !labelOut.isEmpty() || !statuses.isEmpty();
    }

    /** What decides the selection (everything but offset and limit), as a cache key. */
    String selectionKey() {
        return String.join("\u0000", String.valueOf(search), regex == null ? "" : regex.pattern(), String.valueOf(annotation),
                String.valueOf(hasError), String.valueOf(hasUrl), String.valueOf(hasMessages), scoreRules.toString(),
                datasetIn.toString(), datasetOut.toString(), labelIn.toString(), labelOut.toString(), statuses.toString(),
                sorts.toString());
    }

    /** Parses the parameters (each name with its values in order); unknown names are a 422 too. */
    static RowQuery parse(Map<String, List<String>> params) {
        for (String name : params.keySet()) {
            if (!PARAMETERS.contains(name) && !name.startsWith("_")) {
                throw ApiException.invalid("'" + name + "' is not a parameter of this endpoint (known: "
                        + String.join(", ", PARAMETERS.stream().sorted().toList()) + ")");
            }
        }
        String search = single(params, "search");
        boolean regexFlag = flag(single(params, "regex"), "regex", false);
        Pattern regex = null;
        if (search != null && search.isEmpty()) {
            search = null;
        }
        if (search != null) {
            boolean slashed = search.length() >= 2 && search.startsWith("/") && search.endsWith("/");
            if (regexFlag || slashed) {
                String source = slashed && !regexFlag ? search.substring(1, search.length() - 1) : search;
                try {
                    regex = Pattern.compile(source, Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
                } catch (PatternSyntaxException e) {
                    throw ApiException.invalid("'search' is not a valid regular expression: " + e.getDescription()
                            + " near index " + e.getIndex());
                }
                search = null;
            } else {
                search = search.toLowerCase(Locale.ROOT);
            }
        }
        List<ScoreRule> rules = new ArrayList<>();
        for (String v : all(params, "score_value")) {
            rules.add(scoreValue(v));
        }
        for (String v : all(params, "score_passed")) {
            rules.add(scorePassed(v));
        }
        List<String> statuses = all(params, "status");
        for (String s : statuses) {
            if (!ResultRow.STATUSES.contains(s)) {
                throw ApiException.invalid("'status' must be one of " + String.join(", ", ResultRow.STATUSES) + ", not '" + s + "'");
            }
        }
        List<Sort> sorts = new ArrayList<>();
        for (String s : all(params, "sort")) {
            sorts.add(sort(s));
        }
        return new RowQuery(number(params, "offset", 0, 0, Integer.MAX_VALUE),
                number(params, "limit", DEFAULT_LIMIT, 0, MAX_LIMIT), search, regex, annotation(single(params, "annotation")),
                bool01(params, "has_error"), bool01(params, "has_url"), bool01(params, "has_messages"), List.copyOf(rules),
                all(params, "dataset_in"), all(params, "dataset_out"), all(params, "label_in"), all(params, "label_out"),
                statuses, List.copyOf(sorts));
    }

    /** {@code key,op,value}: split at the last two commas, so that a key may hold commas. */
    private static ScoreRule scoreValue(String v) {
        int second = v.lastIndexOf(',');
        int first = second <= 0 ? -1 : v.lastIndexOf(',', second - 1);
        if (first <= 0) {
            throw ApiException.invalid("'score_value' must be key,op,value (op one of gt, gte, lt, lte, eq, neq), not '" + v + "'");
        }
        String op = OPS.get(v.substring(first + 1, second));
        if (op == null) {
            throw ApiException.invalid("'score_value' op must be one of gt, gte, lt, lte, eq, neq, not '"
                    + v.substring(first + 1, second) + "'");
        }
        double value;
        try {
            value = Double.parseDouble(v.substring(second + 1).strip());
        } catch (NumberFormatException e) {
            throw ApiException.invalid("'score_value' value must be a number, not '" + v.substring(second + 1) + "'");
        }
        if (!Double.isFinite(value)) {
            throw ApiException.invalid("'score_value' value must be a finite number");
        }
        return new ScoreRule(v.substring(0, first), op, value, false);
    }

    /** {@code key,true|false}. */
    private static ScoreRule scorePassed(String v) {
        int comma = v.lastIndexOf(',');
        String word = comma <= 0 ? "" : v.substring(comma + 1);
        if (!word.equals("true") && !word.equals("false")) {
            throw ApiException.invalid("'score_passed' must be key,true or key,false, not '" + v + "'");
        }
        return new ScoreRule(v.substring(0, comma), null, 0, word.equals("true"));
    }

    private static Sort sort(String s) {
        boolean desc = s.startsWith("-");
        String column = desc ? s.substring(1) : s;
        if (column.startsWith("score:") && column.length() > "score:".length()) {
            return new Sort("score", column.substring("score:".length()), desc);
        }
        if (!COLUMNS.contains(column)) {
            throw ApiException.invalid("'sort' must be a column (index, function, dataset, status, latency) or score:KEY, "
                    + "with - before it for descending, not '" + s + "'");
        }
        return new Sort(column, null, desc);
    }

    private static Boolean annotation(String v) {
        if (v == null || v.equals("any")) {
            return null;
        }
        return switch (v) {
            case "yes" -> true;
            case "no" -> false;
            default -> throw ApiException.invalid("'annotation' must be yes, no or any, not '" + v + "'");
        };
    }

    private static Boolean bool01(Map<String, List<String>> params, String name) {
        String v = single(params, name);
        if (v == null) {
            return null;
        }
        return switch (v) {
            case "1" -> true;
            case "0" -> false;
            default -> throw ApiException.invalid("'" + name + "' must be 1 or 0, not '" + v + "'");
        };
    }

    static boolean flag(String v, String name, boolean absent) {
        if (v == null) {
            return absent;
        }
        return switch (v) {
            case "1", "true" -> true;
            case "0", "false" -> false;
            default -> throw ApiException.invalid("'" + name + "' must be 1 or 0, not '" + v + "'");
        };
    }

    static int number(Map<String, List<String>> params, String name, int absent, int min, int max) {
        String v = single(params, name);
        if (v == null) {
            return absent;
        }
        try {
            int n = Integer.parseInt(v);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // the message below
        }
        throw ApiException.invalid("'" + name + "' must be a whole number from " + min + " to " + max + ", not '" + v + "'");
    }

    /** A parameter that may be given once. */
    static String single(Map<String, List<String>> params, String name) {
        List<String> v = params.get(name);
        if (v == null || v.isEmpty()) {
            return null;
        }
        if (v.size() > 1) {
            throw ApiException.invalid("'" + name + "' may be given only once");
        }
        return v.getFirst();
    }

    static List<String> all(Map<String, List<String>> params, String name) {
        return List.copyOf(params.getOrDefault(name, List.of()));
    }
}
