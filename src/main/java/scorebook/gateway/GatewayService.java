package scorebook.gateway;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.auth.Principal;
import scorebook.devices.Chat;
import scorebook.devices.DeviceRegistry;
import scorebook.devices.Devices;
import scorebook.devices.ModelReply;
import scorebook.devices.ModelRequest;
import scorebook.devices.Models;
import scorebook.server.ApiException;
import scorebook.server.Errors;
import scorebook.server.Json;

/**
 * The LLM gateway: direct access to the models on the user's devices with an API key
 * ({@code X-Api-Key: K} or {@code Authorization: Bearer K}). Every call writes a usage row.
 * <pre>
 * POST /ask            {prompt, system?, model?, options?, device_serial?, tag?, timeout_s?} → the envelope
 *   curl -H "X-Api-Key: $K" -d '{"prompt":"Hi","model":"llama3.2"}' http://127.0.0.1:8080/ask
 * POST /ask_stream     same body → NDJSON: {"delta":"…"} lines, then the envelope with "done": true
 * POST /ask_batch      {requests:[ask body…]} → {results:[{ok, data | error}]}
 * POST /ask_trace      same body as /ask → text/plain: "#" lines (candidates and their state, the device chosen and
 *                      why, the model, the upstream URL), the answer as it streams, then "# done" with the timings
 *   curl -N -H "X-Api-Key: $K" -d '{"prompt":"Hi","model":"llama3.2"}' http://127.0.0.1:8080/ask_trace
 * POST /warmup         {model?, devices?[]} → {warmed, total, results:[{device, model, ok, load_ms, latency_ms, error?}]}
 * POST /v1/chat/completions   OpenAI-compatible; "stream": true gives server-sent events (the usage chunk with
 *                      stream_options.include_usage); "device_serial" and "tag" may ride along (an SDK's extra_body)
 *   curl -H "Authorization: Bearer $K" -d '{"model":"llama3.2","messages":[{"role":"user","content":"Hi"}]}' \
 *        http://127.0.0.1:8080/v1/chat/completions
 * GET  /v1/models      the models the user's devices serve
 * GET  /v1/models/{id} one of them (404 model_not_found)
 * </pre>
 */
public final class GatewayService implements HttpService {
    private static final int MAX_BATCH = 100;
    private static final String NDJSON = "application/x-ndjson";
    private static final String SSE = "text/event-stream";
    private static final String TEXT = "text/plain; charset=utf-8";

    private final Devices devices;
    private final Models models;

    public GatewayService(Devices devices) {
        this.devices = devices;
        this.models = devices.models();
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/ask", this::ask)
                .post("/ask_stream", this::askStream)
                .post("/ask_batch", this::askBatch)
                .post("/ask_trace", this::askTrace)
                .post("/warmup", this::warmup)
                .post("/v1/chat/completions", this::chatCompletions)
                .get("/v1/models", this::listModels)
                .get("/v1/models/{+model}", this::getModel)
                .any("/ask", Errors.allow("POST"))
                .any("/ask_stream", Errors.allow("POST"))
                .any("/ask_batch", Errors.allow("POST"))
                .any("/ask_trace", Errors.allow("POST"))
                .any("/warmup", Errors.allow("POST"))
                .any("/v1/chat/completions", Errors.allow("POST"))
                .any("/v1/models", Errors.allow("GET"))
                .any("/v1/models/{+model}", Errors.allow("GET"));
    }

    private void ask(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        ModelRequest r = AskBody.parse(Json.object(req), "");
        ModelReply reply = models.call(p.userId(), p.apiKeyId(), r);
        Json.send(res, reply.envelope(wantsRaw(req)));
    }

