package scorebook.usage;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.jdbi.v3.core.Handle;

import scorebook.store.Database;

import static scorebook.usage.UsageStore.MinuteCells.hourOf;

/**
 * Reads usage answers from the rollups: a range is cut into whole days, hours and minutes (the coarsest cells
 * that fit, aligned to the answer's buckets) plus the sub-minute edges, which are read from raw rows; a job_id
 * filter reads raw rows of those jobs. Everything is added up into {@link Tally}s per group and bucket. Plain
 * JDBC over the {@code usage_rollup_cells} view and {@code usage_events}: this is the measured read path.
 */
public final class UsageQueries {
    /** Group keys that answers may be grouped by. */
    public static final List<String> GROUPS = List.of("device", "model", "tag", "dataset", "source_kind", "tenant", "ok");
    private static final String OTHER = "other";
    private static final int COL_FACTS = 10;
    /**
     * A raw row as a tally adds it: its time in column 2 and the dimensions in 3 to 9 as {@link #cells} has them,
     * then its numbers with -Infinity for an absent value, so each column is one JNI read and no null check. The old
     * partial hour of a range (no minute cells that far back) is about 14,000 rows at 10,000,000 a month; read
     * through the facts view, some 25 reads a row, it took about 80 ms while SQLite found and summed those rows in 8.
     */
    private static final String RAW_FACTS = """
            SELECT NULL, ts_ms, source_kind, model, device, tag, tenant, dataset, ok, coalesce(prompt_tokens, 0),
                   coalesce(completion_tokens, 0), coalesce(latency_ms, -9e999), coalesce(ttft_ms, -9e999),
                   coalesce(tok_s, -9e999), coalesce(prefill_tok_s, -9e999), coalesce(decode_tok_s, -9e999), extra
            FROM usage_events""";
    /** The dimension columns of a raw row or a group of cells, from its third column on: the rollups' key order. */
    private static final List<String> DIMS = List.of("source_kind", "model", "device", "tag", "tenant", "dataset", "ok");
    /**
     * The view (schema/014) of rollup cells with their dimensions as stored ('' for absent): grouping by a prefix of
     * the primary key lets SQLite add a range of cells up in key order as it reads them, without a sort.
     */
    private static final String CELLS = "usage_rollup_cells";
    /** {@link UsageStore#FACTS} added up over a group of cells, then the devices and models seen. */
    private static final String GROUPED_FACTS = """
            , sum(requests), sum(ok_requests), sum(prompt_tokens), sum(completion_tokens), sum(latency_n),
            total(latency_sum), max(latency_max), sum(ttft_n), total(ttft_sum), sum(tok_s_n), total(tok_s_sum),
            total(tok_s_sq), sum(prefill_n), total(prefill_sum), sum(decode_n), total(decode_sum),
            CAST(group_concat(latency_hist, '') AS BLOB), CAST(group_concat(ttft_hist, '') AS BLOB),
            CAST(group_concat(tok_s_hist, '') AS BLOB), CAST(group_concat(extra, '') AS BLOB),
            json_group_array(DISTINCT nullif(device, '')), json_group_array(DISTINCT nullif(model, ''))""".replace('\n', ' ');
    /** {@link #GROUPED_FACTS} without the three histograms (answers that need no percentiles). */
    private static final String GROUPED_COUNTS = GROUPED_FACTS.replaceAll("group_concat\\((latency|ttft|tok_s)_hist, ''\\)",
            "NULL");
    /** The devices and models seen, as {@link #GROUPED_FACTS} lists them last; a series needs none (NULL, NULL). */
    private static final String SEEN = "json_group_array(DISTINCT nullif(device, '')), json_group_array(DISTINCT nullif(model, ''))";
    /** The tokens/s histograms of a group, which a series does not read (its points show the average only). */
    private static final String TOK_S_HIST = "CAST(group_concat(tok_s_hist, '') AS BLOB)";

    /** Old hours one range makes minute cells for at most (its two edges need two; more is a minute series). */
    private static final int HOURS_MADE_PER_ANSWER = 4;

    private final Database db;
    private volatile Map<String, String> compareMetrics;

    public UsageQueries(Database db) {
        this.db = db;
    }

    /**
     * One group of an answer.
     *
     * @param key     group_by key → value (empty without group_by)
     * @param buckets one tally per bucket (one in all without buckets)
     * @param total   the whole range (with more than one bucket: its counts and sums, without histograms, extras
     *                or devices and models seen)
     */
    public record Group(Map<String, Object> key, Tally[] buckets, Tally total) {
    }

