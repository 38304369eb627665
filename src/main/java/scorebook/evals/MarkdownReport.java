package scorebook.evals;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.ApiException;

/**
 * The Markdown report of a run's visible rows (summary, score bars, results table), or of up to a few
 * compared runs, laid out as the original tool writes it.
 */
final class MarkdownReport {
    private static final List<String> DEFAULT_COLUMNS = List.of("function", "dataset", "input", "output", "reference",
            "scores", "error", "latency");
    private static final Map<String, String> TITLES = Map.of("function", "Eval", "eval", "Eval", "dataset", "Dataset",
            "input", "Input", "output", "Output", "reference", "Reference", "scores", "Scores", "error", "Error",
            "latency", "Latency");

    /** The file to download. */
    record Report(String fileName, String text) {
    }

    /** A score chip as the client sends it (its filtered view), or as the run's view computes it. */
    record Chip(String key, boolean ratio, int passed, int total, double avg) {
    }

    /** The client's stats of the visible rows. */
    record Stats(int total, int filtered, double avgLatency, List<Chip> chips) {
    }

    /** One run of a comparison: its name, chips, latency and (already filtered) rows. */
    record Compared(String runName, List<Chip> chips, double avgLatency, List<JsonNode> results) {
    }

    /**
     * The request body. {@code visibleIndices} null means every row; {@code stats} null means the run's
     * own totals and chips; {@code runName}/{@code sessionName} null mean the run's own.
     */
    record Request(List<Integer> visibleIndices, List<String> visibleColumns, Stats stats, String runName,
                   boolean hasSession, String sessionName, List<Compared> comparisonRuns) {

        boolean comparison() {
            return comparisonRuns != null && !comparisonRuns.isEmpty();
        }

        static Request parse(JsonNode body) {
            RowParser.onlyFields(body, "", java.util.Set.of("visible_indices", "visible_columns", "stats", "run_name",
                    "session_name", "comparison_mode", "comparison_runs"));
            List<Integer> indices = null;
            JsonNode vi = body.get("visible_indices");
            if (vi != null && !vi.isNull()) {
                if (!vi.isArray()) {
                    throw ApiException.invalid("'visible_indices' must be a list of whole numbers");
                }
                indices = new ArrayList<>(vi.size());
                for (int i = 0; i < vi.size(); i++) {
                    if (!vi.get(i).canConvertToInt() || !vi.get(i).isIntegralNumber()) {
                        throw ApiException.invalid("'visible_indices[" + i + "]' must be a whole number");
                    }
                    indices.add(vi.get(i).asInt());
                }
            }
            List<String> columns = strings(body.get("visible_columns"), "visible_columns");
            JsonNode st = body.get("stats");
            Stats stats = null;
            if (st != null && !st.isNull()) {
                RowParser.object(st, "stats");
                stats = new Stats(integer(st.get("total"), "stats.total"), integer(st.get("filtered"), "stats.filtered"),
                        number(st.get("avgLatency"), "stats.avgLatency"), chips(st.get("chips"), "stats.chips"));
            }
            String runName = RowParser.optionalText(body.get("run_name"), "run_name");
            String session = RowParser.optionalText(body.get("session_name"), "session_name");
            JsonNode mode = body.get("comparison_mode");
            if (mode != null && !mode.isNull() && !mode.isBoolean()) {
                throw ApiException.invalid("'comparison_mode' must be true or false");
            }
            List<Compared> compared = null;
            JsonNode cr = body.get("comparison_runs");
            if (mode != null && mode.asBoolean() && cr != null && !cr.isNull()) {
                if (!cr.isArray()) {
                    throw ApiException.invalid("'comparison_runs' must be a list of runs");
                }
                compared = new ArrayList<>();
                for (int i = 0; i < cr.size(); i++) {
                    String p = "comparison_runs[" + i + "]";
                    JsonNode c = cr.get(i);
                    RowParser.object(c, p);
                    JsonNode results = c.get("results");
                    if (results != null && !results.isNull() && !results.isArray()) {
                        throw ApiException.invalid("'" + p + ".results' must be a list of result rows");
                    }
                    List<JsonNode> rows = new ArrayList<>();
                    if (results != null) {
                        results.forEach(rows::add);
                    }
                    String name = RowParser.optionalText(c.get("run_name"), p + ".run_name");
                    if (name == null) {
                        name = RowParser.optionalText(c.get("run_id"), p + ".run_id");
                    }
                    compared.add(new Compared(name == null ? "run " + (i + 1) : name, chips(c.get("chips"), p + ".chips"),
                            number(c.get("avg_latency"), p + ".avg_latency"), rows));
                }
            }
            return new Request(indices, columns, stats, runName, body.has("session_name"), session, compared);
        }
    }

