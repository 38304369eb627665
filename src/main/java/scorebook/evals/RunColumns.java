package scorebook.evals;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import org.jdbi.v3.core.Handle;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;

/**
 * The columns of one run that the rows endpoint filters and sorts on (migration 007's derived columns and
 * the scores), read once into arrays so that a new filter, sort or search over a 10,000-row run is a pass over
 * memory instead of a scan of the table with a score lookup per row and rule (the profile of a new filter
 * put 35 % of its time in that scan, 27 % in the chips and latency of the selection and 38 % in the run's
 * totals). Kept by {@link RowsCache} while the database has not been written; the search text, the largest
 * column (about 1 KB a row), is read only when a search first needs it.
 *
 * <p>The rules are those the SQL had (docs/rows-api.md): strings compare by their UTF-8 bytes, rows without a
 * sort value come last in both directions, ties fall back to the index, a score rule holds when any score of
 * its key satisfies it.
 */
final class RunColumns {
    private static final String[] NO_LABELS = {};
    /** A sort key for a row without a value: after every value, in both directions. */
    private static final long MISSING = Long.MAX_VALUE;

    /** A run's scores of one key, in index then position order. */
    private static final class KeyScores {
        final String key;
        /** where the key first appears: {@code idx * 2^20 + pos} of its first score */
        final long firstSeen;
        int n;
        int[] idx = new int[16];
        int[] pos = new int[16];
        double[] value = new double[16];   // NaN: none
        byte[] passed = new byte[16];      // -1: none, else 0 or 1

        KeyScores(String key, long firstSeen) {
            this.key = key;
            this.firstSeen = firstSeen;
        }

        void add(int i, int position, double v, byte p) {
            if (n == idx.length) {
                idx = Arrays.copyOf(idx, n * 2);
                pos = Arrays.copyOf(pos, n * 2);
                value = Arrays.copyOf(value, n * 2);
                passed = Arrays.copyOf(passed, n * 2);
            }
            idx[n] = i;
            pos[n] = position;
            value[n] = v;
            passed[n] = p;
            n++;
        }
    }

    private final long runPk;
    private final int size;
    private final String[] function;
    private final String[] status;
    private final String[] dataset;
    private final String[][] labels;
    private final boolean[] hasError;
    private final boolean[] hasAnnotation;
    private final boolean[] hasUrl;
    private final boolean[] hasMessages;
    private final double[] latency;     // NaN: null
    /** Keys in order of first appearance (the chips' order). */
    private final List<KeyScores> keys;
    private final Map<String, KeyScores> byKey;
    private final EvalStore.Live live;
    private volatile String[] searchText;
    private List<String> datasetValues;
    private List<String> labelValues;
    /** Each row's place among the column's values in byte order, made at the first sort by the column. */
    private volatile int[] functionRank;
    private volatile int[] statusRank;
    private volatile int[] datasetRank;

    private RunColumns(long runPk, int size, EvalStore.Live live, List<KeyScores> keys) {
        this.runPk = runPk;
        this.size = size;
        this.live = live;
        this.function = new String[size];
        this.status = new String[size];
        this.dataset = new String[size];
        this.labels = new String[size][];
        this.hasError = new boolean[size];
        this.hasAnnotation = new boolean[size];
        this.hasUrl = new boolean[size];
        this.hasMessages = new boolean[size];
        this.latency = new double[size];
        this.keys = keys;
        this.byKey = new HashMap<>();
        keys.forEach(k -> byKey.put(k.key, k));
    }

