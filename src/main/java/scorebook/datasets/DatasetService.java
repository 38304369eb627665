package scorebook.datasets;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import scorebook.auth.Principal;
import scorebook.server.ApiException;
import scorebook.server.Errors;
import scorebook.server.Json;
import scorebook.server.JsonErrors;
import scorebook.usage.UsageFilter;

/**
 * User datasets (user token): rows kept in SQLite with {@code _meta_user_id}, {@code _meta_dataset} and
 * {@code _meta_ts} added; an enabled adapter turns each row into a usage row.
 * <pre>
 * POST /user/data/append_jsonl   {dataset, rows: [...]} or an NDJSON body with ?dataset=
 *   curl -H "X-User-Token: $T" -d '{"dataset":"bench","rows":[{"ts":"2025-12-03T18:00:00Z","latency_ms":900}]}' \
 *        http://127.0.0.1:8080/user/data/append_jsonl
 * GET  /user/data/list           {datasets: [{name, rows, first_ts, last_ts, adapter_enabled}]}
 * GET  /user/data/get            ?dataset=&amp;limit=&amp;order=asc|desc&amp;cursor= → {dataset, rows, next_cursor}; format=ndjson
 *   curl -H "X-User-Token: $T" 'http://127.0.0.1:8080/user/data/get?dataset=bench&amp;format=ndjson'
 * GET  /user/data/metrics        ?dataset=&amp;from=&amp;to=&amp;bucket= → per mapped field count, avg, min, max, p50, p95, series
 * GET  /user/data/get_adapter    ?dataset= (404 when none)
 * POST /user/data/save_adapter   {dataset, enabled, x_field, device_field, model_field, prompt_tokens_field,
 *                                 completion_tokens_field, latency_ms_field, ttft_ms_field, extra_fields: [{label, field, kind}]}
 * POST /user/data/preview_adapter?limit=10   a save_adapter body, not saved → {dataset, enabled, rows: [{row, usage, skipped}]}
 *   curl -H "X-User-Token: $T" -d '{"dataset":"bench","x_field":"ts","latency_ms_field":"ms"}' \
 *        'http://127.0.0.1:8080/user/data/preview_adapter?limit=5'
 * </pre>
 */
public final class DatasetService implements HttpService {
    private static final int GET_LIMIT = 100;
    private static final int GET_MAX = 10_000;
    private static final int PREVIEW_LIMIT = 10;
    private static final int PREVIEW_MAX = 100;

    private final Datasets datasets;
    private final DatasetStore store;

    public DatasetService(Datasets datasets, DatasetStore store) {
        this.datasets = datasets;
        this.store = store;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/user/data/append_jsonl", this::append)
                .get("/user/data/list", this::list)
                .get("/user/data/get", this::get)
                .get("/user/data/metrics", this::metrics)
                .get("/user/data/get_adapter", this::getAdapter)
                .post("/user/data/save_adapter", this::saveAdapter)
                .post("/user/data/preview_adapter", this::previewAdapter)
                .any("/user/data/append_jsonl", Errors.allow("POST"))
                .any("/user/data/list", Errors.allow("GET"))
                .any("/user/data/get", Errors.allow("GET"))
                .any("/user/data/metrics", Errors.allow("GET"))
                .any("/user/data/get_adapter", Errors.allow("GET"))
                .any("/user/data/save_adapter", Errors.allow("POST"))
                .any("/user/data/preview_adapter", Errors.allow("POST"));
    }

    private void append(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        String query = req.query().first("dataset").orElse(null);
        String type = req.headers().contentType().map(t -> t.mediaType().text()).orElse("");
        boolean ndjson = type.contains("ndjson") || type.contains("jsonl");
        byte[] bytes = bytes(req);
        // most bodies are read in one streaming pass; the others (and every error) as trees
        Datasets.Appended a = datasets.appendBody(p.userId(), bytes, query, ndjson);
        if (a == null) {
            a = appendTrees(p, query, ndjson, new String(bytes, StandardCharsets.UTF_8));
        }
        Json.send(res, Json.fields("ok", true, "dataset", a.dataset(), "appended", a.appended(),
                "usage_recorded", a.usageRecorded(), "skipped", a.skipped()));
    }

    private Datasets.Appended appendTrees(Principal p, String query, boolean ndjson, String body) {
        String dataset;
        List<JsonNode> rows;
        JsonNode whole = ndjson ? null : wholeBody(body, query != null);
        if (whole != null && whole.isObject() && whole.has("rows")) {
            dataset = Datasets.checkName("dataset", whole.has("dataset") || query == null ? whole.get("dataset")
                    : Json.MAPPER.getNodeFactory().textNode(query));
            JsonNode list = whole.get("rows");
            if (!list.isArray()) {
                throw ApiException.invalid("'rows' must be a list of JSON objects");
            }
            rows = new ArrayList<>(list.size());
            list.forEach(rows::add);
        } else if (query != null) {
            dataset = Datasets.checkName("dataset", Json.MAPPER.getNodeFactory().textNode(query));
            rows = ndjson(body);
        } else {
            throw ApiException.invalid("send {\"dataset\": NAME, \"rows\": [...]}, or NDJSON rows with ?dataset=NAME");
        }
        return datasets.append(p.userId(), dataset, rows, true);
    }

