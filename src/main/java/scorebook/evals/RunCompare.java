package scorebook.evals;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.jdbi.v3.core.Handle;

import com.fasterxml.jackson.core.JsonGenerator;
import scorebook.server.ApiException;

/**
 * {@code GET /api/compare}: up to four runs side by side, their cases matched by function and dataset, each case's
 * change against the first run (regression, improvement, other change, same), ordered regressions first, and one
 * page of them with each run's row. The matching reads a few columns of every row (function, dataset, error flag,
 * the output's JSON text, the search text) and the scores; only the page's rows are read whole, so comparing two
 * 10,000-result runs never sends a whole run.
 */
final class RunCompare {
    static final int MAX_RUNS = 4;
    static final int DEFAULT_LIMIT = 50;
    static final int MAX_LIMIT = 500;
    private static final Set<String> PARAMETERS = Set.of("run_id", "offset", "limit", "search", "only_changed");
    /** The order of the changes in the answer. */
    private static final List<String> CHANGES = List.of("regression", "improvement", "changed", "same");

    /** What a compare request asks: the runs (the first is the baseline), a page, a search, changed cases only. */
    record Query(List<String> runIds, int offset, int limit, String search, boolean onlyChanged) {
        static Query parse(Map<String, List<String>> params) {
            for (String name : params.keySet()) {
                if (!PARAMETERS.contains(name) && !name.startsWith("_")) {
                    throw ApiException.invalid("'" + name + "' is not a parameter of this endpoint (known: "
                            + String.join(", ", PARAMETERS.stream().sorted().toList()) + ")");
                }
            }
            List<String> ids = new ArrayList<>(new java.util.LinkedHashSet<>(RowQuery.all(params, "run_id")));
            if (ids.isEmpty() || ids.size() > MAX_RUNS) {
                throw ApiException.invalid("'run_id' must be given 1 to " + MAX_RUNS + " times (the first is the baseline), not "
                        + ids.size());
            }
            String search = RowQuery.single(params, "search");
            return new Query(List.copyOf(ids), RowQuery.number(params, "offset", 0, 0, Integer.MAX_VALUE),
                    RowQuery.number(params, "limit", DEFAULT_LIMIT, 0, MAX_LIMIT),
                    search == null || search.isEmpty() ? null : search.toLowerCase(Locale.ROOT),
                    RowQuery.flag(RowQuery.single(params, "only_changed"), "only_changed", false));
        }
    }

    /** One row of a run as the comparison needs it. */
    private record Side(int index, boolean error, String output, String searchText, Map<String, Double> lastScore,
                        List<Double> scoreNumbers, List<String> scoreKeys) {
    }

    /** A case: its key, where it is in each run (or null), its change per run and overall. */
    private static final class Case {
        final String key;
        final String function;
        final String dataset;
        final Side[] per;
        String[] changes;
        String change;
        String atRun;
        int atIndex;

        Case(String key, String function, String dataset, int runs) {
            this.key = key;
            this.function = function;
            this.dataset = dataset;
            this.per = new Side[runs];
        }
    }

    private RunCompare() {
    }