    /**
     * Adds up a user's rows matching {@code f}, per group of {@code groupBy} and per bucket between {@code edges}
     * (epoch ms, ascending, first = from and last = to; null for none). At most {@code top} groups, the rest
     * become one "other" group. {@code histograms} false skips percentiles (counts and sums only).
     */
    public List<Group> tally(long userId, UsageFilter f, List<String> groupBy, long[] edges, int top, boolean histograms) {
        return tally(userId, f, groupBy, edges, top, histograms, false);
    }

    /**
     * {@link #tally}; {@code series} true for a series' points, which show no devices and models seen and no
     * tokens/s or extra-metric percentiles: it then reads the cells of a cut (schema/015, 016) when one has every
     * dimension it groups and filters by, and leaves those histograms undecoded.
     */
    public List<Group> tally(long userId, UsageFilter f, List<String> groupBy, long[] edges, int top, boolean histograms,
                             boolean series) {
        UsageStore.foldPending(db);
        // a total of everything (a summary, a comparison's side) filtered by no dimension reads the cut that keeps
        // none (two cells an hour instead of every model's, device's and tag's), and the devices and models seen
        // from the keys of the model and device cuts
        int cutAsked = cutFor(groupBy, f);
        boolean whole = !series && edges == null && groupBy.isEmpty() && cutAsked == 1;
        int cut = series || whole ? cutAsked : 0;
        Set<String> modelsSeen = new HashSet<>();
        Set<String> devicesSeen = new HashSet<>();
        long[] e = edges == null ? new long[] {f.fromMs(), f.toMs()} : edges;
        Map<List<Object>, Tally[]> groups = new HashMap<>();
        Map<List<Object>, Map<String, Object>> keys = new LinkedHashMap<>();
        Map<String, List<String>> seenSets = new HashMap<>();
        for (int attempt = 0; ; attempt++) {
            boolean mayMake = attempt == 0;
            Set<Long> toMake = read(h -> {
                Sink sink = (rs, tsMs, grouped) -> {
                    int b = bucket(e, tsMs);
                    if (b < 0) {
                        return;
                    }
                    List<Object> key = new ArrayList<>(groupBy.size());
                    for (String g : groupBy) {
                        key.add(value(rs, g));
                    }
                    Tally[] buckets = groups.computeIfAbsent(key, k -> {
                        Map<String, Object> m = new LinkedHashMap<>();
                        for (int i = 0; i < groupBy.size(); i++) {
                            m.put(groupBy.get(i), k.get(i));
                        }
                        keys.put(k, m);
                        return new Tally[e.length - 1];
                    });
                    if (buckets[b] == null) {
                        buckets[b] = new Tally();
                    }
                    Tally t = buckets[b];
                    if (grouped) {
                        addGroup(t, rs, histograms, series, seenSets);
                    } else {
                        addRawRow(t, rs, histograms);
                        if (!series) {
                            t.seen(rs.getString(5), rs.getString(4));
                        }
                    }
                };
                if (!f.jobIds().isEmpty()) {
                    raw(h, userId, f, f.fromMs(), f.toMs(), sink);
                } else {
                    List<Segment> segments = segments(e);
                    long firstMinute = segments.stream().filter(s -> s.level == 0).mapToLong(Segment::from).min()
                            .orElse(Long.MAX_VALUE);
                    UsageStore.MinuteCells kept = UsageStore.minuteCells(h.getConnection(), userId, firstMinute);
                    Set<Long> missing = mayMake ? hoursToMake(segments, kept) : Set.of();
                    if (!missing.isEmpty()) {
                        return missing;
                    }
                    for (Segment s : segments) {
                        for (Segment p : s.level == 0 ? withMinuteCells(s, kept) : List.of(s)) {
                            if (p.level < 0) {
                                raw(h, userId, f, p.from, p.to, sink);
                            } else {
                                cells(h, userId, f, groupBy, p, cut, histograms, series, sink);
                                if (whole) {
                                    seenIn(h, userId, f, p, "model", modelsSeen);
                                    seenIn(h, userId, f, p, "device", devicesSeen);
                                }
                            }
                        }
                    }
                }
                return Set.<Long>of();
            });
            if (toMake.isEmpty()) {
                break;
            }
            // the range has minutes in old hours without minute cells (schema/018): made, then read again
            UsageStore.makeMinuteHours(db, userId, toMake);
        }
        Tally[] all = groups.get(List.of());
        if (whole && all != null) {
            all[0].seen(null, null);
            all[0].models.addAll(modelsSeen);
            all[0].devices.addAll(devicesSeen);
        }
        List<Group> out = new ArrayList<>();
        for (Map.Entry<List<Object>, Map<String, Object>> k : keys.entrySet()) {
            Tally[] buckets = groups.get(k.getKey());
            for (int i = 0; i < buckets.length; i++) {
                if (buckets[i] == null) {
                    buckets[i] = new Tally();
                }
            }
            Tally total = buckets.length == 1 ? buckets[0] : new Tally();
            if (buckets.length > 1) {
                // a series orders its groups by their totals and shows only its points: no histograms to merge
                for (Tally b : buckets) {
                    total.mergeSums(b);
                }
            }
            out.add(new Group(k.getValue(), buckets, total));
        }
        out.sort(Comparator.comparingLong((Group g) -> -g.total().requests)
                .thenComparing(g -> String.valueOf(g.key().values())));
        if (out.size() > top) {
            Map<String, Object> otherKey = new LinkedHashMap<>();
            groupBy.forEach(g -> otherKey.put(g, OTHER));
            Tally[] buckets = new Tally[e.length - 1];
            Arrays.setAll(buckets, i -> new Tally());
            Tally total = new Tally();
            for (Group g : out.subList(top, out.size())) {
                for (int i = 0; i < buckets.length; i++) {
                    buckets[i].merge(g.buckets()[i]);
                }
                total.merge(g.total());
            }
            out = new ArrayList<>(out.subList(0, top));
            out.add(new Group(otherKey, buckets, total));
        }
        return out;
    }

