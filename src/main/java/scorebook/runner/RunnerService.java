package scorebook.runner;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.auth.Principal;
import scorebook.evals.EvalStore;
import scorebook.server.ApiException;
import scorebook.server.Errors;
import scorebook.server.Json;
import scorebook.server.Names;

/**
 * Running suites from the eval path, and watching runs live.
 * <pre>
 * POST /api/runs/rerun              {"indices"?: [int]} rerun the active run in place (all rows, or those)
 *   curl -X POST -H "X-User-Token: $T" http://127.0.0.1:8080/api/runs/rerun
 * POST /api/runs/new                {"run_name"?, "indices"?} a new run in the active session
 * POST /api/runs/stop               cancel pending rows, end running ones
 * GET  /api/runs/{run_id}/events    server-sent events: "row" {index, row} as rows change, then "totals"
 *                                   {run_id, totals, chips} after them, "done" when a run ends
 *   curl -N -H "X-User-Token: $T" http://127.0.0.1:8080/api/runs/latest/events
 * GET  /api/suites                  the suites under the eval path and the mistakes in them (file, line)
 * </pre>
 */
public final class RunnerService implements HttpService {
    private static final long KEEP_ALIVE_MS = 15_000;

    private final EvalRunner runner;
    private final EvalStore store;
    private final RunEvents events;

    public RunnerService(EvalRunner runner, EvalStore store, RunEvents events) {
        this.runner = runner;
        this.store = store;
        this.events = events;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/api/runs/rerun", this::rerun)
                .post("/api/runs/new", this::newRun)
                .post("/api/runs/stop", this::stop)
                .get("/api/runs/{run_id}/events", this::events)
                .get("/api/suites", this::suites)
                .any("/api/runs/rerun", Errors.allow("POST"))
                .any("/api/runs/new", Errors.allow("POST"))
                .any("/api/runs/stop", Errors.allow("POST"))
                .any("/api/runs/{run_id}/events", Errors.allow("GET"))
                .any("/api/suites", Errors.allow("GET"));
    }

    private void rerun(ServerRequest req, ServerResponse res) {
        ObjectNode body = body(req, Set.of("indices"));
        String runId = runner.rerun(Principal.of(req).userId(), indices(body));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("ok", true);
        out.put("run_id", runId);
        Json.send(res, out);
    }

    private void newRun(ServerRequest req, ServerResponse res) {
        ObjectNode body = body(req, Set.of("run_name", "indices"));
        String name = body.hasNonNull("run_name") ? Names.required(body, "run_name") : null;
        EvalStore.Run run = runner.newRun(Principal.of(req).userId(), name, indices(body));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("ok", true);
        out.put("run_id", run.runId());
        out.put("run_name", run.runName());
        Json.send(res, out);
    }

    private void stop(ServerRequest req, ServerResponse res) {
        runner.stop(Principal.of(req).userId());
        Json.send(res, Map.of("ok", true));
    }

    private void suites(ServerRequest req, ServerResponse res) {
        Principal.of(req);
        SuiteLoader.Discovery d = runner.discover();
        List<Map<String, Object>> suites = new ArrayList<>();
        for (Suite s : d.suites()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("file", s.file());
            m.put("target", s.target().kind());
            m.put("scorers", s.scorers().stream().map(Suite.ScorerSpec::key).toList());
            m.put("cases", s.cases().size());
            suites.add(m);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("eval_path", runner.evalPath().toString());
        out.put("suites", suites);
        out.put("errors", d.errors());
        Json.send(res, out);
    }

    /** Server-sent events for one run until the client goes away (a comment line keeps proxies from timing out). */
    private void events(ServerRequest req, ServerResponse res) {
        long user = Principal.of(req).userId();
        String runId = store.readRun(user, req.path().pathParameters().get("run_id"), true, view -> view.run().runId());
        res.header(HeaderNames.CONTENT_TYPE, "text/event-stream");
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        try (RunEvents.Subscription sub = events.subscribe(runId); OutputStream out = res.outputStream()) {
            send(out, "hello", "{\"run_id\":\"" + runId + "\"}");
            while (!events.closed()) {
                RunEvents.Event e = sub.next(KEEP_ALIVE_MS);
                if (e == null) {
                    out.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
                    out.flush();
                } else if (!e.type().equals(RunEvents.CLOSING)) {
                    send(out, e.type(), e.data());
                }
            }
        } catch (IOException e) {
            // the client went away
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void send(OutputStream out, String type, String data) throws IOException {
        out.write(("event: " + type + "\ndata: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static ObjectNode body(ServerRequest req, Set<String> allowed) {
        ObjectNode body = Json.object(req);
        Json.onlyFields(body, allowed, f -> "unknown field '" + f + "' (allowed: "
                + String.join(", ", allowed.stream().sorted().toList()) + ")");
        return body;
    }

    /** {@code indices}: absent or null means all; otherwise a non-empty list of whole numbers. */
    private static List<Integer> indices(ObjectNode body) {
        JsonNode node = body.get("indices");
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isArray()) {
            throw ApiException.invalid("'indices' must be a list of result indices");
        }
        if (node.isEmpty()) {
            throw ApiException.badRequest("'indices' is empty: omit it (or send null) to run everything");
        }
        List<Integer> out = new ArrayList<>();
        for (JsonNode n : node) {
            if (!n.isIntegralNumber() || !n.canConvertToInt()) {
                throw ApiException.invalid("'indices' must hold whole numbers, not " + n);
            }
            if (!out.contains(n.asInt())) {
                out.add(n.asInt());
            }
        }
        return out;
    }
}