    /** Reads the runs' columns in the caller's transaction, matches and classifies the cases, and writes the answer. */
    static void write(JsonGenerator g, List<EvalStore.RunView> views, Query q, Handle h) throws IOException {
        Map<String, Case> byKey = new LinkedHashMap<>();
        for (int r = 0; r < views.size(); r++) {
            EvalStore.Run run = views.get(r).run();
            for (var row : load(h, run.pk())) {
                Case c = byKey.get(row.key);
                if (c == null) {
                    c = new Case(row.key, row.function, row.dataset, views.size());
                    c.atRun = run.runId();
                    c.atIndex = row.side.index();
                    byKey.put(row.key, c);
                }
                if (c.per[r] == null) {
                    c.per[r] = row.side;
                }
            }
        }
        Map<String, Integer> counts = new LinkedHashMap<>();
        CHANGES.forEach(k -> counts.put(k, 0));
        List<Case> cases = new ArrayList<>(byKey.values());
        for (Case c : cases) {
            classify(c);
            counts.merge(c.change, 1, Integer::sum);
        }
        cases.sort((a, b) -> {
            int byChange = Integer.compare(CHANGES.indexOf(a.change), CHANGES.indexOf(b.change));
            return byChange != 0 ? byChange : a.key.compareTo(b.key);
        });
        List<Case> selected = cases.stream()
                .filter(c -> !q.onlyChanged() || !c.change.equals("same"))
                .filter(c -> q.search() == null || matches(c, q.search()))
                .toList();
        List<Case> page = selected.subList(Math.min(q.offset(), selected.size()),
                (int) Math.min((long) q.offset() + q.limit(), selected.size()));
        List<Map<Integer, byte[]>> rows = new ArrayList<>();
        for (int r = 0; r < views.size(); r++) {
            List<Integer> indices = new ArrayList<>();
            for (Case c : page) {
                if (c.per[r] != null) {
                    indices.add(c.per[r].index());
                }
            }
            Map<Integer, byte[]> m = new HashMap<>();
            RowsSql.rows(h, views.get(r).run().pk(), indices).forEach(x -> m.put(x.index(), x.json()));
            rows.add(m);
        }
        g.writeStartObject();
        g.writeArrayFieldStart("runs");
        for (EvalStore.RunView v : views) {
            RunJson.summary(g, v);
        }
        g.writeEndArray();
        g.writeNumberField("total", cases.size());
        g.writeNumberField("filtered", selected.size());
        g.writeNumberField("offset", q.offset());
        g.writeNumberField("limit", q.limit());
        g.writeObjectFieldStart("counts");
        for (var e : counts.entrySet()) {
            g.writeNumberField(e.getKey(), e.getValue());
        }
        g.writeEndObject();
        g.writeArrayFieldStart("cases");
        for (Case c : page) {
            g.writeStartObject();
            g.writeStringField("key", c.key);
            g.writeStringField("function", c.function);
            g.writeStringField("dataset", c.dataset);
            g.writeStringField("change", c.change);
            g.writeArrayFieldStart("changes");
            for (String ch : c.changes) {
                g.writeString(ch);
            }
            g.writeEndArray();
            g.writeObjectFieldStart("at");
            g.writeStringField("run_id", c.atRun);
            g.writeNumberField("index", c.atIndex);
            g.writeEndObject();
            g.writeArrayFieldStart("rows");
            for (int r = 0; r < c.per.length; r++) {
                if (c.per[r] == null) {
                    g.writeNull();
                } else {
                    RunJson.writeWithIndex(g, c.per[r].index(), rows.get(r).get(c.per[r].index()));
                }
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    private static boolean matches(Case c, String search) {
        if (c.function.toLowerCase(Locale.ROOT).contains(search)
                || (c.dataset != null && c.dataset.toLowerCase(Locale.ROOT).contains(search))) {
            return true;
        }
        for (Side s : c.per) {
            if (s != null && s.searchText() != null && s.searchText().contains(search)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Each later run's change against the first: worse (an error that was not there, or a score of a key the first
     * run has that is lower) is a regression, better an improvement, else a different output is "changed". Scores
     * compare as numbers: passed 1, failed 0, else the value; the first run's last score of a key is its figure.
     */
    private static void classify(Case c) {
        Side base = c.per[0];
        c.changes = new String[c.per.length];
        for (int r = 1; r < c.per.length; r++) {
            Side s = c.per[r];
            if (s == null || base == null) {
                continue;
            }
            boolean worse = !base.error() && s.error();
            boolean better = base.error() && !s.error();
            for (int k = 0; k < s.scoreKeys().size(); k++) {
                Double a = base.lastScore().get(s.scoreKeys().get(k));
                Double b = s.scoreNumbers().get(k);
                if (a == null || b == null) {
                    continue;
                }
                worse |= b < a;
                better |= b > a;
            }
            c.changes[r] = worse ? "regression" : better ? "improvement"
                    : java.util.Objects.equals(base.output(), s.output()) ? null : "changed";
        }
        List<String> all = java.util.Arrays.asList(c.changes);
        c.change = all.contains("regression") ? "regression" : all.contains("improvement") ? "improvement"
                : all.contains("changed") ? "changed" : "same";
    }

    private record Keyed(String key, String function, String dataset, Side side) {
    }

    /** A run's rows in index order with their scores: two scans (the rows' columns, then the scores). */
    private static List<Keyed> load(Handle h, long runPk) {
        Map<Integer, List<Object[]>> scores = new HashMap<>();
        h.createQuery("SELECT idx, key, value, passed FROM eval_scores WHERE run_pk = :run ORDER BY idx, pos")
                .bind("run", runPk)
                .map((rs, ctx) -> {
                    Object passed = rs.getObject(4);
                    Object value = rs.getObject(3);
                    Double n = passed != null ? (((Number) passed).intValue() != 0 ? 1.0 : 0.0)
                            : value != null ? ((Number) value).doubleValue() : null;
                    return scores.computeIfAbsent(rs.getInt(1), i -> new ArrayList<>()).add(new Object[] {rs.getString(2), n});
                }).list();
        // the output as its JSON text (->): outputs are the same when their JSON is ("4" and 4 differ)
        return h.createQuery("""
                        SELECT idx, function, dataset, has_error, row_json -> '$.result.output', search_text
                        FROM eval_results WHERE run_pk = :run ORDER BY idx""")
                .bind("run", runPk)
                .map((rs, ctx) -> {
                    int idx = rs.getInt(1);
                    String function = rs.getString(2);
                    String dataset = rs.getString(3);
                    Map<String, Double> last = new HashMap<>();
                    List<String> keys = new ArrayList<>();
                    List<Double> numbers = new ArrayList<>();
                    for (Object[] s : scores.getOrDefault(idx, List.of())) {
                        keys.add((String) s[0]);
                        numbers.add((Double) s[1]);
                        last.put((String) s[0], (Double) s[1]);
                    }
                    Side side = new Side(idx, rs.getInt(4) != 0, rs.getString(5), rs.getString(6), last, numbers, keys);
                    return new Keyed(function + "::" + (dataset == null ? "" : dataset), function, dataset, side);
                }).list();
    }
}
