package scorebook.jobs;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.auth.Principal;
import scorebook.devices.Device;
import scorebook.server.ApiException;
import scorebook.server.Errors;
import scorebook.server.IdempotencyKey;
import scorebook.server.Json;
import scorebook.store.IsoTime;

/**
 * Jobs: the queue, its dead-letter queue, callbacks, and the worker protocol of agents.
 * User endpoints take the user token; worker endpoints take an agent's {@code X-Device-Token}.
 * <pre>
 * POST   /api/jobs                      {prompt, system?, model?, options?, priority? (0-9, 5), queue_tag? (default),
 *                                        device_serial?, adapter_id?, callback_url?, max_attempts? (1-10, 3), backoff_s? (10)}
 *   curl -H "X-User-Token: $T" -H "Idempotency-Key: k1" -d '{"prompt":"2+2?","model":"llama3.2"}' http://127.0.0.1:8080/api/jobs
 * GET    /api/jobs                      ?state= &amp;model= &amp;device= &amp;queue_tag= &amp;limit= &amp;cursor= → {jobs, next_cursor}, newest first
 * GET    /api/jobs/{id}                 the job record
 * GET    /api/jobs/{id}/result          202 {job_id, state} until it ends; ?format=text, ?full=1, ?wait=S (0-60: a long-poll)
 *   curl -H "X-User-Token: $T" 'http://127.0.0.1:8080/api/jobs/job_.../result?wait=30&amp;format=text'
 * POST   /api/jobs/{id}/cancel          queued/retrying: cancelled now; running: cancel_requested
 * GET    /api/jobs/{id}/deliveries      its callback deliveries
 * GET    /jobs/dlq                      failed jobs (the owner sees every user's, with the user)
 * POST   /jobs/{id}/requeue             {priority?, device_serial?, queue_tag?}; only a failed job
 * DELETE /jobs/{id}                     only a failed job
 * GET    /user/webhook_secret           the secret signing your callbacks
 * POST   /user/webhook_secret/rotate    a new one; the old one also signs for 24 h
 * POST   /worker/claim                  {max_jobs? (1), wait_s? (0-30), lease_s? (60)} → 200 {jobs} or 204
 *   curl -H "X-Device-Token: $D" -d '{"wait_s":30}' http://127.0.0.1:8080/worker/claim
 * POST   /worker/jobs/{id}/heartbeat    {lease_id} → {lease_expires_at, cancel_requested}
 * POST   /worker/jobs/{id}/complete     {lease_id, output: {text, done_reason}, metrics, raw?} → {state: done}
 * POST   /worker/jobs/{id}/fail         {lease_id, error: {type, message, retryable?}, metrics?} → {state, next_run_at}
 * POST   /devices/{serial}/heartbeat    {ready, battery_pct, charging, temp_c, thermal_status, models[]} (agent)
 *                                       → {server_time, state: running|quiet|terminate, cancel_job_ids}
 * </pre>
 */
public final class JobsHttp implements HttpService {
    private static final String DEVICE_TOKEN = "X-Device-Token";
    private static final Duration ROTATION_OVERLAP = Duration.ofHours(24);
    private static final int MAX_WAIT_S = 60;

    private final JobService jobs;

