package scorebook.datasets;

import java.time.Clock;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.server.ApiException;
import scorebook.server.Json;
import scorebook.usage.UsageBuckets;
import scorebook.usage.UsageFilter;
import scorebook.usage.UsageMapping;
import scorebook.usage.UsageQueries;
import scorebook.usage.UsageReports;
import scorebook.usage.UsageRows;
import scorebook.usage.UsageStore;

/**
 * The datasets feature's rules, and the way other features append rows to a dataset ({@link #append}): names,
 * the {@code _meta_*} fields, adapters turning rows into usage rows, and the per-field metrics.
 */
public final class Datasets {
    /** Dataset names: a letter or digit, then up to 127 letters, digits, dots, underscores or dashes. */
    public static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    /** Rows per append. */
    public static final int MAX_ROWS = 100_000;
    /** The fields every stored row is read back with. */
    static final List<String> META = List.of("_meta_user_id", "_meta_dataset", "_meta_ts");

    private final DatasetStore store;
    private final UsageQueries usage;
    private final UsageReports reports;
    private final Clock clock;
    /** The enabled adapters by user and dataset ("USER/NAME"), read and parsed once: an append needs its dataset's. */
    private final Map<String, Optional<Enabled>> adapters = new java.util.concurrent.ConcurrentHashMap<>();

    public Datasets(DatasetStore store, UsageReports reports, Clock clock) {
        this.store = store;
        this.usage = reports.queries();
        this.reports = reports;
        this.clock = clock;
    }

    /**
     * A row that was stored without a usage row, and why.
     *
     * @param index  the row's place in the batch
     * @param reason which field did not fit
     */
    public record Skipped(int index, String reason) {
    }

    /**
     * What an append did.
     *
     * @param dataset       the dataset's name
     * @param appended      rows stored
     * @param usageRecorded usage rows recorded from them
     * @param skipped       rows stored without a usage row
     */
    public record Appended(String dataset, int appended, int usageRecorded, List<Skipped> skipped) {
    }

    /** The name, or 422 naming {@code field} when it breaks the rule (path characters included). */
    public static String checkName(String field, JsonNode value) {
        if (value == null || value.isNull()) {
            throw ApiException.invalid("'" + field + "' is required");
        }
        if (!value.isTextual() || !NAME.matcher(value.asText()).matches()) {
            throw ApiException.invalid("'" + field + "' must match [A-Za-z0-9][A-Za-z0-9._-]{0,127}, not "
                    + (value.isTextual() ? "'" + value.asText() + "'" : value.getNodeType().toString().toLowerCase()));
        }
        return value.asText();
    }

    /** Whether the user has a dataset of this name. */
    public boolean exists(long userId, String dataset) {
        return store.find(userId, dataset).isPresent();
    }

    /**
     * Appends rows to a dataset (created when new); each is stored as given and read back with
     * {@code _meta_user_id}, {@code _meta_dataset} and {@code _meta_ts} added (a row's own {@code _meta_*} fields are
     * replaced). With {@code recordUsage} and an enabled adapter, each row that fits also becomes a usage row
     * (source_kind dataset) and the others are listed as skipped; the usage rows are made after the append, before
     * any usage answer counts rows ({@link scorebook.usage.UsageMapping}). A row that is not a JSON object, a number
     * too large for a double, or a bad name is a 422 and stores nothing.
     */
    public Appended append(long userId, String dataset, List<? extends JsonNode> rows, boolean recordUsage) {
        checkName("dataset", Json.MAPPER.getNodeFactory().textNode(dataset));
        checkCount(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            if (!rows.get(i).isObject()) {
                throw ApiException.invalid("'rows[" + i + "]' must be a JSON object, not "
                        + rows.get(i).getNodeType().toString().toLowerCase());
            }
            requireFinite(rows.get(i), "rows[" + i + "]");
        }
        Enabled adapter = recordUsage ? enabled(userId, dataset) : null;
        long now = clock.millis();
        List<Skipped> skipped = new ArrayList<>();
        ArrayNode stored = Json.MAPPER.getNodeFactory().arrayNode(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            if (adapter != null) {
                adapter.check(i, rows.get(i)::get, now, skipped);
            }
            stored.add(((ObjectNode) rows.get(i)).deepCopy().without(META));
        }
        byte[] json;
        try {
            json = Json.MAPPER.writeValueAsBytes(stored);
        } catch (JsonProcessingException e) {
            throw ApiException.invalid("the rows cannot be stored as JSON: " + e.getOriginalMessage());
        }
        return store(userId, new RowScan.Rows(dataset, json, 0, json.length, rows.size()), adapter, now, skipped);
    }

