package scorebook.evals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.helidon.common.uri.UriEncoding;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.auth.Principal;
import scorebook.server.ApiException;
import scorebook.server.Errors;
import scorebook.server.Json;
import scorebook.server.Names;
import scorebook.store.Database;

/**
 * Eval results: sessions, runs, result rows, scores, annotations, exports and eval config, as the
 * eval-results API reference has them, plus a way in for scripts (create a run, append rows, import a
 * run document). {@code latest} in a path means the user's active run where the reference allows it.
 * <pre>
 * GET    /results                              the active run with totals and score chips
 * GET    /api/runs/{run_id}/results/{index}    one result ({@code latest} = active run)
 * PATCH  /api/runs/{run_id}/results/{index}    {"result": {annotation?, annotations?, scores?}} (active run only)
 *   curl -X PATCH -H "X-User-Token: $T" -d '{"result":{"annotation":"ok"}}' http://127.0.0.1:8080/api/runs/latest/results/0
 * POST   /api/runs                             {"session_name", "run_name"?, "eval_path"?} → empty run, made active
 *   curl -H "X-User-Token: $T" -d '{"session_name":"nightly"}' http://127.0.0.1:8080/api/runs
 * POST   /api/runs/{run_id}/results            {"results": [{"function", "dataset"?, "labels"?, "result": {...}}]}
 *   curl -H "X-User-Token: $T" -d '{"results":[{"function":"f","result":{"output":"4"}}]}' \
 *        http://127.0.0.1:8080/api/runs/latest/results
 * POST   /api/runs/import                      a run document as the JSON export writes it → new run, made active
 * PATCH  /api/runs/{run_id}                    {"run_name"} rename
 * DELETE /api/runs/{run_id}                    delete a run
 * POST   /api/runs/{run_id}/activate           make it the active run
 * GET    /api/runs/{run_id}/data               any run, same shape as /results (comparison)
 * GET    /api/runs/{run_id}/rows               a page of rows, searched, filtered and sorted, with counts and chips
 *   curl -H "X-User-Token: $T" 'http://127.0.0.1:8080/api/runs/latest/rows?limit=50&has_error=1&sort=-latency'
 * GET    /api/compare                          up to 4 runs' cases matched, regressions first, one page of them
 *   curl -H "X-User-Token: $T" 'http://127.0.0.1:8080/api/compare?run_id=A&run_id=B&only_changed=1&limit=50'
 * GET    /api/runs/{run_id}/export/json        the run document (download)
 * GET    /api/runs/{run_id}/export/csv         12-column CSV (download, streamed)
 * POST   /api/runs/{run_id}/export/markdown    Markdown report of the visible rows, or of compared runs
 * GET    /api/sessions                         {"sessions": [names]}
 * GET    /api/sessions/{name}/runs             the session's runs, newest first
 * DELETE /api/sessions/{name}                  delete a session's runs
 * GET    /api/config, PUT /api/config          {"concurrency", "timeout", "verbose"}
 *   curl -X PUT -H "X-User-Token: $T" -d '{"concurrency":8}' http://127.0.0.1:8080/api/config
 * </pre>
 */
public final class EvalService implements HttpService {
    /** Paths under /api/runs/ that belong to the runner; this service lets them pass. */
    private static final Set<String> RUNNER_PATHS = Set.of("rerun", "new", "stop");
    private static final Set<String> NEW_RUN_FIELDS = Set.of("session_name", "run_name", "eval_path");
    private static final Set<String> EDITABLE = Set.of("annotation", "annotations", "scores");

    private final EvalStore store;
    private final ConfigStore config;
    private final RowsCache rowsCache;

    private final Discovered discovered;
    private final RowsChanged rowsChanged;
    private final String evalPath;