    private void askStream(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        ModelRequest r = AskBody.parse(Json.object(req), "");
        boolean raw = wantsRaw(req);
        Relay relay = new Relay(res, NDJSON);
        try {
            ModelReply reply = models.stream(p.userId(), p.apiKeyId(), r,
                    delta -> relay.write(Json.text(Map.of("delta", delta)) + "\n"));
            Map<String, Object> last = new LinkedHashMap<>();
            last.put("done", true);
            last.put("ok", true);
            last.putAll(reply.envelope(raw));
            relay.write(Json.text(last) + "\n");
        } catch (ApiException e) {
            if (!relay.started()) {
                throw e;
            }
            writeQuietly(relay, Json.text(streamError(e)) + "\n");
        } catch (UncheckedIOException | IOException e) {
            // the client went away; the usage row says so
        } finally {
            relay.finish();
        }
    }

    private void askTrace(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        ModelRequest r = AskBody.parse(Json.object(req), "");
        Relay relay = new Relay(res, TEXT);
        Trace trace = new Trace(relay, r, devices.registry().snapshots(p.userId()));
        try {
            Models.Exchange ex = models.execute(p.userId(), p.apiKeyId(), r, null, true, trace::chosen);
            trace.done(ex.reply());
        } catch (ApiException e) {
            if (!trace.started()) {
                throw e;
            }
            try {
                trace.failed(e);
            } catch (IOException gone) {
                // the client went away
            }
        } catch (UncheckedIOException | IOException e) {
            // the client went away; the usage row says so
        } finally {
            relay.finish();
        }
    }