    /**
     * Appends the rows of an append_jsonl body ({@code {dataset, rows}}, or NDJSON with {@code queryDataset}) read in
     * one streaming pass, with usage rows as {@link #append(long, String, List, boolean)} makes them; null when the
     * body has to be read as trees (it has errors, or rows this pass does not take).
     */
    Appended appendBody(long userId, byte[] body, String queryDataset, boolean ndjson) {
        long now = clock.millis();
        List<Skipped> skipped = new ArrayList<>();
        Enabled[] adapter = new Enabled[1];
        RowScan.Rows rows = RowScan.read(body, queryDataset, ndjson, name -> {
            skipped.clear(); // a reading given up for another starts again
            adapter[0] = enabled(userId, name);
            return adapter[0] == null ? RowScan.Check.NONE : new RowScan.Check(adapter[0].fields(),
                    (i, fields) -> adapter[0].check(i, fields, now, skipped));
        });
        if (rows == RowScan.SLOW) {
            return null;
        }
        checkName("dataset", Json.MAPPER.getNodeFactory().textNode(rows.dataset()));
        checkCount(rows.count());
        return store(userId, rows, adapter[0], now, skipped);
    }

    private Appended store(long userId, RowScan.Rows rows, Enabled adapter, long now, List<Skipped> skipped) {
        int recorded = adapter == null ? 0 : rows.count() - skipped.size();
        store.append(userId, rows.dataset(), now, rows, recorded == 0 ? null : adapter.json());
        return new Appended(rows.dataset(), rows.count(), recorded, skipped);
    }

    private static void checkCount(int rows) {
        if (rows > MAX_ROWS) {
            throw new ApiException(io.helidon.http.Status.REQUEST_ENTITY_TOO_LARGE_413, "too_large",
                    "at most " + MAX_ROWS + " rows per append; split them into several requests");
        }
    }

    /**
     * An enabled adapter, as an append uses it.
     *
     * @param mapping the rule usage rows are made by
     * @param fields  the fields it reads
     * @param json    the adapter's JSON, which is also its mapping's ({@code UsageMapping.fromJson} reads it)
     */
    private record Enabled(UsageMapping mapping, Set<String> fields, String json) {
        /** Lists the row in {@code skipped} when it makes no usage row. */
        void check(int index, java.util.function.Function<String, JsonNode> row, long now, List<Skipped> skipped) {
            try {
                mapping.check(row, now);
            } catch (UsageRows.Bad b) {
                skipped.add(new Skipped(index, "'" + b.field() + "' " + b.getMessage()));
            }
        }
    }

    /**
     * The dataset's adapter when it is enabled, else null; read from the database and parsed once per dataset (only
     * {@link #saveAdapter} changes it: the cache entry goes with the save).
     */
    private Enabled enabled(long userId, String dataset) {
        if (adapters.size() > 10_000) {
            adapters.clear();
        }
        return adapters.computeIfAbsent(userId + "/" + dataset, k -> {
            String json = store.adapterJson(userId, dataset);
            Adapter a = json == null ? null : Adapter.fromJson(json);
            if (a == null || !a.enabled()) {
                return Optional.empty();
            }
            UsageMapping m = a.mapping();
            return Optional.of(new Enabled(m, Set.copyOf(m.fields()), json));
        }).orElse(null);
    }

    /** A number too large for a double (1e400) would be stored as Infinity, which is not JSON. */
    private static void requireFinite(JsonNode n, String path) {
        if (n.isFloatingPointNumber() && !Double.isFinite(n.asDouble())) {
            throw ApiException.invalid("'" + path + "' is too large a number");
        }
        if (n.isContainerNode()) {
            // the path is built only for what is looked into or wrong (this runs for every field of every row)
            if (n.isArray()) {
                for (int i = 0; i < n.size(); i++) {
                    JsonNode v = n.get(i);
                    if (v.isContainerNode() || v.isFloatingPointNumber()) {
                        requireFinite(v, path + "[" + i + "]");
                    }
                }
            } else {
                for (Map.Entry<String, JsonNode> e : n.properties()) {
                    JsonNode v = e.getValue();
                    if (v.isContainerNode() || v.isFloatingPointNumber() && !Double.isFinite(v.asDouble())) {
                        requireFinite(v, path + "." + e.getKey());
                    }
                }
            }
        }
    }