    public JobsHttp(JobService jobs) {
        this.jobs = jobs;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/api/jobs", this::list)
                .post("/api/jobs", this::enqueue)
                .any("/api/jobs", Errors.allow("GET, POST"))
                .get("/api/jobs/{id}", this::one)
                .any("/api/jobs/{id}", Errors.allow("GET"))
                .get("/api/jobs/{id}/result", this::result)
                .any("/api/jobs/{id}/result", Errors.allow("GET"))
                .post("/api/jobs/{id}/cancel", this::cancel)
                .any("/api/jobs/{id}/cancel", Errors.allow("POST"))
                .get("/api/jobs/{id}/deliveries", this::deliveries)
                .any("/api/jobs/{id}/deliveries", Errors.allow("GET"))
                .get("/jobs/dlq", this::dlq)
                .any("/jobs/dlq", Errors.allow("GET"))
                .post("/jobs/{id}/requeue", this::requeue)
                .any("/jobs/{id}/requeue", Errors.allow("POST"))
                .delete("/jobs/{id}", this::delete)
                .any("/jobs/{id}", Errors.allow("DELETE"))
                .get("/user/webhook_secret", this::secret)
                .any("/user/webhook_secret", Errors.allow("GET"))
                .post("/user/webhook_secret/rotate", this::rotate)
                .any("/user/webhook_secret/rotate", Errors.allow("POST"))
                .post("/worker/claim", this::claim)
                .any("/worker/claim", Errors.allow("POST"))
                .post("/worker/jobs/{id}/heartbeat", this::jobHeartbeat)
                .post("/worker/jobs/{id}/complete", this::complete)
                .post("/worker/jobs/{id}/fail", this::fail)
                .any("/worker/jobs/{id}/{verb}", Errors.allow("POST"))
                .post("/devices/{serial}/heartbeat", this::deviceHeartbeat)
                .any("/devices/{serial}/heartbeat", Errors.allow("POST"));
    }

    private void enqueue(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        String key = req.headers().first(IdempotencyKey.HEADER).orElse(null);
        JobStore.Enqueued e = jobs.enqueue(p.userId(), Json.object(req), key);
        if (e.replayed()) {
            res.header(IdempotencyKey.REPLAYED, "true");
        }
        Json.send(res, Status.CREATED_201, record(e.job()));
    }

    private void list(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        JobService.Page page = jobs.list(p.userId(), param(req, "state"), param(req, "model"), param(req, "device"),
                param(req, "queue_tag"), param(req, "cursor"), param(req, "limit"));
        Json.send(res, Json.fields("ok", true, "jobs", page.jobs().stream().map(l -> l.job().record()).toList(),
                "next_cursor", page.nextCursor()));
    }

    private void one(ServerRequest req, ServerResponse res) {
        Json.send(res, record(jobs.job(Principal.of(req).userId(), id(req))));
    }