    private void askBatch(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        ObjectNode body = Json.object(req);
        JsonNode list = body.get("requests");
        if (list == null || !list.isArray()) {
            throw ApiException.invalid("'requests' must be a list of ask requests");
        }
        if (list.isEmpty() || list.size() > MAX_BATCH) {
            throw ApiException.invalid("'requests' must hold 1 to " + MAX_BATCH + " requests, not " + list.size());
        }
        List<ModelRequest> parsed = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            if (!list.get(i).isObject()) {
                throw ApiException.invalid("'requests[" + i + "]' must be an object");
            }
            parsed.add(AskBody.parse((ObjectNode) list.get(i), "requests[" + i + "]."));
        }
        boolean raw = wantsRaw(req);
        List<Object> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<ModelReply>> futures = parsed.stream()
                    .map(r -> pool.submit(() -> models.call(p.userId(), p.apiKeyId(), r))).toList();
            for (Future<ModelReply> f : futures) {
                results.add(outcome(f, raw));
            }
        }
        Json.send(res, Json.fields("ok", true, "results", results));
    }

    private static Map<String, Object> outcome(Future<ModelReply> f, boolean raw) {
        Map<String, Object> m = new LinkedHashMap<>();
        try {
            ModelReply reply = f.get();
            m.put("ok", true);
            m.put("data", reply.envelope(raw));
        } catch (ExecutionException e) {
            m.put("ok", false);
            m.put("error", errorOf(e.getCause()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            m.put("ok", false);
            m.put("error", Json.fields("code", "interrupted", "message", "the server is stopping", "status", 503));
        }
        return m;
    }

    private static Map<String, Object> errorOf(Throwable t) {
        Map<String, Object> e = new LinkedHashMap<>();
        if (t instanceof ApiException a) {
            e.put("code", a.code());
            e.put("message", a.getMessage());
            e.put("status", a.status().code());
        } else {
            e.put("code", "internal");
            e.put("message", "internal error; the server log has details");
            e.put("status", 500);
        }
        return e;
    }

    private void warmup(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        ObjectNode body = Json.object(req);
        String model = AskBody.optionalText(body, "model", "");
        List<String> only = null;
        if (body.hasNonNull("devices")) {
            if (!body.get("devices").isArray()) {
                throw ApiException.invalid("'devices' must be a list of device serials");
            }
            only = new ArrayList<>();
            for (JsonNode s : body.get("devices")) {
                if (!s.isTextual()) {
                    throw ApiException.invalid("'devices[" + only.size() + "]' must be a device serial (a string)");
                }
                only.add(s.asText());
            }
        }
        List<DeviceRegistry.Snapshot> targets = new ArrayList<>();
        for (DeviceRegistry.Snapshot s : devices.registry().snapshots(p.userId())) {
            if (s.device().push() && (only == null || only.contains(s.device().serial()))) {
                targets.add(s);
            }
        }
        if (only != null) {
            for (String serial : only) {
                if (targets.stream().noneMatch(s -> s.device().serial().equals(serial))) {
                    throw ApiException.notFound("no model server with serial '" + serial + "' ('devices')");
                }
            }
        }
        List<Map<String, Object>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Map<String, Object>>> futures = new ArrayList<>();
            for (DeviceRegistry.Snapshot s : targets) {
                futures.add(pool.submit(() -> warm(p, s, model)));
            }
            for (Future<Map<String, Object>> f : futures) {
                try {
                    results.add(f.get());
                } catch (ExecutionException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        long warmed = results.stream().filter(r -> Boolean.TRUE.equals(r.get("ok"))).count();
        Json.send(res, Json.fields("ok", true, "warmed", warmed, "total", results.size(), "results", results));
    }

    private Map<String, Object> warm(Principal p, DeviceRegistry.Snapshot s, String model) {
        String serial = s.device().serial();
        String use = model != null ? model : s.defaultModel();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("device", serial);
        m.put("model", use);
        if (model != null && !s.serves(model)) {
            m.put("ok", false);
            m.put("error", "device does not serve model '" + model + "'");
            return m;
        }
        ObjectNode options = Json.MAPPER.createObjectNode().put("num_predict", 1);
        ModelRequest r = ModelRequest.of(null, ".").withModel(use).withDevice(serial).withOptions(options)
                .withSource("warmup").withQueueWait(Duration.ofSeconds(10));
        try {
            ModelReply reply = models.call(p.userId(), p.apiKeyId(), r);
            m.put("ok", true);
            m.put("load_ms", reply.loadMs());
            m.put("latency_ms", reply.latencyMs());
        } catch (ApiException e) {
            m.put("ok", false);
            m.put("error", e.getMessage());
        }
        return m;
    }

    private void listModels(ServerRequest req, ServerResponse res) {
        List<Map<String, Object>> data = new ArrayList<>();
        served(Principal.of(req)).forEach((id, serials) -> data.add(model(id, serials)));
        Json.send(res, Json.fields("object", "list", "data", data));
    }

    /** OpenAI's retrieve-model call ({@code client.models.retrieve}); ids may hold slashes (org/model). */
    private void getModel(ServerRequest req, ServerResponse res) {
        String id = req.path().pathParameters().get("model");
        TreeSet<String> serials = served(Principal.of(req)).get(id);
        if (serials == null) {
            throw new ApiException(Status.NOT_FOUND_404, "model_not_found", "no device serves model '" + id + "'");
        }
        Json.send(res, model(id, serials));
    }

    /** Each model the user's model servers serve, with their serials. */
    private Map<String, TreeSet<String>> served(Principal p) {
        Map<String, TreeSet<String>> byModel = new TreeMap<>();
        for (DeviceRegistry.Snapshot s : devices.registry().snapshots(p.userId())) {
            if (s.device().push()) {
                for (String m : s.served()) {
                    byModel.computeIfAbsent(m, k -> new TreeSet<>()).add(s.device().serial());
                }
            }
        }
        return byModel;
    }

    private static Map<String, Object> model(String id, TreeSet<String> serials) {
        return Json.fields("id", id, "object", "model", "created", 0, "owned_by", "scorebook", "devices", serials);
    }

    private void chatCompletions(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        ObjectNode body = Json.object(req);
        ModelRequest r = ChatBody.parse(body);
        boolean stream = body.path("stream").asBoolean(false);
        if (!stream) {
            Models.Exchange ex = models.execute(p.userId(), p.apiKeyId(), r, body, false, d -> null);
            if (ex.outcome().body() != null) {
                res.header(HeaderNames.CONTENT_TYPE, "application/json");
                res.send(ex.outcome().body());
            } else {
                Json.send(res, ChatBody.completion(ex.reply(), "chatcmpl-" + ex.reply().id().substring(4)));
            }
            return;
        }
        boolean includeUsage = body.path("stream_options").path("include_usage").asBoolean(false);
        String id = "chatcmpl-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
        long created = Instant.now().getEpochSecond();
        Relay relay = new Relay(res, SSE);
        boolean[] openAiDevice = {false};
        boolean[] usageSent = {false};
        try {
            Models.Exchange ex = models.execute(p.userId(), p.apiKeyId(), r, body, true, device -> {
                openAiDevice[0] = "openai".equals(device.kind());
                usageSent[0] = false;
                return openAiDevice[0] ? passThrough(relay, includeUsage, usageSent) : translate(relay, id, created);
            });
            ModelReply reply = ex.reply();
            if (!openAiDevice[0]) {
                relay.write(sse(ChatBody.chunk(id, created, reply.model(), null, reply.doneReason() == null ? "stop" : reply.doneReason())));
            }
            // an Ollama device, or an OpenAI one that counted but sent no usage chunk of its own (usage on its last chunk)
            boolean counted = !openAiDevice[0] || reply.promptTokens() != null || reply.completionTokens() != null;
            if (includeUsage && !usageSent[0] && counted) {
                JsonNode last = openAiDevice[0] && reply.raw() != null ? reply.raw() : Json.MAPPER.missingNode();
                ObjectNode u = ChatBody.chunk(last.path("id").asText(id), last.path("created").asLong(created), reply.model(), null, null);
                u.putArray("choices");
                u.set("usage", ChatBody.usage(reply));
                relay.write(sse(u));
            }
            relay.write("data: [DONE]\n\n");
        } catch (ApiException e) {
            if (!relay.started()) {
                throw e;
            }
            writeQuietly(relay, sse(Json.MAPPER.valueToTree(Errors.envelope(e.code(), e.getMessage()))));
        } catch (UncheckedIOException | IOException e) {
            // the client went away; the usage row says so
        } finally {
            relay.finish();
        }
    }

    /** An OpenAI-compatible device's events go out as they came, minus the usage chunk nobody asked for. */
    private static Chat.Listener passThrough(Relay relay, boolean includeUsage, boolean[] usageSent) {
        return (delta, raw, parsed) -> {
            if (parsed.path("choices").isArray() && parsed.path("choices").isEmpty() && parsed.has("usage")) {
                if (!includeUsage) {
                    return;
                }
                usageSent[0] = true;
            }
            relay.write("data: " + raw + "\n\n");
        };
    }

    /** An Ollama device's text becomes OpenAI chunks. */
    private static Chat.Listener translate(Relay relay, String id, long created) {
        boolean[] first = {true};
        return (delta, raw, parsed) -> {
            if (delta.isEmpty()) {
                return;
            }
            ObjectNode c = ChatBody.chunk(id, created, parsed.path("model").asText(""), delta, null);
            if (first[0]) {
                ((ObjectNode) c.path("choices").path(0).path("delta")).put("role", "assistant");
                first[0] = false;
            }
            relay.write(sse(c));
        };
    }

    private static String sse(JsonNode event) {
        return "data: " + Json.text(event) + "\n\n";
    }

    private static Map<String, Object> streamError(ApiException e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("done", true);
        m.putAll(Errors.envelope(e.code(), e.getMessage()));
        return m;
    }

    private static void writeQuietly(Relay relay, String text) {
        try {
            relay.write(text);
        } catch (IOException e) {
            // the client went away
        }
    }

    private static boolean wantsRaw(ServerRequest req) {
        String v = req.query().first("raw").orElse("0");
        return v.equals("1") || v.equalsIgnoreCase("true");
    }
}