    private MarkdownReport() {
    }

    /** The report of one run: the rows at the visible indices, in the given order. */
    static Report single(Request req, EvalStore.RunView view) {
        int n = view.size();
        List<Integer> wanted = new ArrayList<>();
        if (req.visibleIndices() == null) {
            for (int i = 0; i < n; i++) {
                wanted.add(i);
            }
        } else {
            for (int i : req.visibleIndices()) {
                int idx = i < 0 ? i + n : i;
                if (idx >= 0 && idx < n) {
                    wanted.add(idx);
                }
            }
        }
        Map<Integer, ResultRow> byIndex = new HashMap<>();
        java.util.Set<Integer> set = new java.util.HashSet<>(wanted);
        view.forEachRaw((i, json) -> {
            if (set.contains(i)) {
                byIndex.put(i, RunJson.read(json));  // only the visible rows are parsed
            }
        });
        List<ResultRow> rows = wanted.stream().map(byIndex::get).toList();
        Stats stats = req.stats();
        if (stats == null) {
            EvalStore.Totals t = view.totals();
            List<Chip> chips = view.chips().stream()
                    .map(c -> new Chip(c.key(), c.type().equals("ratio"), c.passed(), c.total(), c.avg() == null ? 0 : c.avg()))
                    .toList();
            stats = new Stats(n, rows.size(), t.averageLatency(), chips);
        }
        String session = req.hasSession() ? req.sessionName() : view.run().sessionName();
        List<String> out = new ArrayList<>();
        out.add("# " + (req.runName() != null ? req.runName() : view.run().runName()));
        if (session != null && !session.isEmpty()) {
            out.add("**Session:** " + session);
        }
        out.add("");
        long errors = rows.stream().filter(ResultRow::hasError).count();
        String summary = "**" + stats.filtered() + "/" + stats.total() + "** tests";
        if (errors > 0) {
            summary += " · **" + errors + "** errors";
        }
        if (stats.avgLatency() > 0) {
            summary += " · **" + fixed2(stats.avgLatency()) + "s** avg latency";
        }
        out.add(summary);
        out.add("");
        if (!stats.chips().isEmpty()) {
            out.add("## Scores");
            out.add("");
            out.add("| Metric | Progress | Score |");
            out.add("|--------|----------|-------|");
            for (Chip c : stats.chips()) {
                int pct = pct(c);
                int filled = Math.max(0, Math.min(20, Math.floorDiv(pct * 20, 100)));
                String bar = "█".repeat(filled) + "░".repeat(20 - filled);
                out.add("| **" + c.key() + "** | " + bar + " " + dot(pct) + " | " + score(c, pct) + " |");
            }
            out.add("");
        }
        out.add("## Results");
        if (rows.isEmpty()) {
            out.add("*No results*");
            return new Report(view.run().runId() + ".md", String.join("\n", out));
        }
        List<String> columns = req.visibleColumns() == null || req.visibleColumns().isEmpty()
                ? DEFAULT_COLUMNS : req.visibleColumns();
        out.add("| " + String.join(" | ", columns.stream().map(MarkdownReport::title).toList()) + " |");
        out.add("|" + "---|".repeat(columns.size()));
        for (ResultRow r : rows) {
            List<String> cells = columns.stream().map(c -> escape(cell(c, r))).toList();
            out.add("| " + String.join(" | ", cells) + " |");
        }
        return new Report(view.run().runId() + ".md", String.join("\n", out));
    }

