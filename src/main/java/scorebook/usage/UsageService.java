package scorebook.usage;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.function.Function;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import scorebook.auth.Principal;
import scorebook.server.ApiException;
import scorebook.server.Errors;
import scorebook.server.IdempotencyKey;
import scorebook.server.Json;

/**
 * Usage analytics over every model call, job, dataset row and import (user token). Time range everywhere:
 * {@code from}/{@code to} (ISO-8601 or epoch s/ms), {@code minutes}, {@code since_s}; default the last 24 h.
 * Filters (repeatable or comma lists): model, device, tag, tenant, dataset, source_kind, ok, job_id; warm-up
 * calls are left out unless source_kind names them.
 * <pre>
 * GET  /usage                 view=series (bucket, up to two group_by) | breakdown | raw (limit, cursor)
 *   curl -H "X-User-Token: $T" 'http://127.0.0.1:8080/usage?bucket=1h&amp;group_by=model'
 * GET  /usage/summary         KPIs: requests, errors, tokens, latency/TTFT percentiles, tok/s, extra
 *   curl -H "X-User-Token: $T" 'http://127.0.0.1:8080/usage/summary?minutes=60&amp;model=llama3'
 * GET  /usage/compare         a_/b_ prefixed ranges and filters → {a, b, delta, rows, warnings}
 *   curl -H "X-User-Token: $T" 'http://127.0.0.1:8080/usage/compare?a_model=x&amp;b_model=y&amp;group_by=device'
 * GET  /usage/export.csv      the rows as CSV, streamed
 *   curl -H "X-User-Token: $T" -o usage.csv 'http://127.0.0.1:8080/usage/export.csv?minutes=1440'
 * POST /usage/import          JSON array, NDJSON or our CSV; strict=1, dry_run=1, source_kind; an Idempotency-Key
 *                             header replays the first answer for 24 h
 *   curl -H "X-User-Token: $T" -H 'Content-Type: text/csv' --data-binary @usage.csv http://127.0.0.1:8080/usage/import
 * </pre>
 */