    /** The body as one JSON value; null when it is several lines of JSON and NDJSON is allowed. */
    private static JsonNode wholeBody(String body, boolean ndjsonAllowed) {
        if (body.isBlank()) {
            throw ApiException.invalid("the body is empty: send {\"dataset\": NAME, \"rows\": [...]}");
        }
        try {
            return Json.MAPPER.readTree(body);
        } catch (JsonProcessingException e) {
            if (ndjsonAllowed) {
                return null;
            }
            throw ApiException.badRequest(JsonErrors.describe("the body", e));
        }
    }

    private static List<JsonNode> ndjson(String body) {
        List<JsonNode> rows = new ArrayList<>();
        String[] lines = body.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].isBlank()) {
                continue;
            }
            try {
                rows.add(Json.MAPPER.readTree(lines[i]));
            } catch (JsonProcessingException e) {
                throw ApiException.badRequest(JsonErrors.describe("line " + (i + 1), e));
            }
        }
        return rows;
    }

    private static byte[] bytes(ServerRequest req) {
        if (!req.content().hasEntity()) {
            return new byte[0];
        }
        try (InputStream in = req.content().inputStream()) {
            // read once into an array of the announced size (readAllBytes copies a large body twice)
            long length = req.headers().contentLength().orElse(-1);
            return length >= 0 && length < Integer.MAX_VALUE - 8 ? in.readNBytes((int) length) : in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void list(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        List<Object> out = new ArrayList<>();
        for (DatasetStore.Dataset d : store.list(p.userId())) {
            out.add(Json.fields("name", d.name(), "rows", d.rows(), "first_ts", d.firstTs(), "last_ts", d.lastTs(),
                    "adapter_enabled", d.adapter() != null && Adapter.fromJson(d.adapter()).enabled()));
        }
        Json.send(res, Json.fields("datasets", out));
    }

    private DatasetStore.Dataset dataset(ServerRequest req, Principal p) {
        String name = Datasets.checkName("dataset", req.query().first("dataset").map(Json.MAPPER.getNodeFactory()::textNode)
                .orElse(null));
        return store.find(p.userId(), name).orElseThrow(() -> ApiException.notFound("no dataset named '" + name + "'"));
    }

    private void get(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        DatasetStore.Dataset d = dataset(req, p);
        if (req.query().first("format").orElse("json").equals("ndjson")) {
            res.header(HeaderNames.CONTENT_TYPE, "application/x-ndjson");
            res.header(HeaderNames.CONTENT_DISPOSITION, "attachment; filename=\"" + d.name() + ".jsonl\"");
            try (OutputStream out = new java.io.BufferedOutputStream(res.outputStream(), 1 << 16)) {
                store.forEach(p.userId(), d, row -> {
                    try {
                        out.write(row.getBytes(StandardCharsets.UTF_8));
                        out.write('\n');
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return;
        }
        int limit = (int) number(req, "limit", GET_LIMIT, GET_MAX);
        String order = req.query().first("order").orElse("asc");
        if (!order.equals("asc") && !order.equals("desc")) {
            throw ApiException.invalid("'order' must be asc or desc, not '" + order + "'");
        }
        Long after = req.query().first("cursor").map(DatasetService::cursor).orElse(null);
        List<DatasetStore.StoredRow> page = store.page(d.id(), limit + 1, order.equals("desc"), after);
        boolean more = page.size() > limit;
        List<DatasetStore.StoredRow> shown = more ? page.subList(0, limit) : page;
        List<Object> rows = new ArrayList<>(shown.size());
        shown.forEach(r -> rows.add(new RawValue(r.json(p.userId(), d.name()))));
        String next = more ? Base64.getUrlEncoder().withoutPadding()
                .encodeToString(Long.toString(shown.getLast().id()).getBytes(StandardCharsets.UTF_8)) : null;
        Json.send(res, Json.fields("dataset", d.name(), "rows", rows, "next_cursor", next));
    }

    private static long cursor(String c) {
        try {
            return Long.parseLong(new String(Base64.getUrlDecoder().decode(c), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid("'cursor' is not one this server gave out");
        }
    }

    private static long number(ServerRequest req, String name, long fallback, long max) {
        String v = req.query().first(name).orElse(null);
        return v == null || v.isBlank() ? fallback : UsageFilter.positiveOrInvalid(name, v, max);
    }

    private void metrics(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        DatasetStore.Dataset d = dataset(req, p);
        Long from = req.query().first("from").map(v -> UsageFilter.instant("from", v)).orElse(null);
        Long to = req.query().first("to").map(v -> UsageFilter.instant("to", v)).orElse(null);
        if (from != null && to != null && from >= to) {
            throw ApiException.invalid("'from' must be before 'to'");
        }
        Json.send(res, datasets.metrics(p.userId(), d, from, to, req.query().first("bucket").orElse(null)));
    }

    private void getAdapter(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        DatasetStore.Dataset d = dataset(req, p);
        if (d.adapter() == null) {
            throw ApiException.notFound("dataset '" + d.name() + "' has no adapter");
        }
        Json.send(res, Adapter.fromJson(d.adapter()).toJson());
    }

    private void previewAdapter(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        int limit = (int) number(req, "limit", PREVIEW_LIMIT, PREVIEW_MAX);
        Json.send(res, datasets.previewAdapter(p.userId(), Json.object(req), limit));
    }

    private void saveAdapter(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        ObjectNode body = Json.object(req);
        Adapter a = datasets.saveAdapter(p.userId(), body);
        Json.send(res, Status.OK_200, Json.fields("ok", true, "adapter", a.toJson()));
    }
}