    public Optional<Adapter> adapter(long userId, String dataset) {
        return store.find(userId, dataset).map(DatasetStore.Dataset::adapter).filter(a -> a != null)
                .map(Adapter::fromJson);
    }

    /**
     * How the dataset's newest {@code limit} rows map under the adapter in {@code body} (a save_adapter body, not
     * saved): per row, newest first, the row, its usage values or why an append would skip it. The adapter editor's
     * preview, by the rules an append applies, so the two cannot differ.
     */
    public Map<String, Object> previewAdapter(long userId, ObjectNode body, int limit) {
        String dataset = checkName("dataset", body.get("dataset"));
        Adapter a = Adapter.parse(dataset, body);
        DatasetStore.Dataset d = store.find(userId, dataset)
                .orElseThrow(() -> ApiException.notFound("no dataset named '" + dataset + "'"));
        long now = clock.millis();
        List<Object> out = new ArrayList<>();
        for (DatasetStore.StoredRow stored : store.page(d.id(), limit, true, null)) {
            ObjectNode row;
            try {
                row = (ObjectNode) Json.MAPPER.readTree(stored.json(userId, dataset));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("stored row " + stored.id() + " is not JSON", e);
            }
            Map<String, Object> usage = null;
            String skipped = null;
            try {
                UsageStore.Row u = a.mapping().row(userId, dataset, row, now);
                // without an x_field a row's time is when it was appended
                String ts = a.xField() == null ? row.path("_meta_ts").asText(null) : UsageStore.iso(u.tsMs());
                usage = Json.fields("ts", ts, "device", u.device(), "model", u.model(), "prompt_tokens", u.promptTokens(),
                        "completion_tokens", u.completionTokens(), "latency_ms", u.latencyMs(), "ttft_ms", u.ttftMs(),
                        "tok_s", u.tokS(), "extra", u.extra() == null ? Map.of() : Json.parse(
                                u.extra().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            } catch (UsageRows.Bad b) {
                skipped = "'" + b.field() + "' " + b.getMessage();
            }
            out.add(Json.fields("row", row, "usage", usage, "skipped", skipped));
        }
        return Json.fields("dataset", dataset, "enabled", a.enabled(), "rows", out);
    }

    /** Saves (replaces) the adapter in a save_adapter body. */
    public Adapter saveAdapter(long userId, ObjectNode body) {
        String dataset = checkName("dataset", body.get("dataset"));
        Adapter a = Adapter.parse(dataset, body);
        store.saveAdapter(userId, dataset, Json.text(a.toJson()), UsageStore.iso(clock.millis()));
        adapters.remove(userId + "/" + dataset);
        return a;
    }

    /**
     * Per numeric field the adapter maps (standard fields by name, extras by label): count, avg, min, max, p50,
     * p95 (nearest rank, exact) and a series per bucket, over the dataset's usage rows in {@code [from, to)}
     * (null: the dataset's whole span).
     */
    public Map<String, Object> metrics(long userId, DatasetStore.Dataset ds, Long from, Long to, String bucket) {
        Adapter a = ds.adapter() == null ? null : Adapter.fromJson(ds.adapter());
        Map<String, String> fields = new LinkedHashMap<>();
        if (a != null) {
            put(fields, "prompt_tokens", a.promptTokensField());
            put(fields, "completion_tokens", a.completionTokensField());
            put(fields, "latency_ms", a.latencyMsField());
            put(fields, "ttft_ms", a.ttftMsField());
            a.extraFields().forEach(e -> fields.put(e.label(), e.field()));
        }
        List<long[]> times = new ArrayList<>();
        Map<String, List<double[]>> values = new LinkedHashMap<>();
        fields.keySet().forEach(k -> values.put(k, new ArrayList<>()));
        long lo = from == null ? 0 : from;
        long hi = to == null ? Long.MAX_VALUE : to;
        usage.datasetRows(userId, ds.name(), lo, hi, (ts, pt, ct, lat, ttft, extra) -> {
            times.add(new long[] {ts});
            add(values, "prompt_tokens", ts, pt == null ? null : pt.doubleValue());
            add(values, "completion_tokens", ts, ct == null ? null : ct.doubleValue());
            add(values, "latency_ms", ts, lat);
            add(values, "ttft_ms", ts, ttft);
            if (a != null) {
                a.extraFields().forEach(e -> add(values, e.label(), ts, extra.get(e.label())));
            }
        });
        long start = from != null ? from : times.isEmpty() ? clock.millis() - 86_400_000L : times.getFirst()[0];
        long end = to != null ? to : times.isEmpty() ? clock.millis() : times.getLast()[0] + 1;
        Metrics.Buckets buckets = Metrics.buckets(start, end, bucket);
        Map<String, Object> out = new LinkedHashMap<>();
        values.forEach((name, list) -> out.put(name, Metrics.field(fields.get(name), list, buckets)));
        // §3.13: the usage summary and series of the dataset's events too, as /usage/summary and /usage answer them
        UsageFilter events = UsageReports.ofDataset(ds.name(), start, end);
        Map<String, Object> summary = reports.summary(userId, events);
        Object series = reports.series(userId, events, List.of(), buckets.name(), ZoneOffset.UTC, 20).get("series");
        return Json.fields("dataset", ds.name(), "from", UsageStore.iso(start), "to", UsageStore.iso(end),
                "bucket", buckets.name(), "rows", ds.rows(), "usage_rows", times.size(), "fields", out,
                "summary", summary, "series", series);
    }

    private static void put(Map<String, String> fields, String name, String field) {
        if (field != null) {
            fields.put(name, field);
        }
    }

    private static void add(Map<String, List<double[]>> values, String name, long ts, Double v) {
        List<double[]> list = values.get(name);
        if (list != null && v != null) {
            list.add(new double[] {ts, v});
        }
    }

    /** Exact statistics of a field's values. */
    static final class Metrics {
        private Metrics() {
        }

        /**
         * A series' buckets.
         *
         * @param name  the bucket (1m ... 1d)
         * @param size  its length, ms
         * @param start the first bucket's aligned start
         * @param count how many
         */
        record Buckets(String name, long size, long start, int count) {
        }

        static Buckets buckets(long from, long to, String asked) {
            String name = UsageBuckets.pick(asked, to - from);
            long size = UsageBuckets.SIZES.get(name);
            long start = Math.floorDiv(from, size) * size;
            long count = Math.max(1, (to - start + size - 1) / size);
            if (count > 10_000) {
                throw ApiException.invalid("'bucket' is too small for the range: more than 10000 buckets");
            }
            return new Buckets(name, size, start, (int) count);
        }

        static Map<String, Object> field(String field, List<double[]> tsValues, Buckets b) {
            double[] all = new double[tsValues.size()];
            List<List<Double>> per = new ArrayList<>();
            for (int i = 0; i < b.count(); i++) {
                per.add(new ArrayList<>());
            }
            for (int i = 0; i < all.length; i++) {
                all[i] = tsValues.get(i)[1];
                int k = (int) Math.floorDiv((long) tsValues.get(i)[0] - b.start(), b.size());
                if (k >= 0 && k < per.size()) {
                    per.get(k).add(all[i]);
                }
            }
            Map<String, Object> m = stats(all);
            m.put("field", field);
            List<Object> series = new ArrayList<>();
            for (int i = 0; i < per.size(); i++) {
                double[] v = per.get(i).stream().mapToDouble(Double::doubleValue).toArray();
                Map<String, Object> p = new LinkedHashMap<>();
                p.put("t", UsageStore.iso(b.start() + i * b.size()));
                p.putAll(stats(v));
                series.add(p);
            }
            m.put("series", series);
            return m;
        }

        static Map<String, Object> stats(double[] v) {
            double[] s = v.clone();
            Arrays.sort(s);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("count", s.length);
            m.put("avg", s.length == 0 ? null : Arrays.stream(s).sum() / s.length);
            m.put("min", s.length == 0 ? null : s[0]);
            m.put("max", s.length == 0 ? null : s[s.length - 1]);
            m.put("p50", rank(s, 50));
            m.put("p95", rank(s, 95));
            return m;
        }

        private static Double rank(double[] sorted, double p) {
            if (sorted.length == 0) {
                return null;
            }
            int r = (int) Math.ceil(p / 100 * sorted.length);
            return sorted[Math.max(0, Math.min(sorted.length - 1, r - 1))];
        }
    }
}