    /** The comparison report: per score key one table of the runs, then latency, then the rows side by side. */
    static Report comparison(Request req) {
        List<Compared> runs = req.comparisonRuns();
        List<String> out = new ArrayList<>();
        out.add("# Comparison: " + String.join(" vs ", runs.stream().map(Compared::runName).toList()));
        if (req.sessionName() != null && !req.sessionName().isEmpty()) {
            out.add("**Session:** " + req.sessionName());
        }
        out.add("");
        out.add("## Scores");
        out.add("");
        TreeSet<String> keys = new TreeSet<>();
        runs.forEach(r -> r.chips().forEach(c -> keys.add(c.key())));
        for (String key : keys) {
            out.add("### " + key);
            out.add("");
            out.add("| Run | Progress | Score |");
            out.add("|-----|----------|-------|");
            for (Compared r : runs) {
                Chip c = r.chips().stream().filter(x -> x.key().equals(key)).findFirst().orElse(null);
                if (c == null) {
                    out.add("| " + escape(r.runName()) + " | — | — |");
                } else {
                    int pct = pct(c);
                    out.add("| " + escape(r.runName()) + " | " + progress(pct) + " | " + score(c, pct) + " |");
                }
            }
            out.add("");
        }
        double maxLatency = runs.stream().mapToDouble(Compared::avgLatency).max().orElse(0);
        if (maxLatency > 0) {
            out.add("### latency");
            out.add("");
            out.add("| Run | Progress | Value |");
            out.add("|-----|----------|-------|");
            for (Compared r : runs) {
                int pct = (int) (r.avgLatency() / maxLatency * 100);
                out.add("| " + escape(r.runName()) + " | " + progress(pct) + " | " + fixed2(r.avgLatency()) + "s |");
            }
            out.add("");
        }
        out.add("## Results");
        out.add("");
        out.add("| Eval | Input | " + String.join(" | ", runs.stream().map(r -> escape(r.runName())).toList()) + " |");
        out.add("|" + "---|".repeat(2 + runs.size()));
        TreeMap<String, JsonNode[]> byKey = new TreeMap<>();
        for (int i = 0; i < runs.size(); i++) {
            for (JsonNode row : runs.get(i).results()) {
                String key = row.path("function").asText() + "::" + row.path("dataset").asText("");
                byKey.computeIfAbsent(key, k -> new JsonNode[runs.size()])[i] = row;
            }
        }
        for (Map.Entry<String, JsonNode[]> e : byKey.entrySet()) {
            JsonNode first = null;
            for (JsonNode row : e.getValue()) {
                if (row != null && first == null) {
                    first = row;
                }
            }
            List<String> cells = new ArrayList<>();
            cells.add(escape(first.path("function").asText()));
            JsonNode input = first.path("result").path("input");
            cells.add(escape(PyJson.dumps(input)));
            for (JsonNode row : e.getValue()) {
                cells.add(escape(row == null ? "—" : comparedCell(row.path("result"))));
            }
            out.add("| " + String.join(" | ", cells) + " |");
        }
        return new Report("comparison.md", String.join("\n", out));
    }

    private static String comparedCell(JsonNode result) {
        JsonNode output = result.path("output");
        String cell = PyJson.dumps(output);
        List<String> marks = new ArrayList<>();
        for (JsonNode s : result.path("scores")) {
            if (s.path("passed").isBoolean()) {
                marks.add((s.path("passed").asBoolean() ? "✅ " : "❌ ") + s.path("key").asText());
            }
        }
        return marks.isEmpty() ? cell : cell + "<br>" + String.join(" ", marks);
    }

    private static String cell(String column, ResultRow r) {
        return switch (column) {
            case "function", "eval" -> r.function();
            case "dataset" -> r.dataset() == null ? "" : r.dataset();
            case "input" -> PyJson.dumps(r.input());
            case "output" -> PyJson.dumps(r.output());
            case "reference" -> PyJson.dumps(r.reference());
            case "scores" -> scores(r.scores());
            case "error" -> r.error() == null ? "" : r.error();
            case "latency" -> r.latency() == null || r.latency() == 0 ? "" : fixed2(r.latency()) + "s";
            default -> "";
        };
    }

