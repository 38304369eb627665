package scorebook.evals;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import org.jdbi.v3.core.Handle;
import org.sqlite.Function;

/**
 * The SQL of the rows endpoint: a page of a run's rows, filtered and sorted on the columns derived from
 * each row (migration 007), with the count and score chips of the filtered rows. Filters and sort keys
 * only ever become SQL text from fixed pieces; every value the client gave is a bound parameter.
 */
final class RowsSql {
    /** The SQL function the regex search calls; registered on the reading connection for one query. */
    private static final String REGEXP = "scorebook_search_regexp";

    /**
     * The rows a query selects, in order, with their count, average latency and chips. {@code order} holds the
     * indices of every selected row in order, or is null when the query neither narrows nor sorts (then the
     * order is 0..total-1 and a page needs no list).
     */
    record Selection(int total, int filtered, double averageLatency, List<EvalStore.Chip> chips, int[] order,
                     EvalStore.Live run) {
        /** The indices of the page at {@code offset}, at most {@code limit} of them. */
        List<Integer> page(int offset, int limit) {
            int end = (int) Math.min((long) offset + limit, filtered);
            List<Integer> out = new ArrayList<>(Math.max(0, end - offset));
            for (int i = offset; i < end; i++) {
                out.add(order == null ? i : order[i]);
            }
            return out;
        }
    }

    /** A row with its index, as stored JSON. */
    record Indexed(int index, byte[] json) {
    }

    private RowsSql() {
    }

    static Selection select(Handle h, long runPk, int total, EvalStore.Live live, RowQuery q) {
        Where where = new Where(runPk, q);
        if (q.regex() != null) {
            register(h, q.regex());
        }
        if (!q.narrows()) {
            int[] order = q.sorts().isEmpty() ? null : order(h, where);
            return new Selection(total, total, live.totals().averageLatency(), live.chips(), order, live);
        }
        int[] order = order(h, where);
        if (order.length == 0) {
            return new Selection(total, 0, 0.0, List.of(), order, live);
        }
        // the filters run once (above); the figures of the selected rows are read by their indices, from the
        // covering index and the scores, rather than filtering the run twice more
        String selected = java.util.Arrays.toString(order);
        double latency = h.createQuery("""
                        SELECT coalesce(avg(CASE WHEN latency <> 0 THEN latency END), 0.0) FROM eval_results
                        WHERE run_pk = :run AND idx IN (SELECT value FROM json_each(:selected))""")
                .bind("run", runPk).bind("selected", selected).mapTo(double.class).one();
        // the rule of the eval_score_chips view (schema/002), over the scores of the selected rows only
        List<EvalStore.Chip> chips = h.createQuery("""
                        SELECT s.key,
                               CASE WHEN count(s.passed) > 0 THEN 'ratio' ELSE 'avg' END AS type,
                               coalesce(sum(s.passed), 0) AS passed, count(s.passed) AS total,
                               avg(s.value) AS avg, count(s.value) AS count
                        FROM eval_scores s
                        WHERE s.run_pk = :run AND s.idx IN (SELECT value FROM json_each(:selected))
                        GROUP BY s.key ORDER BY min(s.idx * 1048576 + s.pos)""")
                .bind("run", runPk).bind("selected", selected)
                .map((rs, ctx) -> new EvalStore.Chip(rs.getString(1), rs.getString(2), rs.getInt(3), rs.getInt(4),
                        rs.getObject(5) == null ? null : rs.getDouble(5), rs.getInt(6))).list();
        return new Selection(total, order.length, latency, chips, order, live);
    }

    /** The indices of every selected row, in order. */
    private static int[] order(Handle h, Where where) {
        return h.createQuery("SELECT r.idx FROM eval_results r WHERE " + where.sql + " ORDER BY " + where.order())
                .bindMap(where.binds).mapTo(int.class).stream().mapToInt(Integer::intValue).toArray();
    }

    /** The stored JSON of the rows at {@code indices}, in that order. */
    static List<Indexed> rows(Handle h, long runPk, List<Integer> indices) {
        if (indices.isEmpty()) {
            return List.of();
        }
        Map<Integer, byte[]> byIndex = new HashMap<>();
        // one SQL text whatever the number of indices (a list expanded into the text would be parsed again
        // for each length); the indices go in as a JSON array, each probed in the (run_pk, idx) index
        h.createQuery("SELECT idx, row_json FROM eval_results WHERE run_pk = :run AND idx IN (SELECT value FROM json_each(:indices))")
                .bind("run", runPk).bind("indices", indices.toString())
                .map((rs, ctx) -> byIndex.put(rs.getInt(1), rs.getBytes(2))).list();
        List<Indexed> out = new ArrayList<>(indices.size());
        indices.forEach(i -> out.add(new Indexed(i, byIndex.get(i))));
        return out;
    }