    /** Reads a run's columns, scores and live figures inside the caller's read transaction. */
    static RunColumns load(Handle h, long runPk, int size, EvalStore.Live live) {
        Map<String, KeyScores> scores = new LinkedHashMap<>();
        // in primary-key order (key, idx, pos): each key's scores arrive in index order, its first one first
        h.createQuery("SELECT key, idx, pos, value, passed FROM eval_scores WHERE run_pk = ?").bind(0, runPk)
                .map((rs, ctx) -> {
                    String key = rs.getString(1);
                    int i = rs.getInt(2);
                    int position = rs.getInt(3);
                    KeyScores k = scores.computeIfAbsent(key, x -> new KeyScores(x, i * 1048576L + position));
                    double v = rs.getDouble(4);
                    boolean noValue = rs.wasNull();
                    int p = rs.getInt(5);
                    boolean noPassed = rs.wasNull();
                    k.add(i, position, noValue ? Double.NaN : v, noPassed ? -1 : (byte) p);
                    return k;
                }).forEach(k -> { });
        List<KeyScores> keys = new ArrayList<>(scores.values());
        keys.sort(Comparator.comparingLong(k -> k.firstSeen));
        RunColumns c = new RunColumns(runPk, size, live, keys);
        Map<String, String[]> labelArrays = new HashMap<>();
        h.createQuery("""
                        SELECT idx, function, status, dataset, labels, has_error, has_annotation, has_url, has_messages, latency
                        FROM eval_results INDEXED BY eval_results_rows WHERE run_pk = ?""").bind(0, runPk)
                .map((rs, ctx) -> {
                    int i = rs.getInt(1);
                    c.function[i] = rs.getString(2);
                    c.status[i] = rs.getString(3).intern();
                    String ds = rs.getString(4);
                    c.dataset[i] = ds;
                    c.labels[i] = labelArrays.computeIfAbsent(rs.getString(5), RunColumns::labels);
                    c.hasError[i] = rs.getInt(6) == 1;
                    c.hasAnnotation[i] = rs.getInt(7) == 1;
                    c.hasUrl[i] = rs.getInt(8) == 1;
                    c.hasMessages[i] = rs.getInt(9) == 1;
                    double l = rs.getDouble(10);
                    c.latency[i] = rs.wasNull() ? Double.NaN : l;
                    return i;
                }).forEach(i -> { });
        c.datasetValues = c.datasets();
        c.labelValues = c.labelValues();
        return c;
    }

    long runPk() {
        return runPk;
    }

    EvalStore.Live live() {
        return live;
    }

    /** The run's datasets and labels, sorted (what a page offers to filter by). */
    private List<String> datasets() {
        TreeSet<String> out = new TreeSet<>();
        for (String d : dataset) {
            if (d != null) {
                out.add(d);
            }
        }
        return List.copyOf(out);
    }

    private List<String> labelValues() {
        TreeSet<String> out = new TreeSet<>();
        for (String[] ls : labels) {
            out.addAll(Arrays.asList(ls));
        }
        return List.copyOf(out);
    }

    /** The rows a query selects, in order, with their count, chips and average latency. */
    RowsSql.Selection select(RowQuery q, SearchText text) {
        if (!q.narrows()) {
            return new RowsSql.Selection(size, size, live.totals().averageLatency(), live.chips(),
                    q.sorts().isEmpty() ? null : sorted(all(), q.sorts()), live, datasetValues, labelValues);
        }
        boolean[] keep = new boolean[size];
        Arrays.fill(keep, true);
        if (q.search() != null || q.regex() != null) {
            String[] texts = searchText(text);
            for (int i = 0; i < size; i++) {
                String t = texts[i];
                keep[i] = t != null && (q.regex() != null ? q.regex().matcher(t).find() : t.contains(q.search()));
            }
        }
        for (int i = 0; i < size; i++) {
            if (keep[i]) {
                keep[i] = flag(q.annotation(), hasAnnotation[i]) && flag(q.hasError(), hasError[i])
                        && flag(q.hasUrl(), hasUrl[i]) && flag(q.hasMessages(), hasMessages[i])
                        && (q.statuses().isEmpty() || q.statuses().contains(status[i]))
                        && (q.datasetIn().isEmpty() || dataset[i] != null && q.datasetIn().contains(dataset[i]))
                        && (q.datasetOut().isEmpty() || dataset[i] == null || !q.datasetOut().contains(dataset[i]))
                        && (q.labelIn().isEmpty() || anyOf(labels[i], q.labelIn()))
                        && (q.labelOut().isEmpty() || !anyOf(labels[i], q.labelOut()));
            }
        }
        for (RowQuery.ScoreRule rule : q.scoreRules()) {
            boolean[] holds = new boolean[size];
            KeyScores k = byKey.get(rule.key());
            for (int s = 0; k != null && s < k.n; s++) {
                holds[k.idx[s]] |= rule.op() == null ? k.passed[s] == (rule.passed() ? 1 : 0) : compare(rule, k.value[s]);
            }
            for (int i = 0; i < size; i++) {
                keep[i] &= holds[i];
            }
        }
        int count = 0;
        for (boolean b : keep) {
            count += b ? 1 : 0;
        }
        int[] order = new int[count];
        double latencySum = 0;
        int latencies = 0;
        for (int i = 0, o = 0; i < size; i++) {
            if (keep[i]) {
                order[o++] = i;
                if (!Double.isNaN(latency[i]) && latency[i] != 0) {
                    latencySum += latency[i];
                    latencies++;
                }
            }
        }
        if (!q.sorts().isEmpty()) {
            order = sorted(order, q.sorts());
        }
        return new RowsSql.Selection(size, count, latencies == 0 ? 0.0 : latencySum / latencies, chips(keep), order, live,
                datasetValues, labelValues);
    }