    private static String scores(List<Score> scores) {
        if (scores == null) {
            return "";
        }
        List<String> parts = new ArrayList<>();
        for (Score s : scores) {
            if (s.passed() != null) {
                parts.add((s.passed() ? "✅ " : "❌ ") + s.key());
            } else if (s.value() != null) {
                parts.add(s.key() + ":" + PyJson.repr(s.value()));
            }
        }
        return String.join(" ", parts);
    }

    /** The Markdown percentage: ratio → round(p/t*100) half to even; avg → min(100, round(avg*100)). */
    static int pct(Chip c) {
        if (c.ratio()) {
            return c.total() == 0 ? 0 : (int) Math.rint((double) c.passed() / c.total() * 100);
        }
        return (int) Math.min(100, Math.rint(c.avg() * 100));
    }

    /** {@code 50% (1/2)} or {@code 55% (avg: 0.55)}. */
    private static String score(Chip c, int pct) {
        return c.ratio() ? pct + "% (" + c.passed() + "/" + c.total() + ")" : pct + "% (avg: " + fixed2(c.avg()) + ")";
    }

    private static String progress(int pct) {
        return "![](https://geps.dev/progress/" + pct + ")";
    }

    private static String dot(int pct) {
        return pct >= 80 ? "🟢" : pct >= 50 ? "🟡" : "🔴";
    }

    /** Python's {@code f"{x:.2f}"}: the exact binary value rounded half to even. */
    static String fixed2(double x) {
        return new BigDecimal(x).setScale(2, RoundingMode.HALF_EVEN).toPlainString();
    }

    private static String title(String column) {
        String t = TITLES.get(column);
        if (t != null) {
            return t;
        }
        StringBuilder b = new StringBuilder(column.length());
        boolean start = true;
        for (char ch : column.toCharArray()) {
            b.append(start ? Character.toUpperCase(ch) : Character.toLowerCase(ch));
            start = !Character.isLetter(ch);
        }
        return escape(b.toString());
    }

    private static String escape(String cell) {
        return cell.replace("|", "\\|").replace("\n", " ");
    }

    private static List<String> strings(JsonNode node, String path) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isArray()) {
            throw ApiException.invalid("'" + path + "' must be a list of strings");
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            if (!node.get(i).isTextual()) {
                throw ApiException.invalid("'" + path + "[" + i + "]' must be a string");
            }
            out.add(node.get(i).asText());
        }
        return out;
    }

    private static List<Chip> chips(JsonNode node, String path) {
        List<Chip> out = new ArrayList<>();
        if (node == null || node.isNull()) {
            return out;
        }
        if (!node.isArray()) {
            throw ApiException.invalid("'" + path + "' must be a list of score chips");
        }
        for (int i = 0; i < node.size(); i++) {
            JsonNode c = node.get(i);
            String p = path + "[" + i + "]";
            RowParser.object(c, p);
            String key = RowParser.optionalText(c.get("key"), p + ".key");
            String type = RowParser.optionalText(c.get("type"), p + ".type");
            if (key == null || !("ratio".equals(type) || "avg".equals(type))) {
                throw ApiException.invalid("'" + p + "' needs a 'key' and a 'type' of ratio or avg");
            }
            out.add("ratio".equals(type)
                    ? new Chip(key, true, integer(c.get("passed"), p + ".passed"), integer(c.get("total"), p + ".total"), 0)
                    : new Chip(key, false, 0, 0, number(c.get("avg"), p + ".avg")));
        }
        return out;
    }

    private static int integer(JsonNode node, String path) {
        if (node == null || node.isNull()) {
            return 0;
        }
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
            throw ApiException.invalid("'" + path + "' must be a whole number");
        }
        return node.asInt();
    }

    private static double number(JsonNode node, String path) {
        if (node == null || node.isNull()) {
            return 0;
        }
        if (!node.isNumber()) {
            throw ApiException.invalid("'" + path + "' must be a number");
        }
        return node.asDouble();
    }
}