    /**
     * Over the server's store. With a runner, a user without a run sees the discovered cases as not_started rows,
     * and an edited result goes out on the run's live stream through {@code rowsChanged}.
     */
    public EvalService(EvalStore store, Database db, Discovered discovered, RowsChanged rowsChanged, String evalPath) {
        this.store = store;
        this.rowsCache = new RowsCache(db);
        this.config = new ConfigStore(db);
        this.discovered = discovered;
        this.rowsChanged = rowsChanged;
        this.evalPath = evalPath;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/results", this::activeRun)
                .post("/api/runs", this::createRun)
                .post("/api/runs/import", this::importRun)
                .any("/api/runs/import", Errors.allow("POST"))
                .get("/api/runs/{run_id}/results/{index}", this::result)
                .patch("/api/runs/{run_id}/results/{index}", this::editResult)
                .post("/api/runs/{run_id}/results", this::append)
                .patch("/api/runs/{run_id}", unlessRunner(this::rename))
                .delete("/api/runs/{run_id}", unlessRunner(this::deleteRun))
                .post("/api/runs/{run_id}/activate", this::activate)
                .get("/api/runs/{run_id}/data", this::runData)
                .get("/api/runs/{run_id}/rows", this::rows)
                .get("/api/compare", this::compare)
                .get("/api/runs/{run_id}/export/json", this::exportJson)
                .get("/api/runs/{run_id}/export/csv", this::exportCsv)
                .post("/api/runs/{run_id}/export/markdown", this::exportMarkdown)
                .get("/api/sessions", this::sessions)
                .any("/api/sessions/{+rest}", this::session)
                .get("/api/config", this::getConfig)
                .put("/api/config", this::putConfig)
                .any("/results", Errors.allow("GET"))
                .any("/api/runs", Errors.allow("POST"))
                .any("/api/runs/{run_id}", unlessRunner(Errors.allow("PATCH, DELETE")))
                .any("/api/runs/{run_id}/results", Errors.allow("POST"))
                .any("/api/runs/{run_id}/results/{index}", Errors.allow("GET, PATCH"))
                .any("/api/runs/{run_id}/activate", Errors.allow("POST"))
                .any("/api/runs/{run_id}/data", Errors.allow("GET"))
                .any("/api/runs/{run_id}/rows", Errors.allow("GET"))
                .any("/api/compare", Errors.allow("GET"))
                .any("/api/runs/{run_id}/export/json", Errors.allow("GET"))
                .any("/api/runs/{run_id}/export/csv", Errors.allow("GET"))
                .any("/api/runs/{run_id}/export/markdown", Errors.allow("POST"))
                .any("/api/sessions", Errors.allow("GET"))
                .any("/api/config", Errors.allow("GET, PUT"));
    }

    private void activeRun(ServerRequest req, ServerResponse res) throws IOException {
        // the active run is looked up once, in the read that sends it
        boolean sent = store.readActiveIfAny(user(req), view -> {
            streamJson(res, g -> RunJson.results(g, view, true));
            return true;
        }).isPresent();
        if (!sent) {
            List<ResultRow> rows = discovered.notStarted();
            if (rows.isEmpty()) {
                throw ApiException.notFound("Active run not found");
            }
            streamJson(res, g -> RunJson.discovered(g, rows, evalPath));
        }
    }

    private void runData(ServerRequest req, ServerResponse res) throws IOException {
        store.readRun(user(req), runId(req), false, view -> {
            streamJson(res, g -> RunJson.results(g, view, false));
            return null;
        });
    }

    private void rows(ServerRequest req, ServerResponse res) throws IOException {
        RowQuery query = RowQuery.parse(req.query().toMap());
        RowsCache.Version version = rowsCache.version();
        store.readRun(user(req), runId(req), true, view -> {
            RowsSql.Selection sel = rowsCache.select(view, query, version);
            List<RowsSql.Indexed> rows = view.rowsAt(sel.page(query.offset(), query.limit()));
            sendJson(res, g -> RunJson.rows(g, view.run(), sel, rows, query));
            return null;
        });
    }

    private void compare(ServerRequest req, ServerResponse res) throws IOException {
        RunCompare.Query query = RunCompare.Query.parse(req.query().toMap());
        store.readRuns(user(req), query.runIds(), (views, h) -> {
            streamJson(res, g -> RunCompare.write(g, views, query, h));
            return null;
        });
    }

    private void result(ServerRequest req, ServerResponse res) throws IOException {
        int index = index(req);
        store.readRun(user(req), runId(req), true, view -> {
            byte[] row = view.rawRow(index).orElseThrow(() -> ApiException.notFound("Result not found"));
            int total = view.size();
            EvalStore.Run run = view.run();
            streamJson(res, g -> {
                g.writeStartObject();
                g.writeFieldName("result");
                g.writeRawValue(new RawJson(row));
                g.writeNumberField("index", index);
                g.writeNumberField("total", total);
                g.writeStringField("run_id", run.runId());
                g.writeStringField("session_name", run.sessionName());
                g.writeStringField("run_name", run.runName());
                g.writeStringField("eval_path", run.evalPath());
                g.writeEndObject();
            });
            return null;
        });
    }