    private <R> R read(org.jdbi.v3.core.HandleCallback<R, SQLException> callback) {
        try {
            return db.read(callback);
        } catch (SQLException e) {
            throw new IllegalStateException("usage query failed: " + e.getMessage(), e);
        }
    }

    public Database db() {
        return db;
    }

    /**
     * The metrics /usage/compare reports and which way is better (the usage_compare_metrics view, fixed by the schema:
     * read once).
     */
    public Map<String, String> compareMetrics() {
        Map<String, String> m = compareMetrics;
        if (m == null) {
            Map<String, String> read = new LinkedHashMap<>();
            db.read(h -> h.createQuery("SELECT metric, better_when FROM usage_compare_metrics").map((rs, ctx) -> {
                read.put(rs.getString(1), rs.getString(2));
                return null;
            }).list());
            m = compareMetrics = java.util.Collections.unmodifiableMap(read);
        }
        return m;
    }

    /**
     * A page of raw rows, newest first.
     *
     * @param events     the rows
     * @param nextCursor where the next page starts, or null at the end
     */
    public record Page(List<Map<String, Object>> events, String nextCursor) {
    }

    /** Raw rows matching {@code f}, newest first, {@code limit} at a time from {@code cursor} (null: the newest). */
    public Page raw(long userId, UsageFilter f, int limit, String cursor) {
        UsageStore.derivePending(db);
        List<Object> args = new ArrayList<>(List.of(userId, f.fromMs(), f.toMs()));
        StringBuilder sql = new StringBuilder("""
                SELECT id, request_id, ts_ms, source_kind, device, model, tag, tenant, dataset, job_id, ok, error_type,
                       error_message, prompt_tokens, completion_tokens, latency_ms, ttft_ms, tok_s, prefill_tok_s,
                       decode_tok_s, load_ms, battery_start_pct, battery_end_pct, temp_max_c, thermal_status_max,
                       prompt_preview, extra
                FROM usage_events WHERE user_id = ? AND ts_ms >= ? AND ts_ms < ?""").append(where(f, args));
        if (!f.jobIds().isEmpty()) {
            sql.append(" AND job_id IN (").append("?,".repeat(f.jobIds().size() - 1)).append("?)");
            args.addAll(f.jobIds());
        }
        if (cursor != null) {
            long[] c = cursor(cursor);
            sql.append(" AND (ts_ms < ? OR (ts_ms = ? AND id < ?))");
            args.addAll(List.of(c[0], c[0], c[1]));
        }
        sql.append(" ORDER BY ts_ms DESC, id DESC LIMIT ?");
        args.add(limit + 1);
        List<Map<String, Object>> events = new ArrayList<>();
        long[] last = new long[2];
        read(h -> {
            query(h, sql.toString(), args, rs -> {
                if (events.size() == limit) {
                    events.add(null);
                    return;
                }
                last[0] = rs.getLong(3);
                last[1] = rs.getLong(1);
                events.add(event(rs));
            });
            return null;
        });
        boolean more = events.size() > limit;
        if (more) {
            events.removeLast();
        }
        return new Page(events, more ? java.util.Base64.getUrlEncoder().withoutPadding()
                .encodeToString((last[0] + ":" + last[1]).getBytes(java.nio.charset.StandardCharsets.UTF_8)) : null);
    }