    /** The regex search as a one-argument SQL function over {@code search_text} (SQLite has no REGEXP of its own). */
    private static void register(Handle h, Pattern pattern) {
        try {
            Function.create(h.getConnection(), REGEXP, new Function() {
                @Override
                protected void xFunc() throws SQLException {
                    String text = value_text(0);
                    result(text != null && pattern.matcher(text).find() ? 1 : 0);
                }
            }, 1, Function.FLAG_DETERMINISTIC);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot register the search function: " + e.getMessage(), e);
        }
    }

    /** The WHERE clause (on {@code eval_results r}) and ORDER BY of a query, with its named parameters. */
    private static final class Where {
        final StringBuilder sql = new StringBuilder("r.run_pk = :run");
        final Map<String, Object> binds = new LinkedHashMap<>();
        private final RowQuery q;

        Where(long runPk, RowQuery q) {
            this.q = q;
            binds.put("run", runPk);
            if (q.search() != null) {
                and("instr(r.search_text, " + param(q.search()) + ") > 0");
            }
            if (q.regex() != null) {
                and(REGEXP + "(r.search_text)");
            }
            flag("has_annotation", q.annotation());
            flag("has_error", q.hasError());
            flag("has_url", q.hasUrl());
            flag("has_messages", q.hasMessages());
            if (!q.statuses().isEmpty()) {
                and("r.status IN (" + params(q.statuses()) + ")");
            }
            if (!q.datasetIn().isEmpty()) {
                and("r.dataset IN (" + params(q.datasetIn()) + ")");
            }
            if (!q.datasetOut().isEmpty()) {
                and("(r.dataset IS NULL OR r.dataset NOT IN (" + params(q.datasetOut()) + "))");
            }
            if (!q.labelIn().isEmpty()) {
                and("EXISTS (SELECT 1 FROM json_each(r.labels) l WHERE l.value IN (" + params(q.labelIn()) + "))");
            }
            if (!q.labelOut().isEmpty()) {
                and("NOT EXISTS (SELECT 1 FROM json_each(r.labels) l WHERE l.value IN (" + params(q.labelOut()) + "))");
            }
            for (RowQuery.ScoreRule rule : q.scoreRules()) {
                String test = rule.op() == null ? "s.passed = " + param(rule.passed() ? 1 : 0)
                        : "s.value " + rule.op() + " " + param(rule.value());
                and("EXISTS (SELECT 1 FROM eval_scores s WHERE s.run_pk = r.run_pk AND s.key = " + param(rule.key())
                        + " AND s.idx = r.idx AND " + test + ")");
            }
        }

        /** ORDER BY: the sort keys (empty values last in both directions), then the index. */
        String order() {
            StringBuilder o = new StringBuilder();
            for (RowQuery.Sort s : q.sorts()) {
                String dir = s.descending() ? " DESC" : "";
                String expr = switch (s.column()) {
                    case "index" -> "r.idx";
                    case "function" -> "r.function";
                    case "dataset" -> "r.dataset";
                    case "status" -> "r.status";
                    case "latency" -> "r.latency";
                    // the key's first score: its value, else 1 or 0 for passed or failed
                    default -> "(SELECT coalesce(s.value, s.passed) FROM eval_scores s WHERE s.run_pk = r.run_pk AND s.key = "
                            + param(s.scoreKey()) + " AND s.idx = r.idx ORDER BY s.pos LIMIT 1)";
                };
                o.append(expr.equals("r.idx") || expr.equals("r.function") || expr.equals("r.status") ? ""
                        : "(" + expr + ") IS NULL, ").append(expr).append(dir).append(", ");
            }
            return o.append("r.idx").toString();
        }

        private void flag(String column, Boolean want) {
            if (want != null) {
                and("r." + column + " = " + (want ? 1 : 0));
            }
        }

        private void and(String condition) {
            sql.append(" AND ").append(condition);
        }

        private String param(Object value) {
            String name = "p" + binds.size();
            binds.put(name, value);
            return ":" + name;
        }

        private String params(List<String> values) {
            List<String> names = new ArrayList<>(values.size());
            values.forEach(v -> names.add(param(v)));
            return String.join(", ", names);
        }
    }
}
