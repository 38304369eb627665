package scorebook.usage;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.util.RawValue;
import scorebook.server.Json;

/**
 * A series' points as JSON texts, keeping those of whole, closed buckets between answers: a dashboard asks for the
 * same month of hourly points again and again, and making them from the rollups (some 5,800 cells whose histograms
 * are decoded) is most of a 60 ms answer. A kept bucket is used again only while the fold's marks of its hours
 * (schema/019) are what they were when it was made, so a row folded into an old hour, by this process or any other,
 * makes that bucket anew; buckets not kept, and the range's partial first and last ones, are read as before.
 */
final class UsageSeries {
    /** JSON characters kept at most, over all users and answers (a month of hourly points by four models: 824,000). */
    static final long KEPT_CHARS = 32_000_000;
    private static final long HOUR_MS = 3_600_000;

    /** A group of a series: its key and one point (a JSON object's text) per bucket. */
    record Group(Map<String, Object> key, String[] points) {
        /** The points as a JSON array, written as they are. */
        List<RawValue> json() {
            return Arrays.stream(points).map(RawValue::new).toList();
        }
    }

    /** A kept bucket: the marks of its hours when it was made, and each group's point with its request count. */
    private record Kept(long[] marks, Map<Map<String, Object>, Point> points, long chars) {
    }

    private record Point(long requests, String json) {
    }

    /** What a kept bucket answers: the user, the filters and groups (as text), the bucket's time. */
    private record Key(long userId, String shape, long from, long to) {
    }

    private final UsageQueries queries;
    private final long keptChars;
    private final LinkedHashMap<Key, Kept> kept = new LinkedHashMap<>(256, 0.75f, true);
    private long chars;

    UsageSeries(UsageQueries queries, long keptChars) {
        this.queries = queries;
        this.keptChars = keptChars;
    }

    /**
     * The groups of a series between {@code edges} (see {@link UsageQueries#tally}), at most {@code top} and the
     * rest as "other", ordered by their requests; {@code starts} are the buckets' aligned starts, {@code nowMs} the
     * time that decides which buckets are closed.
     */
    List<Group> series(long userId, UsageFilter f, List<String> groupBy, long[] edges, List<Long> starts, int top,
                       long nowMs) {
        int n = edges.length - 1;
        if (!f.jobIds().isEmpty()) {
            return rendered(queries.tally(userId, f, groupBy, edges, top, true, true), groupBy, starts);
        }
        UsageStore.foldPending(queries.db());
        // the marks are read before the cells: a fold in between leaves newer cells under older marks, made anew
        // next time, never older cells under newer marks
        Map<Long, Long> marks = marks(userId, edges[0], edges[n]);
        String shape = f.dims() + "|" + f.ok() + "|" + groupBy;
        long closedBefore = Math.floorDiv(nowMs, HOUR_MS) * HOUR_MS;
        Answer answer = new Answer(n);
        for (int i = 0; i < n; ) {
            Kept k = keepable(edges, i, closedBefore) ? get(new Key(userId, shape, edges[i], edges[i + 1])) : null;
            if (k != null && Arrays.equals(k.marks, marksOf(marks, edges[i], edges[i + 1]))) {
                int b = i++;
                k.points.forEach((key, p) -> answer.add(key, b, p));
                continue;
            }
            // a run of buckets to read: up to the next one kept (its marks are checked in its turn)
            int j = i + 1;
            while (j < n && !(keepable(edges, j, closedBefore)
                    && get(new Key(userId, shape, edges[j], edges[j + 1])) != null)) {
                j++;
            }
            List<Map<Map<String, Object>, Point>> made = read(userId, f, groupBy, edges, starts, i, j, answer);
            for (int b = i; b < j; b++) {
                if (keepable(edges, b, closedBefore)) {
                    put(new Key(userId, shape, edges[b], edges[b + 1]), marksOf(marks, edges[b], edges[b + 1]),
                            made.get(b - i));
                }
            }
            i = j;
        }
        if (answer.points.size() > top) {
            // "other" adds the histograms of several groups up: only the tallies can
            return rendered(queries.tally(userId, f, groupBy, edges, top, true, true), groupBy, starts);
        }
        return answer.groups(groupBy, starts);
    }

    /** Reads buckets {@code [i, j)} from the rollups into the answer; their points by group, per bucket. */
    private List<Map<Map<String, Object>, Point>> read(long userId, UsageFilter f, List<String> groupBy, long[] edges,
                                                       List<Long> starts, int i, int j, Answer answer) {
        List<UsageQueries.Group> read = queries.tally(userId, f, groupBy, Arrays.copyOfRange(edges, i, j + 1),
                Integer.MAX_VALUE, true, true);
        List<Map<Map<String, Object>, Point>> made = new ArrayList<>();
        for (int b = i; b < j; b++) {
            made.add(new LinkedHashMap<>());
        }
        for (UsageQueries.Group g : read) {
            for (int b = i; b < j; b++) {
                Tally t = g.buckets()[b - i];
                if (t.requests > 0) {
                    Point p = new Point(t.requests, point(starts.get(b), t));
                    made.get(b - i).put(g.key(), p);
                    answer.add(g.key(), b, p);
                }
            }
        }
        return made;
    }