    /** The search text of every row, read at the first search of this snapshot. */
    @FunctionalInterface
    interface SearchText {
        String[] read(long runPk, int size);
    }

    private String[] searchText(SearchText source) {
        String[] t = searchText;
        if (t == null) {
            synchronized (this) {
                t = searchText;
                if (t == null) {
                    t = source.read(runPk, size);
                    searchText = t;
                }
            }
        }
        return t;
    }

    /** Reads {@code search_text} by index, for {@link SearchText}. */
    static String[] readSearchText(Handle h, long runPk, int size) {
        String[] out = new String[size];
        h.createQuery("SELECT idx, search_text FROM eval_results WHERE run_pk = ?").bind(0, runPk)
                .map((rs, ctx) -> out[rs.getInt(1)] = rs.getString(2)).forEach(x -> { });
        return out;
    }

    /** The chips of the kept rows, by the rule of the eval_score_chips view (schema/002). */
    private List<EvalStore.Chip> chips(boolean[] keep) {
        record Chip(long firstSeen, EvalStore.Chip chip) {
        }
        List<Chip> out = new ArrayList<>();
        for (KeyScores k : keys) {
            long first = -1;
            int passed = 0;
            int total = 0;
            int count = 0;
            double sum = 0;
            for (int s = 0; s < k.n; s++) {
                int i = k.idx[s];
                if (!keep[i]) {
                    continue;
                }
                if (first < 0) {
                    first = i * 1048576L + k.pos[s];   // the key's scores are in (index, position) order
                }
                if (k.passed[s] >= 0) {
                    total++;
                    passed += k.passed[s];
                }
                if (!Double.isNaN(k.value[s])) {
                    count++;
                    sum += k.value[s];
                }
            }
            if (first >= 0) {
                out.add(new Chip(first, new EvalStore.Chip(k.key, total > 0 ? "ratio" : "avg", passed, total,
                        count == 0 ? null : sum / count, count)));
            }
        }
        out.sort(Comparator.comparingLong(Chip::firstSeen));
        List<EvalStore.Chip> chips = new ArrayList<>(out.size());
        out.forEach(c -> chips.add(c.chip()));
        return chips;
    }

    private int[] all() {
        int[] out = new int[size];
        Arrays.setAll(out, i -> i);
        return out;
    }

    /**
     * The rows in the order of the sort keys (values missing last in both directions), then by index. Each key
     * becomes a long per row whose ascending order is the wanted one; the keys are folded into one rank from the
     * last to the first, and the rows are sorted as primitive longs (rank, index): no comparator, no boxing.
     */
    private int[] sorted(int[] rows, List<RowQuery.Sort> sorts) {
        int n = rows.length;
        int[] rank = null;
        for (int k = sorts.size() - 1; k >= 0; k--) {
            RowQuery.Sort s = sorts.get(k);
            long[] key = new long[n];
            switch (s.column()) {
                case "index" -> {
                    for (int r = 0; r < n; r++) {
                        key[r] = rows[r];
                    }
                }
                case "function" -> stringKeys(rows, key, functionRank());
                case "status" -> stringKeys(rows, key, statusRank());
                case "dataset" -> stringKeys(rows, key, datasetRank());
                case "latency" -> numberKeys(rows, key, latency);
                default -> numberKeys(rows, key, firstScores(s.scoreKey()));
            }
            if (s.descending()) {
                for (int r = 0; r < n; r++) {
                    key[r] = key[r] == MISSING ? MISSING : ~key[r];
                }
            }
            int[] keyRank = denseRank(key);
            if (rank == null) {
                rank = keyRank;
            } else {
                long[] pair = new long[n];
                for (int r = 0; r < n; r++) {
                    pair[r] = (long) keyRank[r] << 32 | rank[r];
                }
                rank = denseRank(pair);
            }
        }
        long[] order = new long[n];
        for (int r = 0; r < n; r++) {
            order[r] = (long) rank[r] << 32 | rows[r];
        }
        java.util.Arrays.sort(order);
        int[] out = new int[n];
        for (int r = 0; r < n; r++) {
            out[r] = (int) order[r];
        }
        return out;
    }