    private void editResult(ServerRequest req, ServerResponse res) throws IOException {
        ObjectNode body = Json.object(req);
        RowParser.onlyFields(body, "", Set.of("result"));
        JsonNode result = body.has("result") ? body.get("result") : Json.MAPPER.createObjectNode();
        RowParser.object(result, "result");
        for (Iterator<String> it = result.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!EDITABLE.contains(f)) {
                throw ApiException.invalid("'result." + f + "' cannot be changed: only annotation, annotations and scores can");
            }
        }
        EvalStore.Edit edit = new EvalStore.Edit(
                result.has("annotation"), RowParser.optionalText(result.get("annotation"), "result.annotation"),
                result.has("annotations"), RowParser.json(result.get("annotations")),
                result.has("scores"), RowParser.scores(result.get("scores"), "result.scores"));
        long user = user(req);
        int index = index(req);
        EvalStore.Edited edited = store.editResult(user, runId(req), index, edit);
        rowsChanged.changed(user, edited.runId(), List.of(index));
        ResultRow row = edited.row();
        streamJson(res, g -> {
            g.writeStartObject();
            g.writeBooleanField("ok", true);
            g.writeFieldName("result");
            RunJson.row(g, row);
            g.writeEndObject();
        });
    }

    private void createRun(ServerRequest req, ServerResponse res) {
        ObjectNode body = Json.object(req);
        RowParser.onlyFields(body, "", NEW_RUN_FIELDS);
        String session = Names.required(body, "session_name");
        String name = body.hasNonNull("run_name") ? Names.required(body, "run_name") : FriendlyNames.random();
        String path = RowParser.optionalText(body.get("eval_path"), "eval_path");
        EvalStore.Run run = store.createRun(user(req), new EvalStore.NewRun(session, name, path, null, null, null, null, null));
        Json.send(res, Status.CREATED_201, created(run, null));
    }

    private void importRun(ServerRequest req, ServerResponse res) {
        RowParser.Document doc = RowParser.document(Json.object(req));
        EvalStore.Run run = store.importRun(user(req), doc.run(), doc.rows());
        Json.send(res, Status.CREATED_201, created(run, doc.rows().size()));
    }

    private void append(ServerRequest req, ServerResponse res) {
        ObjectNode body = Json.object(req);
        RowParser.onlyFields(body, "", Set.of("results"));
        JsonNode results = body.get("results");
        if (results == null || !results.isArray() || results.isEmpty()) {
            throw ApiException.invalid("'results' is required and must be a non-empty list of result rows");
        }
        EvalStore.Appended a = store.append(user(req), runId(req), RowParser.rows(results));
        Json.send(res, Json.fields("ok", true, "count", a.count(), "first_index", a.firstIndex()));
    }

    private void rename(ServerRequest req, ServerResponse res) {
        ObjectNode body = Json.object(req);
        RowParser.onlyFields(body, "", Set.of("run_name"));
        EvalStore.Run run = store.rename(user(req), runId(req), Names.required(body, "run_name"));
        Json.send(res, Json.fields("ok", true, "run", Json.fields("run_id", run.runId(), "run_name", run.runName())));
    }

    private void deleteRun(ServerRequest req, ServerResponse res) {
        store.deleteRun(user(req), runId(req));
        Json.send(res, Map.of("ok", true));
    }

    private void activate(ServerRequest req, ServerResponse res) {
        EvalStore.Run run = store.activate(user(req), runId(req));
        Json.send(res, created(run, null));
    }

    private void sessions(ServerRequest req, ServerResponse res) {
        Json.send(res, Map.of("sessions", store.sessions(user(req))));
    }

    /**
     * {@code GET /api/sessions/{name}/runs} and {@code DELETE /api/sessions/{name}}. The name is taken
     * from the raw path, so that a session name holding "/" (sent as %2F) is one segment.
     */
    private void session(ServerRequest req, ServerResponse res) throws Exception {
        String[] parts = req.path().rawPath().substring("/api/sessions/".length()).split("/", -1);
        boolean runs = parts.length == 2 && parts[1].equals("runs");
        if (parts[0].isEmpty() || !(parts.length == 1 || runs)) {
            throw ApiException.notFound("no such endpoint: " + req.prologue().method().text() + " " + req.path().rawPath());
        }
        String name = UriEncoding.decodeUri(parts[0]);
        Method method = req.prologue().method();
        if (runs && method == Method.GET) {
            Json.send(res, Json.fields("session_name", name, "runs", store.runs(user(req), name)));
        } else if (!runs && method == Method.DELETE) {
            store.deleteSession(user(req), name);
            Json.send(res, Map.of("ok", true));
        } else {
            Errors.allow(runs ? "GET" : "DELETE").handle(req, res);
        }
    }

    private void getConfig(ServerRequest req, ServerResponse res) {
        Json.send(res, config.get(user(req)));
    }

    private void putConfig(ServerRequest req, ServerResponse res) {
        ObjectNode body = Json.object(req);
        Json.send(res, Json.fields("ok", true, "config", config.update(user(req), body)));
    }

    private void exportJson(ServerRequest req, ServerResponse res) throws IOException {
        store.readRun(user(req), runId(req), true, view -> {
            res.header(HeaderNames.CONTENT_TYPE, "application/json");
            res.header(HeaderNames.CONTENT_DISPOSITION, "attachment; filename=\"" + view.run().runId() + ".json\"");
            try (OutputStream out = res.outputStream(); JsonGenerator g = RunJson.document(out)) {
                RunJson.document(g, view);
            }
            return null;
        });
    }

    private void exportCsv(ServerRequest req, ServerResponse res) throws IOException {
        store.readRun(user(req), runId(req), true, view -> {
            res.header(HeaderNames.CONTENT_TYPE, "text/csv; charset=utf-8");
            res.header(HeaderNames.CONTENT_DISPOSITION, "attachment; filename=" + view.run().runId() + ".csv");
            try (OutputStream out = res.outputStream()) {
                CsvExport.write(out, view);
            }
            return null;
        });
    }

    private void exportMarkdown(ServerRequest req, ServerResponse res) {
        ObjectNode body = Json.object(req);
        MarkdownReport.Request request = MarkdownReport.Request.parse(body);
        String runId = runId(req);
        MarkdownReport.Report report = request.comparison()
                ? MarkdownReport.comparison(request)
                : store.readRun(user(req), runId, true, view -> MarkdownReport.single(request, view));
        res.header(HeaderNames.CONTENT_TYPE, "text/markdown; charset=utf-8");
        res.header(HeaderNames.CONTENT_DISPOSITION, "attachment; filename=" + report.fileName());
        res.send(report.text().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    // ---- helpers ----

    private static long user(ServerRequest req) {
        return Principal.of(req).userId();
    }

    private static String runId(ServerRequest req) {
        return req.path().pathParameters().get("run_id");
    }

    private static int index(ServerRequest req) {
        String raw = req.path().pathParameters().get("index");
        try {
            return Integer.parseInt(raw);
        } catch (NumberFormatException e) {
            throw ApiException.notFound("Result not found");
        }
    }

    private static Map<String, Object> created(EvalStore.Run run, Integer count) {
        Map<String, Object> out = Json.fields("ok", true, "run_id", run.runId(), "run_name", run.runName());
        if (count != null) {
            out.put("count", count);
        }
        return out;
    }

    /** The 405 for /api/runs/{run_id}, except for the runner's own paths there (rerun, new, stop). */
    /** {@code handler}, except on the runner's words (/api/runs/new, ...), which the runner's routes answer (405 here). */
    private static Handler unlessRunner(Handler handler) {
        return (req, res) -> {
            if (RUNNER_PATHS.contains(runId(req))) {
                res.next();
            } else {
                handler.handle(req, res);
            }
        };
    }

    @FunctionalInterface
    private interface JsonBody {
        void write(JsonGenerator g) throws IOException;
    }

    /**
     * A bounded answer (a page of rows) built whole and sent with its Content-Length in one write: streamed, its
     * 70 KB went out as chunks, and the chunk framing and copies were a tenth of the request's CPU.
     */
    private static void sendJson(ServerResponse res, JsonBody body) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream(32 * 1024);
        try (JsonGenerator g = RunJson.compact(buf)) {
            body.write(g);
        }
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(buf.toByteArray());
    }

    private static void streamJson(ServerResponse res, JsonBody body) throws IOException {
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        try (OutputStream out = res.outputStream(); JsonGenerator g = RunJson.compact(out)) {
            body.write(g);
        }
    }
}