public final class UsageService implements HttpService {
    static final int MAX_IMPORT_ROWS = 10_000;
    static final int MAX_IMPORT_BYTES = 10 * 1024 * 1024;
    private static final int LOW_SAMPLE = 10;
    private static final int RAW_LIMIT = 100;
    private static final int RAW_MAX = 1_000;
    /** Where a comparison's second side is read. */
    private static final Executor SIDES = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("usage-compare-", 0).factory());

    private final UsageQueries queries;
    private final UsageReports reports;
    private final UsageStore store;
    private final ImportKeys keys;
    private final Clock clock;

    public UsageService(UsageReports reports, UsageStore store, ImportKeys keys, Clock clock) {
        this.queries = reports.queries();
        this.reports = reports;
        this.keys = keys;
        this.store = store;
        this.clock = clock;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/usage", this::usage)
                .get("/usage/summary", this::summary)
                .get("/usage/compare", this::compare)
                .get("/usage/export.csv", this::export)
                .post("/usage/import", this::importRows)
                .any("/usage", Errors.allow("GET"))
                .any("/usage/summary", Errors.allow("GET"))
                .any("/usage/compare", Errors.allow("GET"))
                .any("/usage/export.csv", Errors.allow("GET"))
                .any("/usage/import", Errors.allow("POST"));
    }

    private void usage(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        Function<String, List<String>> q = params(req);
        UsageFilter f = UsageFilter.parse(q, "", clock);
        String view = first(q, "view", "series");
        switch (view) {
            case "series" -> Json.send(res, series(p.userId(), f, q));
            case "breakdown" -> Json.send(res, breakdown(p.userId(), f, q));
            case "raw" -> Json.send(res, raw(p.userId(), f, q));
            default -> throw ApiException.invalid("'view' must be series, breakdown or raw, not '" + view + "'");
        }
    }

    private Map<String, Object> series(long userId, UsageFilter f, Function<String, List<String>> q) {
        String asked = first(q, "bucket", first(q, "interval", null));
        return reports.series(userId, f, groupBy(q), UsageBuckets.pick(asked, f.toMs() - f.fromMs()), zone(q), top(q));
    }

    private Map<String, Object> breakdown(long userId, UsageFilter f, Function<String, List<String>> q) {
        List<String> groupBy = groupBy(q);
        List<Object> rows = new ArrayList<>();
        for (UsageQueries.Group g : queries.tally(userId, f, groupBy, null, top(q), true)) {
            rows.add(UsageAnswers.breakdownRow(g.key(), g.total()));
        }
        return Json.fields("from", UsageStore.iso(f.fromMs()), "to", UsageStore.iso(f.toMs()), "group_by", groupBy,
                "filters", f.describe(), "rows", rows);
    }

    private Map<String, Object> raw(long userId, UsageFilter f, Function<String, List<String>> q) {
        int limit = (int) UsageFilter.positive("limit", first(q, "limit", String.valueOf(RAW_LIMIT)), RAW_MAX);
        String cursor = first(q, "cursor", null);
        UsageQueries.Page page = queries.raw(userId, f, limit, cursor);
        return Json.fields("from", UsageStore.iso(f.fromMs()), "to", UsageStore.iso(f.toMs()), "filters", f.describe(),
                "events", page.events(), "next_cursor", page.nextCursor());
    }

    private void summary(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        UsageFilter f = UsageFilter.parse(params(req), "", clock);
        Json.send(res, reports.summary(p.userId(), f));
    }

    private void compare(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        Function<String, List<String>> q = params(req);
        UsageFilter fa = UsageFilter.parse(q, "a_", clock);
        UsageFilter fb = UsageFilter.parse(q, "b_", clock);
        List<String> groupBy = groupBy(q);
        Map<String, String> metrics = queries.compareMetrics();
        // the sides are read at once, each on its own read connection and core: a comparison takes about one's time
        CompletableFuture<List<UsageQueries.Group>> sideB = CompletableFuture.supplyAsync(
                () -> queries.tally(p.userId(), fb, groupBy, null, Integer.MAX_VALUE, true), SIDES);
        List<UsageQueries.Group> ga = queries.tally(p.userId(), fa, groupBy, null, Integer.MAX_VALUE, true);
        List<UsageQueries.Group> gb;
        try {
            gb = sideB.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
        Tally ta = new Tally();
        ga.forEach(g -> ta.merge(g.total()));
        Tally tb = new Tally();
        gb.forEach(g -> tb.merge(g.total()));
        Map<String, Object> sa = UsageAnswers.summary(ta, fa.toMs() - fa.fromMs());
        Map<String, Object> sb = UsageAnswers.summary(tb, fb.toMs() - fb.fromMs());
        List<String> warnings = new ArrayList<>();
        lowSample(warnings, "", ta, tb);
        List<Object> rows = new ArrayList<>();
        if (!groupBy.isEmpty()) {
            Map<Map<String, Object>, Tally[]> joined = new LinkedHashMap<>();
            ga.forEach(g -> joined.computeIfAbsent(g.key(), k -> new Tally[] {new Tally(), new Tally()})[0].merge(g.total()));
            gb.forEach(g -> joined.computeIfAbsent(g.key(), k -> new Tally[] {new Tally(), new Tally()})[1].merge(g.total()));
            joined.forEach((key, pair) -> {
                Map<String, Object> ra = UsageAnswers.summary(pair[0], fa.toMs() - fa.fromMs());
                Map<String, Object> rb = UsageAnswers.summary(pair[1], fb.toMs() - fb.fromMs());
                List<String> rowWarnings = new ArrayList<>();
                lowSample(rowWarnings, "", pair[0], pair[1]);
                rows.add(Json.fields("key", key, "a", ra, "b", rb, "delta", UsageAnswers.delta(ra, rb, metrics),
                        "warnings", rowWarnings));
            });
        }
        Json.send(res, Json.fields(
                "a", Json.fields("filters", fa.describe(), "summary", sa),
                "b", Json.fields("filters", fb.describe(), "summary", sb),
                "delta", UsageAnswers.delta(sa, sb, metrics),
                "group_by", groupBy,
                "rows", rows,
                "warnings", warnings));
    }

    private static void lowSample(List<String> warnings, String suffix, Tally a, Tally b) {
        if (a.requests < LOW_SAMPLE) {
            warnings.add("low_sample:a" + suffix);
        }
        if (b.requests < LOW_SAMPLE) {
            warnings.add("low_sample:b" + suffix);
        }
    }

    private void export(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        UsageFilter f = UsageFilter.parse(params(req), "", clock);
        List<String> labels = new ArrayList<>(queries.total(p.userId(), f, false).extra.keySet());
        res.header(HeaderNames.CONTENT_TYPE, "text/csv; charset=utf-8");
        res.header(HeaderNames.CONTENT_DISPOSITION, "attachment; filename=\"usage_" + fileTime(f.fromMs()) + "_"
                + fileTime(f.toMs()) + ".csv\"");
        try (OutputStream out = res.outputStream()) {
            UsageCsv.export(queries.db(), p.userId(), f, labels, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String fileTime(long ms) {
        return UsageStore.iso(ms).replace(":", "").replace("-", "").replace(".000", "");
    }

    private void importRows(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        Function<String, List<String>> q = params(req);
        boolean strict = UsageFilter.bool("strict", first(q, "strict", "0"));
        boolean dryRun = UsageFilter.bool("dry_run", first(q, "dry_run", "0"));
        String source = first(q, "source_kind", "import");
        String key = IdempotencyKey.of(req);
        byte[] body = body(req);
        String type = req.headers().contentType().map(t -> t.mediaType().text()).orElse("");
        String hash = key == null ? null : ImportKeys.hash(body, type, strict, dryRun, source);
        Optional<ImportKeys.Answer> kept = key == null ? Optional.empty() : keys.find(p.userId(), key, clock.millis());
        if (kept.isPresent()) {
            replay(res, key, hash, kept.get());
            return;
        }
        UsageImport.Result r = UsageImport.run(store, p.userId(), body, type, MAX_IMPORT_ROWS, source, clock.millis(),
                strict, dryRun);
        Map<String, Object> answer = Json.fields("ok", r.failed() == 0 || !strict, "received", r.received(),
                "imported", r.imported(), "duplicates", r.duplicates(), "failed", r.failed(), "dry_run", dryRun,
                "errors", r.errors());
        Status status = Status.OK_200;
        // with strict=0 valid rows are kept and the answer is 200; a body none of whose rows could be read is a 422
        boolean nothingReadable = r.received() > 0 && r.failed() == r.received();
        if ((strict || nothingReadable) && r.failed() > 0) {
            String message = nothingReadable
                    ? "none of the " + r.received() + " rows is a valid usage row; nothing was imported"
                    : r.failed() + " of " + r.received() + " rows are invalid; nothing was imported (strict=1)";
            answer.put("ok", false);
            answer.put("detail", message);
            answer.put("error", Json.fields("code", "invalid", "message", message));
            status = Status.UNPROCESSABLE_CONTENT_422;
        }
        if (key != null) {
            keys.remember(p.userId(), key, new ImportKeys.Answer(hash, status.code(), Json.text(answer)), clock.millis());
        }
        Json.send(res, status, answer);
    }

    /** The answer kept for the key, when the request is the same as the one it answered; else 409. */
    private static void replay(ServerResponse res, String key, String hash, ImportKeys.Answer kept) {
        if (!kept.bodyHash().equals(hash)) {
            throw ApiException.conflict("the Idempotency-Key '" + key
                    + "' was used in the last 24 hours for another import (body, content type or parameters)");
        }
        res.status(Status.create(kept.status()));
        res.header(IdempotencyKey.REPLAYED, "true");
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(kept.answer().getBytes(StandardCharsets.UTF_8));
    }

    /** The body's bytes, valid UTF-8 (else 400), at most 10 MB (413 above). */
    private static byte[] body(ServerRequest req) {
        if (!req.content().hasEntity()) {
            return new byte[0];
        }
        try (InputStream in = req.content().inputStream()) {
            byte[] bytes = in.readNBytes(MAX_IMPORT_BYTES + 1);
            if (bytes.length > MAX_IMPORT_BYTES) {
                throw new ApiException(Status.REQUEST_ENTITY_TOO_LARGE_413, "too_large",
                        "an import is at most 10 MB; split the rows into several requests");
            }
            Json.requireUtf8(bytes);
            return bytes;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Function<String, List<String>> params(ServerRequest req) {
        return name -> req.query().contains(name) ? req.query().all(name) : List.of();
    }

    private static String first(Function<String, List<String>> q, String name, String fallback) {
        List<String> v = q.apply(name);
        return v.isEmpty() || v.getFirst().isBlank() ? fallback : v.getFirst().strip();
    }

    private static List<String> groupBy(Function<String, List<String>> q) {
        List<String> g = UsageFilter.list(q.apply("group_by"));
        for (String k : g) {
            if (!UsageQueries.GROUPS.contains(k)) {
                throw ApiException.invalid("'group_by' takes " + String.join(", ", UsageQueries.GROUPS) + ", not '" + k + "'");
            }
        }
        if (g.size() > 2 || g.stream().distinct().count() != g.size()) {
            throw ApiException.invalid("'group_by' takes at most two different keys");
        }
        return g;
    }

    private static int top(Function<String, List<String>> q) {
        return (int) UsageFilter.positive("top", first(q, "top", "20"), 1000);
    }

    private static ZoneId zone(Function<String, List<String>> q) {
        String tz = first(q, "tz", null);
        if (tz == null) {
            return ZoneOffset.UTC;
        }
        try {
            return ZoneId.of(tz);
        } catch (DateTimeException e) {
            throw ApiException.invalid("'tz' must be an IANA time zone such as Europe/Paris, not '" + tz + "'");
        }
    }
}