    /** Each value's place among the distinct values, from 0. */
    private static int[] denseRank(long[] values) {
        long[] distinct = values.clone();
        java.util.Arrays.sort(distinct);
        int d = 0;
        for (int i = 0; i < distinct.length; i++) {
            if (i == 0 || distinct[i] != distinct[i - 1]) {
                distinct[d++] = distinct[i];
            }
        }
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = java.util.Arrays.binarySearch(distinct, 0, d, values[i]);
        }
        return out;
    }

    private static void stringKeys(int[] rows, long[] key, int[] rankByRow) {
        for (int r = 0; r < rows.length; r++) {
            int v = rankByRow[rows[r]];
            key[r] = v < 0 ? MISSING : v;
        }
    }

    /** Doubles as longs in the same order (-0.0 as 0.0, as SQL compares them); NaN (none) as {@link #MISSING}. */
    private static void numberKeys(int[] rows, long[] key, double[] byRow) {
        for (int r = 0; r < rows.length; r++) {
            double v = byRow[rows[r]];
            if (Double.isNaN(v)) {
                key[r] = MISSING;
            } else {
                long bits = Double.doubleToLongBits(v == 0 ? 0.0 : v);
                key[r] = bits ^ ((bits >> 63) & Long.MAX_VALUE);
            }
        }
    }

    private int[] functionRank() {
        int[] r = functionRank;
        if (r == null) {
            functionRank = r = ranks(function);
        }
        return r;
    }

    private int[] statusRank() {
        int[] r = statusRank;
        if (r == null) {
            statusRank = r = ranks(status);
        }
        return r;
    }

    private int[] datasetRank() {
        int[] r = datasetRank;
        if (r == null) {
            datasetRank = r = ranks(dataset);
        }
        return r;
    }

    /** Each row's place among the column's distinct strings in byte order (-1 for null), computed once per column. */
    private static int[] ranks(String[] column) {
        java.util.TreeMap<String, Integer> order = new java.util.TreeMap<>(RunColumns::bytes);
        for (String v : column) {
            if (v != null) {
                order.put(v, 0);
            }
        }
        int next = 0;
        for (Map.Entry<String, Integer> e : order.entrySet()) {
            e.setValue(next++);
        }
        int[] out = new int[column.length];
        for (int i = 0; i < column.length; i++) {
            out[i] = column[i] == null ? -1 : order.get(column[i]);
        }
        return out;
    }

    /** Each row's first score of {@code key} (by position): its value, else 1 or 0 for passed; NaN for none. */
    private double[] firstScores(String key) {
        double[] out = new double[size];
        Arrays.fill(out, Double.NaN);
        KeyScores k = byKey.get(key);
        boolean[] seen = new boolean[size];
        for (int s = 0; k != null && s < k.n; s++) {
            int i = k.idx[s];
            if (!seen[i]) {
                seen[i] = true;
                out[i] = !Double.isNaN(k.value[s]) ? k.value[s] : k.passed[s] >= 0 ? k.passed[s] : Double.NaN;
            }
        }
        return out;
    }

    /** SQLite's BINARY collation: the strings' UTF-8 bytes, i.e. their code points, in order. */
    private static int bytes(String a, String b) {
        int n = Math.min(a.length(), b.length());
        for (int i = 0; i < n; i++) {
            char x = a.charAt(i);
            char y = b.charAt(i);
            if (x != y) {
                // surrogates (code points above U+FFFF) sort after every other char in UTF-8, not before U+E000
                boolean sx = Character.isSurrogate(x);
                boolean sy = Character.isSurrogate(y);
                return sx == sy ? Character.compare(x, y) : sx ? 1 : -1;
            }
        }
        return Integer.compare(a.length(), b.length());
    }

    private static boolean compare(RowQuery.ScoreRule rule, double v) {
        if (Double.isNaN(v)) {
            return false;
        }
        return switch (rule.op()) {
            case ">" -> v > rule.value();
            case ">=" -> v >= rule.value();
            case "<" -> v < rule.value();
            case "<=" -> v <= rule.value();
            case "=" -> v == rule.value();
            default -> v != rule.value();
        };
    }

    private static boolean flag(Boolean want, boolean has) {
        return want == null || want == has;
    }

    private static boolean anyOf(String[] values, List<String> wanted) {
        for (String v : values) {
            if (wanted.contains(v)) {
                return true;
            }
        }
        return false;
    }

    /** A row's labels column (a JSON array) as its string labels. */
    private static String[] labels(String json) {
        if (json == null || json.equals("[]")) {
            return NO_LABELS;
        }
        try {
            JsonNode node = Json.MAPPER.readTree(json.getBytes(StandardCharsets.UTF_8));
            List<String> out = new ArrayList<>();
            node.forEach(l -> {
                if (l.isTextual()) {
                    out.add(l.asText());
                }
            });
            return out.toArray(NO_LABELS);
        } catch (java.io.IOException e) {
            return NO_LABELS;
        }
    }
}