    private void result(ServerRequest req, ServerResponse res) {
        Job j = jobs.job(Principal.of(req).userId(), id(req));
        Duration wait = waitParam(req);
        if (!j.ended() && !wait.isZero()) {
            // a long-poll: the answer leaves when the job ends (or the wait is over), without the client polling
            j = jobs.awaitEnd(j.jobId(), wait).orElse(j);
        }
        if (!j.ended()) {
            Json.send(res, Status.ACCEPTED_202, Json.fields("job_id", j.jobId(), "state", j.state(), "status", j.state(),
                    "detail", "Job status is " + j.state()));
            return;
        }
        String format = param(req, "format");
        if (format != null && !Set.of("json", "text").contains(format)) {
            throw ApiException.invalid("'format' must be json or text");
        }
        if ("text".equals(format)) {
            res.header(HeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
            res.send(j.text());
            return;
        }
        String full = param(req, "full");
        Json.send(res, jobs.result(j, "1".equals(full) || "true".equals(full)));
    }

    private void cancel(ServerRequest req, ServerResponse res) {
        Json.send(res, record(jobs.cancel(Principal.of(req).userId(), id(req))));
    }

    private void deliveries(ServerRequest req, ServerResponse res) {
        Job j = jobs.job(Principal.of(req).userId(), id(req));
        Json.send(res, Json.fields("ok", true, "job_id", j.jobId(), "deliveries",
                jobs.webhooks().deliveries(j.id()).stream().map(WebhookStore.Delivery::view).toList()));
    }

    private void dlq(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        JobService.Page page = jobs.list(p.owner() ? null : p.userId(), Job.FAILED, param(req, "model"),
                param(req, "device"), param(req, "queue_tag"), param(req, "cursor"), param(req, "limit"));
        Json.send(res, Json.fields("ok", true, "jobs", page.jobs().stream().map(l -> {
            Map<String, Object> m = l.job().record();
            m.put("user", Json.fields("id", l.job().userId(), "name", l.userName()));
            return m;
        }).toList(), "next_cursor", page.nextCursor()));
    }

    private void requeue(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        Json.send(res, record(jobs.requeue(p.userId(), p.owner(), id(req), Json.object(req))));
    }

    private void delete(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        Job j = jobs.delete(p.userId(), p.owner(), id(req));
        Json.send(res, Json.fields("ok", true, "deleted", j.jobId()));
    }

    private void secret(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        Json.send(res, secretBody(jobs.webhooks().secrets(p.userId(), jobs.now())));
    }

    private void rotate(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        long now = jobs.now();
        Json.send(res, secretBody(jobs.webhooks().rotate(p.userId(), now, now + ROTATION_OVERLAP.toMillis())));
    }

    private Map<String, Object> secretBody(WebhookStore.Secrets s) {
        boolean overlap = s.signing(jobs.now()).size() > 1;
        return Json.fields("ok", true, "secret", s.secret(), "created_at", s.createdAt(),
                "previous_valid_until", overlap ? IsoTime.format(s.previousUntilMs()) : null);
    }

    // ---- workers ----

    /** The agent of the device token: X-Device-Token, or Authorization: Bearer on the worker endpoints. */
    private Device agent(ServerRequest req) {
        return jobs.agent(deviceToken(req));
    }

    private static String deviceToken(ServerRequest req) {
        return req.headers().first(HeaderNames.create(DEVICE_TOKEN))
                .or(() -> req.headers().first(HeaderNames.AUTHORIZATION)
                        .filter(v -> v.regionMatches(true, 0, "Bearer ", 0, 7)).map(v -> v.substring(7)))
                .orElse(null);
    }

    private void claim(ServerRequest req, ServerResponse res) {
        Device agent = agent(req);
        ObjectNode body = Json.object(req);
        only(body, Set.of("max_jobs", "wait_s", "lease_s"));
        int max = JobService.integer(body, "max_jobs", 1, 1, 100);
        int wait = JobService.integer(body, "wait_s", 0, 0, JobService.MAX_WAIT_S);
        int lease = JobService.integer(body, "lease_s", JobService.DEFAULT_LEASE_S, 1, 86_400);
        List<Job> claimed = jobs.claim(agent, max, wait, lease);
        if (claimed.isEmpty()) {
            res.status(Status.NO_CONTENT_204).send();
            return;
        }
        Json.send(res, Json.fields("ok", true, "jobs", claimed.stream().map(JobsHttp::claimed).toList()));
    }

    private static Map<String, Object> claimed(Job j) {
        return Json.fields("job_id", j.jobId(), "attempt", j.attempt(), "max_attempts", j.maxAttempts(),
                "lease_id", j.leaseId(), "lease_s", j.leaseS(), "lease_expires_at", IsoTime.format(j.leaseExpiresMs()),
                "priority", j.priority(), "queue_tag", j.queueTag(), "adapter_id", j.adapterId(),
                "request", Json.fields("prompt", j.prompt(), "system", j.system(), "model", j.model(),
                        "options", JobText.tree(j.options())));
    }

    private void jobHeartbeat(ServerRequest req, ServerResponse res) {
        Device agent = agent(req);
        ObjectNode body = Json.object(req);
        only(body, Set.of("lease_id", "progress", "tokens_so_far"));
        Job j = jobs.heartbeat(agent, id(req), leaseId(body));
        Json.send(res, Json.fields("ok", true, "job_id", j.jobId(), "state", j.state(),
                "lease_expires_at", IsoTime.format(j.leaseExpiresMs()), "cancel_requested", j.cancelRequested()));
    }

    private void complete(ServerRequest req, ServerResponse res) {
        Device agent = agent(req);
        ObjectNode body = Json.object(req);
        only(body, Set.of("lease_id", "output", "metrics", "raw"));
        String lease = leaseId(body);
        JsonNode output = body.get("output");
        if (output != null && output.isTextual()) {
            output = Json.MAPPER.createObjectNode().put("text", output.asText()).putNull("done_reason");
        } else if (output == null || !output.isObject() || !output.path("text").isTextual()) {
            throw ApiException.invalid("'output' must be an object {text, done_reason?}");
        }
        JsonNode metrics = metrics(body);
        Job j = jobs.complete(agent, id(req), lease, output, metrics, body.get("raw"));
        Json.send(res, Json.fields("ok", true, "job_id", j.jobId(), "state", j.state()));
    }

    private void fail(ServerRequest req, ServerResponse res) {
        Device agent = agent(req);
        ObjectNode body = Json.object(req);
        only(body, Set.of("lease_id", "error", "metrics"));
        String lease = leaseId(body);
        JsonNode error = body.get("error");
        if (error == null || !error.isObject() || !error.path("type").isTextual() || error.path("type").asText().isBlank()) {
            throw ApiException.invalid("'error' must be an object {type, message, retryable?}");
        }
        JsonNode retryable = error.get("retryable");
        if (retryable != null && !retryable.isNull() && !retryable.isBoolean()) {
            throw ApiException.invalid("'error.retryable' must be true or false");
        }
        Job j = jobs.fail(agent, id(req), lease, error.path("type").asText(), error.path("message").asText(""),
                retryable == null || retryable.isNull() ? null : retryable.asBoolean(), metrics(body));
        Json.send(res, Json.fields("ok", true, "job_id", j.jobId(), "state", j.state(),
                "next_run_at", Job.RETRYING.equals(j.state()) ? IsoTime.format(j.runAtMs()) : null));
    }

    private void deviceHeartbeat(ServerRequest req, ServerResponse res) {
        Json.send(res, jobs.deviceHeartbeat(deviceToken(req), req.path().pathParameters().get("serial"), Json.object(req)));
    }

    // ---- helpers ----

    private static Map<String, Object> record(Job j) {
        Map<String, Object> m = j.record();
        Map<String, Object> out = Json.fields("ok", true);
        out.putAll(m);
        return out;
    }

    private static String id(ServerRequest req) {
        return req.path().pathParameters().get("id");
    }

    /** {@code ?wait=S}: how long a result may wait for its job to end, 0 to {@value #MAX_WAIT_S} seconds. */
    private static Duration waitParam(ServerRequest req) {
        String v = param(req, "wait");
        if (v == null || v.isBlank()) {
            return Duration.ZERO;
        }
        try {
            int s = Integer.parseInt(v.trim());
            if (s >= 0 && s <= MAX_WAIT_S) {
                return Duration.ofSeconds(s);
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw ApiException.invalid("'wait' must be a whole number of seconds from 0 to " + MAX_WAIT_S + ", not '" + v + "'");
    }

    private static String param(ServerRequest req, String name) {
        return req.query().first(name).filter(v -> !v.isEmpty()).orElse(null);
    }

    private static void only(ObjectNode body, Set<String> allowed) {
        Json.onlyFields(body, allowed, f -> "unknown field '" + f + "'; allowed: " + String.join(", ",
                allowed.stream().sorted().toList()));
    }

    private static String leaseId(ObjectNode body) {
        JsonNode v = body.get("lease_id");
        if (v == null || !v.isTextual() || v.asText().isEmpty()) {
            throw ApiException.invalid("'lease_id' is required: the lease_id the claim gave");
        }
        return v.asText();
    }

    private static JsonNode metrics(ObjectNode body) {
        JsonNode m = body.get("metrics");
        if (m == null || m.isNull()) {
            return null;
        }
        if (!m.isObject()) {
            throw ApiException.invalid("'metrics' must be an object, like {\"prompt_tokens\": 12, \"latency_ms\": 830}");
        }
        for (String f : List.of("prompt_tokens", "completion_tokens")) {
            JsonNode v = m.get(f);
            if (v != null && !v.isNull() && (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 0)) {
                throw ApiException.invalid("'metrics." + f + "' must be a whole number ≥ 0");
            }
        }
        for (String f : List.of("latency_ms", "ttft_ms", "tok_s")) {
            JsonNode v = m.get(f);
            if (v != null && !v.isNull() && (!v.isNumber() || v.asDouble() < 0)) {
                throw ApiException.invalid("'metrics." + f + "' must be a number ≥ 0");
            }
        }
        return m;
    }
}