    private static long[] cursor(String cursor) {
        try {
            String[] parts = new String(java.util.Base64.getUrlDecoder().decode(cursor),
                    java.nio.charset.StandardCharsets.UTF_8).split(":");
            return new long[] {Long.parseLong(parts[0]), Long.parseLong(parts[1])};
        } catch (IllegalArgumentException | ArrayIndexOutOfBoundsException e) {
            throw scorebook.server.ApiException.invalid("'cursor' is not one this server gave out");
        }
    }

    private static Map<String, Object> event(ResultSet rs) throws SQLException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("event_id", rs.getString(2));
        long ts = rs.getLong(3);
        m.put("ts", UsageStore.iso(ts));
        m.put("ts_ms", ts);
        String[] text = {"source_kind", "device", "model", "tag", "tenant", "dataset", "job_id"};
        for (int i = 0; i < text.length; i++) {
            m.put(text[i], rs.getString(4 + i));
        }
        m.put("ok", rs.getInt(11) == 1);
        m.put("error_type", rs.getString(12));
        m.put("error_message", rs.getString(13));
        Long pt = UsageStore.number(rs, 14, Long.class);
        Long ct = UsageStore.number(rs, 15, Long.class);
        m.put("prompt_tokens", pt);
        m.put("completion_tokens", ct);
        m.put("total_tokens", pt == null && ct == null ? null : (pt == null ? 0 : pt) + (ct == null ? 0 : ct));
        String[] numbers = {"latency_ms", "ttft_ms", "tok_s", "prefill_tok_s", "decode_tok_s", "load_ms",
            "battery_start_pct", "battery_end_pct", "temp_max_c", "thermal_status_max"};
        for (int i = 0; i < numbers.length; i++) {
            m.put(numbers[i], UsageStore.number(rs, 16 + i, Double.class));
        }
        m.put("prompt_preview", rs.getString(26));
        String extra = rs.getString(27);
        m.put("extra", extra == null ? Map.of() : UsageStore.extras(extra));
        return m;
    }

    /** One usage row made from a dataset row: its time and numbers, extras by label. */
    public interface DatasetRow {
        void row(long tsMs, Long promptTokens, Long completionTokens, Double latencyMs, Double ttftMs,
                 Map<String, Double> extra);
    }

    /** The usage rows an adapter made from a dataset in {@code [from, to)}, oldest first (dataset metrics). */
    public void datasetRows(long userId, String dataset, long from, long to, DatasetRow sink) {
        UsageStore.derivePending(db);
        read(h -> {
            query(h, """
                    SELECT ts_ms, prompt_tokens, completion_tokens, latency_ms, ttft_ms, extra FROM usage_events
                    WHERE user_id = ? AND ts_ms >= ? AND ts_ms < ? AND dataset = ? AND source_kind = 'dataset'
                    ORDER BY ts_ms""", List.of(userId, from, to, dataset), rs -> {
                String extra = rs.getString(6);
                sink.row(rs.getLong(1), UsageStore.number(rs, 2, Long.class), UsageStore.number(rs, 3, Long.class),
                        UsageStore.number(rs, 4, Double.class), UsageStore.number(rs, 5, Double.class),
                        extra == null ? Map.of() : UsageStore.extras(extra));
            });
            return null;
        });
    }

    /** Everything matching {@code f} in one tally (the summary). */
    public Tally total(long userId, UsageFilter f, boolean histograms) {
        Tally t = new Tally();
        tally(userId, f, List.of(), null, Integer.MAX_VALUE, histograms).forEach(g -> t.merge(g.total()));
        return t;
    }

    /** Takes one row: a raw row ({@link #RAW_FACTS}) or a group of cells ({@link #cells}). */
    private interface Sink {
        void row(ResultSet rs, long tsMs, boolean grouped) throws SQLException;
    }

    private static Object value(ResultSet rs, String group) throws SQLException {
        return switch (group) {
            case "source_kind" -> rs.getString(3);
            case "model" -> rs.getString(4);
            case "device" -> rs.getString(5);
            case "tag" -> rs.getString(6);
            case "tenant" -> rs.getString(7);
            case "dataset" -> rs.getString(8);
            case "ok" -> rs.getInt(9) == 1;
            default -> throw new IllegalArgumentException(group);
        };
    }

    /** The bucket holding {@code tsMs}, or -1 outside the edges. */
    private static int bucket(long[] edges, long tsMs) {
        if (tsMs < edges[0] || tsMs >= edges[edges.length - 1]) {
            return -1;
        }
        int i = Arrays.binarySearch(edges, tsMs);
        return i >= 0 ? i : -i - 2;
    }

    /** A piece of the range: rollup cells of one level {@code [from, to)} in epoch minutes, or raw rows (level -1) in ms. */
    record Segment(int level, long from, long to) {
    }

    /** The coarsest cells covering each bucket, merged where they touch. */
    static List<Segment> segments(long[] edges) {
        List<Segment> pieces = new ArrayList<>();
        for (int i = 0; i + 1 < edges.length; i++) {
            long a = edges[i];
            long b = edges[i + 1];
            long m0 = Math.floorDiv(a + 59_999, 60_000);
            long m1 = Math.floorDiv(b, 60_000);
            if (m0 >= m1) {
                pieces.add(new Segment(-1, a, b));
                continue;
            }
            if (a < m0 * 60_000) {
                pieces.add(new Segment(-1, a, m0 * 60_000));
            }
            cover(pieces, m0, m1, UsageStore.LEVEL_MINUTES.length - 1);
            if (m1 * 60_000 < b) {
                pieces.add(new Segment(-1, m1 * 60_000, b));
            }
        }
        // merge touching pieces of one level (an hourly series over a month is one range of hour cells)
        pieces.sort(Comparator.comparingInt(Segment::level).thenComparingLong(Segment::from));
        List<Segment> merged = new ArrayList<>();
        for (Segment s : pieces) {
            Segment last = merged.isEmpty() ? null : merged.getLast();
            if (last != null && last.level == s.level && last.to == s.from) {
                merged.set(merged.size() - 1, new Segment(s.level, last.from, s.to));
            } else {
                merged.add(s);
            }
        }
        return merged;
    }

    private static void cover(List<Segment> out, long lo, long hi, int level) {
        if (lo >= hi) {
            return;
        }
        if (level == 0) {
            out.add(new Segment(0, lo, hi));
            return;
        }
        long size = UsageStore.LEVEL_MINUTES[level];
        long c0 = Math.floorDiv(lo + size - 1, size) * size;
        long c1 = Math.floorDiv(hi, size) * size;
        if (c0 >= c1) {
            cover(out, lo, hi, level - 1);
            return;
        }
        cover(out, lo, c0, level - 1);
        out.add(new Segment(level, c0, c1));
        cover(out, c1, hi, level - 1);
    }

    /**
     * The old hours (older than the minute-cell horizon) without minute cells that the range's minute pieces fall
     * in, when they are few (schema/018): a range's edges, read row by row otherwise. None for more: a minute series
     * over old days is left to the raw rows.
     */
    private static Set<Long> hoursToMake(List<Segment> segments, UsageStore.MinuteCells kept) {
        Set<Long> hours = new TreeSet<>();
        for (Segment s : segments) {
            if (s.level != 0) {
                continue;
            }
            for (long m = s.from; m < s.to && m < kept.horizon(); m = hourOf(m) + 60) {
                if (!kept.has(m)) {
                    hours.add(hourOf(m));
                }
            }
        }
        return hours.size() <= HOURS_MADE_PER_ANSWER ? hours : Set.of();
    }

    /**
     * A piece of minute cells split where they are missing (hours older than the horizon not made): those minutes
     * become raw pieces (ms); touching pieces of one kind stay one.
     */
    static List<Segment> withMinuteCells(Segment s, UsageStore.MinuteCells kept) {
        List<Segment> out = new ArrayList<>();
        for (long a = s.from; a < s.to; ) {
            boolean cells = kept.has(a);
            long b = a >= kept.horizon() ? s.to : Math.min(s.to, hourOf(a) + 60);
            Segment p = cells ? new Segment(0, a, b) : new Segment(-1, a * 60_000, b * 60_000);
            Segment last = out.isEmpty() ? null : out.getLast();
            if (last != null && last.level == p.level && last.to == p.from) {
                out.set(out.size() - 1, new Segment(p.level, last.from, p.to));
            } else {
                out.add(p);
            }
            a = b;
        }
        return out;
    }

    /**
     * The cells of one level in {@code [s.from, s.to)} ({@link #CELLS}) added up inside SQLite per cell time and group: counts and
     * sums by SQL aggregates, each histogram column as the concatenation of the group's encodings (self-delimiting,
     * decoded in one pass), the devices and models seen as JSON arrays. SQLite groups by the primary key's prefix
     * up to the last dimension asked for (so it adds cells up in key order as it reads them, without sorting);
     * rows of one answer group that this leaves apart are added up by the sink. An hourly series by model over a
     * month hands over 720 × 4 rows instead of 720 × 48 cells, a summary one row per day instead of 48 (every
     * column read is a JNI call). Columns: t, NULL, the dimensions (NULL where not asked for), {@link UsageStore#FACTS}, then the
     * devices and models.
     */
    private static void cells(Handle h, long userId, UsageFilter f, List<String> groupBy, Segment s, int cut,
                              boolean histograms, boolean series, Sink sink) throws SQLException {
        List<Object> args = new ArrayList<>(List.of(userId, UsageStore.cutLevel(s.level, cut), s.from, s.to));
        StringBuilder sql = new StringBuilder("SELECT t, NULL");
        StringBuilder group = new StringBuilder(" GROUP BY t");
        int last = -1;
        for (int i = 0; i < DIMS.size(); i++) {
            String dim = DIMS.get(i);
            sql.append(", ").append(groupBy.contains(dim) ? "nullif(" + dim + ", '')" : "NULL");
            last = groupBy.contains(dim) ? i : last;
        }
        for (int i = 0; i <= last; i++) {
            group.append(", ").append(DIMS.get(i));
        }
        String facts = histograms ? GROUPED_FACTS : GROUPED_COUNTS;
        // DISTINCT makes SQLite keep a set per group: only when the answer shows the devices and models seen, and
        // only in the full cells (a cut has dropped them; a total of everything finds them with seenIn)
        String read = !series && cut == 0 ? facts : facts.replace(SEEN, "NULL, NULL");
        sql.append(series ? read.replace(TOK_S_HIST, "NULL") : read)
                .append(" FROM ").append(CELLS).append(" WHERE user_id = ? AND level = ? AND t >= ? AND t < ?")
                .append(where(f, args)).append(group);
        query(h, sql.toString(), args, rs -> sink.row(rs, rs.getLong(1) * 60_000, true));
    }

    /**
     * The cut (schema/015) that keeps every dimension an answer groups or filters by (source_kind and ok are in
     * every cut), or 0 for the full cells.
     */
    static int cutFor(List<String> groupBy, UsageFilter f) {
        java.util.Set<String> needed = new java.util.HashSet<>(groupBy);
        needed.addAll(f.dims().keySet());
        needed.remove("source_kind");
        needed.remove("ok");
        if (needed.isEmpty()) {
            return 1;
        }
        return needed.size() == 1 ? Math.max(0, UsageStore.CUT_KEEPS.indexOf(needed.iterator().next())) : 0;
    }

    /** Adds to {@code seen} the values of {@code dim} (model or device) with calls in a segment, from its cut's keys. */
    private static void seenIn(Handle h, long userId, UsageFilter f, Segment s, String dim, Set<String> seen)
            throws SQLException {
        List<Object> args = new ArrayList<>(List.of(userId,
                UsageStore.cutLevel(s.level, UsageStore.CUT_KEEPS.indexOf(dim)), s.from, s.to));
        String sql = "SELECT DISTINCT " + dim + " FROM " + CELLS + " WHERE user_id = ? AND level = ? AND t >= ? AND t < ?"
                + where(f, args) + " AND " + dim + " <> ''";
        query(h, sql, args, rs -> seen.add(rs.getString(1)));
    }

    /**
     * Adds one row of {@link #RAW_FACTS} to a tally: its counts and sums, its values into the histograms unless
     * {@code histograms} is false, its extras.
     */
    private static void addRawRow(Tally t, ResultSet rs, boolean histograms) throws SQLException {
        t.addCall(rs.getInt(9) == 1, rs.getLong(10), rs.getLong(11));
        double latency = rs.getDouble(12);
        if (latency != Double.NEGATIVE_INFINITY) {
            t.addLatency(latency, histograms);
        }
        double ttft = rs.getDouble(13);
        if (ttft != Double.NEGATIVE_INFINITY) {
            t.addTtft(ttft, histograms);
        }
        double tokS = rs.getDouble(14);
        if (tokS != Double.NEGATIVE_INFINITY) {
            t.addTokS(tokS, histograms);
        }
        double prefill = rs.getDouble(15);
        if (prefill != Double.NEGATIVE_INFINITY) {
            t.addPrefill(prefill);
        }
        double decode = rs.getDouble(16);
        if (decode != Double.NEGATIVE_INFINITY) {
            t.addDecode(decode);
        }
        String extra = rs.getString(17);
        if (extra != null) {
            t.addExtras(UsageStore.extras(extra));
        }
    }

    /** Adds one row of {@link #cells} (a group of cells) to a tally. */
    private static void addGroup(Tally t, ResultSet rs, boolean histograms, boolean series,
                                 Map<String, List<String>> seenSets) throws SQLException {
        int c = COL_FACTS;
        UsageStore.addSums(t, rs, c);
        if (histograms) {
            t.latency.mergeEncodedAll(rs.getBytes(c + 16));
            t.ttft.mergeEncodedAll(rs.getBytes(c + 17));
            if (!series) {
                t.tokS.mergeEncodedAll(rs.getBytes(c + 18));
            }
        }
        t.mergeEncodedExtras(rs.getBytes(c + 19), histograms && !series);
        List<String> devices = names(rs.getString(c + 20), seenSets);
        List<String> models = names(rs.getString(c + 21), seenSets);
        t.seen(null, null);
        t.devices.addAll(devices);
        t.models.addAll(models);
    }

    /** The names of a JSON array of strings and nulls (nulls left out), parsed once per distinct text. */
    private static List<String> names(String json, Map<String, List<String>> parsed) {
        if (json == null) {
            return List.of();
        }
        return parsed.computeIfAbsent(json, j -> {
            List<String> out = new ArrayList<>();
            try {
                for (com.fasterxml.jackson.databind.JsonNode n : scorebook.server.Json.MAPPER.readTree(j)) {
                    if (n.isTextual()) {
                        out.add(n.asText());
                    }
                }
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException("SQLite's json_group_array gave " + j, e);
            }
            return List.copyOf(out);
        });
    }

    private static void raw(Handle h, long userId, UsageFilter f, long from, long to, Sink sink) throws SQLException {
        List<Object> args = new ArrayList<>(List.of(userId, from, to));
        StringBuilder sql = new StringBuilder(RAW_FACTS).append(
                " WHERE user_id = ? AND ts_ms >= ? AND ts_ms < ?").append(where(f, args));
        if (!f.jobIds().isEmpty()) {
            sql.append(" AND job_id IN (").append("?,".repeat(f.jobIds().size() - 1)).append("?)");
            args.addAll(f.jobIds());
        }
        query(h, sql.toString(), args, rs -> sink.row(rs, rs.getLong(2), false));
    }

    /** The dimension filters as SQL, their values appended to {@code args}. */
    static String where(UsageFilter f, List<Object> args) {
        StringBuilder w = new StringBuilder();
        f.dims().forEach((dim, values) -> {
            w.append(" AND ").append(dim).append(" IN (").append("?,".repeat(values.size() - 1)).append("?)");
            args.addAll(values);
        });
        if (f.excludesWarmup()) {
            w.append(" AND source_kind <> 'warmup'");
        }
        if (f.ok() != null) {
            w.append(" AND ok = ?");
            args.add(f.ok() ? 1 : 0);
        }
        return w.toString();
    }

    private interface RowHandler {
        void row(ResultSet rs) throws SQLException;
    }

    private static void query(Handle h, String sql, List<Object> args, RowHandler handler) throws SQLException {
        try (PreparedStatement ps = h.getConnection().prepareStatement(sql)) {
            for (int i = 0; i < args.size(); i++) {
                ps.setObject(i + 1, args.get(i));
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    handler.row(rs);
                }
            }
        }
    }
}