    /** The points of one answer as they are found, by group and bucket, and each group's requests. */
    private static final class Answer {
        final Map<Map<String, Object>, String[]> points = new LinkedHashMap<>();
        final Map<Map<String, Object>, Long> requests = new HashMap<>();
        final int n;

        Answer(int n) {
            this.n = n;
        }

        void add(Map<String, Object> key, int bucket, Point p) {
            points.computeIfAbsent(key, k -> new String[n])[bucket] = p.json;
            requests.merge(key, p.requests, Long::sum);
        }

        /** The groups, empty buckets as empty points, ordered by requests (then key) as the tallies order them. */
        List<Group> groups(List<String> groupBy, List<Long> starts) {
            List<Group> out = new ArrayList<>();
            String[] empty = new String[n];
            points.forEach((key, ps) -> {
                for (int b = 0; b < n; b++) {
                    if (ps[b] == null) {
                        if (empty[b] == null) {
                            empty[b] = point(starts.get(b), new Tally());
                        }
                        ps[b] = empty[b];
                    }
                }
                out.add(new Group(key, ps));
            });
            noneWithoutGroups(out, groupBy, starts);
            out.sort(Comparator.comparingLong((Group g) -> -requests.getOrDefault(g.key(), 0L))
                    .thenComparing(g -> String.valueOf(g.key().values())));
            return out;
        }
    }

    /** Bucket {@code i} is whole hours (both edges on the hour) and closed (ended before the current hour). */
    private static boolean keepable(long[] edges, int i, long closedBefore) {
        return edges[i] % HOUR_MS == 0 && edges[i + 1] % HOUR_MS == 0 && edges[i + 1] <= closedBefore;
    }

    /** The fold's marks (schema/019) of the user's hours in {@code [fromMs, toMs)}, by the hour's epoch minute. */
    private Map<Long, Long> marks(long userId, long fromMs, long toMs) {
        Map<Long, Long> out = new HashMap<>();
        queries.db().read(h -> h.createQuery("""
                        SELECT hour, fold_id FROM usage_hour_marks WHERE user_id = ? AND hour >= ? AND hour < ?""")
                .bind(0, userId).bind(1, Math.floorDiv(fromMs, HOUR_MS) * 60).bind(2, Math.floorDiv(toMs, 60_000))
                .map((rs, ctx) -> out.put(rs.getLong(1), rs.getLong(2))).list());
        return out;
    }

    /** The marks of the hours of a whole-hours bucket, in order (0 for an hour never folded into). */
    private static long[] marksOf(Map<Long, Long> marks, long fromMs, long toMs) {
        long[] out = new long[(int) ((toMs - fromMs) / HOUR_MS)];
        for (int i = 0; i < out.length; i++) {
            out[i] = marks.getOrDefault((fromMs + i * HOUR_MS) / 60_000, 0L);
        }
        return out;
    }

    /** The characters kept now (bounded by the constructor's {@code keptChars}). */
    synchronized long keptChars() {
        return chars;
    }

    private synchronized Kept get(Key k) {
        return kept.get(k);
    }

    private synchronized void put(Key k, long[] marks, Map<Map<String, Object>, Point> points) {
        long size = 64;
        for (Point p : points.values()) {
            size += p.json.length() + 64;
        }
        Kept old = kept.put(k, new Kept(marks, points, size));
        chars += size - (old == null ? 0 : old.chars);
        var eldest = kept.entrySet().iterator();
        while (chars > keptChars && eldest.hasNext()) {
            chars -= eldest.next().getValue().chars;
            eldest.remove();
        }
    }

    /** Groups with every point made from their tallies (nothing kept). */
    private static List<Group> rendered(List<UsageQueries.Group> groups, List<String> groupBy, List<Long> starts) {
        List<Group> out = new ArrayList<>();
        for (UsageQueries.Group g : groups) {
            String[] ps = new String[g.buckets().length];
            for (int b = 0; b < ps.length; b++) {
                ps[b] = point(starts.get(b), g.buckets()[b]);
            }
            out.add(new Group(g.key(), ps));
        }
        noneWithoutGroups(out, groupBy, starts);
        return out;
    }

    /** A series not grouped shows one group even without rows: its points all empty. */
    private static void noneWithoutGroups(List<Group> out, List<String> groupBy, List<Long> starts) {
        if (out.isEmpty() && groupBy.isEmpty()) {
            String[] none = new String[starts.size()];
            for (int b = 0; b < none.length; b++) {
                none[b] = point(starts.get(b), new Tally());
            }
            out.add(new Group(Map.of(), none));
        }
    }

    /** One point's JSON text ({@link UsageAnswers#point}). */
    private static String point(long t, Tally x) {
        StringWriter w = new StringWriter(320);
        try (JsonGenerator g = Json.MAPPER.createGenerator(w)) {
            UsageAnswers.point(g, t, x);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return w.toString();
    }
}
