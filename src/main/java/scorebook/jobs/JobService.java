package scorebook.jobs;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.function.Function;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

import io.helidon.http.Status;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.auth.Tokens;
import scorebook.devices.Device;
import scorebook.devices.DeviceRegistry;
import scorebook.devices.Devices;
import scorebook.devices.ModelReply;
import scorebook.server.ApiException;
import scorebook.server.IdempotencyKey;
import scorebook.server.Json;
import scorebook.server.Names;
import scorebook.store.IsoTime;
import scorebook.usage.UsageStore;

/**
 * The rules of the job queue: what an enqueue may hold, which moves a job may make, how long a
 * retry waits, what an attempt's end records (usage row, dataset row, callback). The HTTP layer
 * ({@link JobsHttp}), the push dispatcher and the command line all act through it.
 */
public final class JobService {
    public static final int DEFAULT_PRIORITY = 5;
    public static final int MAX_PRIORITY = 9;
    public static final String DEFAULT_TAG = "default";
    static final int DEFAULT_MAX_ATTEMPTS = 3;
    static final double DEFAULT_BACKOFF_S = 10;
    static final long MAX_DELAY_MS = Duration.ofMinutes(10).toMillis();
    static final int DEFAULT_LEASE_S = 60;
    static final int MAX_WAIT_S = 30;
    static final Set<String> STATES = Set.of(Job.QUEUED, Job.RUNNING, Job.RETRYING, Job.DONE, Job.FAILED, Job.CANCELLED);
    /** Failures worth another attempt (§3.5); any other type ends the job unless the agent says it is retryable. */
    static final Set<String> RETRYABLE = Set.of("lease_expired", "device_unreachable", "upstream_5xx", "timeout", "oom",
            "thermal_abort");
    private static final Set<String> ENQUEUE_FIELDS = Set.of("prompt", "system", "model", "options", "priority", "queue_tag",
            "device_serial", "adapter_id", "callback_url", "max_attempts", "backoff_s");

    private final JobStore store;
    private final WebhookStore webhooks;
    private final Devices devices;
    private final MetricsSink sink;
    private final Clock clock;
    private final boolean allowPrivateCallbacks;
    private final Wakeup work = new Wakeup();
    private final Wakeup callbacks = new Wakeup();
    /** What the push dispatcher hears of. */
    interface Dispatch {
        /** A job became claimable, or will at its {@code run_at_ms}. */
        void offered(Job j);

        /** A running job is to be cancelled. */
        void cancelRequested();
    }

    private volatile Dispatch dispatch = new Dispatch() {
        @Override
        public void offered(Job j) {
        }

        @Override
        public void cancelRequested() {
        }
    };
    /** Signalled whenever a job ends. */
    private final Wakeup ended = new Wakeup();
    /** Cancels of running jobs so far: the dispatcher looks for calls to interrupt only when this moved. */
    private final AtomicLong cancels = new AtomicLong();

    public JobService(JobStore store, WebhookStore webhooks, Devices devices, MetricsSink sink, Clock clock,
                      boolean allowPrivateCallbacks) {
        this.store = store;
        this.webhooks = webhooks;
        this.devices = devices;
        this.sink = sink;
        this.clock = clock;
        this.allowPrivateCallbacks = allowPrivateCallbacks;
    }

    public JobStore store() {
        return store;
    }

    public WebhookStore webhooks() {
        return webhooks;
    }

    public Clock clock() {
        return clock;
    }

    Wakeup work() {
        return work;
    }

    Wakeup callbacks() {
        return callbacks;
    }

    /** Who is told of every job that becomes claimable (enqueued, requeued, retrying), after it is stored. */
    void dispatchTo(Dispatch d) {
        this.dispatch = d;
    }

    long cancels() {
        return cancels.get();
    }

    /** A job became claimable (or will at its run_at_ms): agents waiting in a claim and the dispatcher hear of it. */
    private void claimable(Job j) {
        work.signal();
        dispatch.offered(j);
    }

    long now() {
        return clock.millis();
    }

    // ---- enqueue -------------------------------------------------------------------------------

    /** Validates an enqueue body. @throws ApiException 422 naming the field */
    public JobStore.NewJob newJob(long userId, ObjectNode body) {
        Json.onlyFields(body, ENQUEUE_FIELDS, f -> "unknown field '" + f + "'; a job takes " + String.join(", ",
                ENQUEUE_FIELDS.stream().sorted().toList()));
        JsonNode p = body.get("prompt");
        if (p == null || p.isNull()) {
            throw ApiException.invalid("'prompt' is required");
        }
        if (!p.isTextual() || p.asText().isBlank()) {
            throw ApiException.invalid("'prompt' must be a non-empty string");
        }
        String system = optionalText(body, "system");
        String model = body.hasNonNull("model") ? Names.required(body, "model") : null;
        JsonNode options = body.get("options");
        if (options != null && !options.isNull() && !options.isObject()) {
            throw ApiException.invalid("'options' must be an object of model options, like {\"temperature\": 0.7}");
        }
        int priority = integer(body, "priority", DEFAULT_PRIORITY, 0, MAX_PRIORITY);
        String tag = body.hasNonNull("queue_tag") ? Names.required(body, "queue_tag") : DEFAULT_TAG;
        String serial = body.hasNonNull("device_serial") ? Names.required(body, "device_serial") : null;
        String adapter = body.hasNonNull("adapter_id") ? Names.required(body, "adapter_id") : null;
        if (adapter != null && !sink.datasetExists(userId, adapter)) {
            throw ApiException.invalid("'adapter_id': you have no dataset named '" + adapter + "'");
        }
        String callback = body.hasNonNull("callback_url") ? callbackUrl(optionalText(body, "callback_url")) : null;
        int maxAttempts = integer(body, "max_attempts", DEFAULT_MAX_ATTEMPTS, 1, 10);
        double backoff = DEFAULT_BACKOFF_S;
        JsonNode b = body.get("backoff_s");
        if (b != null && !b.isNull()) {
            if (!b.isNumber() || !Double.isFinite(b.asDouble()) || b.asDouble() < 0 || b.asDouble() > 86_400) {
                throw ApiException.invalid("'backoff_s' must be a number of seconds from 0 to 86400");
            }
            backoff = b.asDouble();
        }
        return new JobStore.NewJob(userId, p.asText(), system, model,
                options == null || options.isNull() ? null : Json.text(options), priority, tag, serial, adapter, callback,
                maxAttempts, backoff);
    }

    /** Enqueues; with an Idempotency-Key the same key and body give the same job for 24 h. */
    public JobStore.Enqueued enqueue(long userId, ObjectNode body, String idempotencyKey) {
        JobStore.NewJob n = newJob(userId, body);
        String key = IdempotencyKey.check(idempotencyKey);
        if (key == null) {
            JobStore.Enqueued e = new JobStore.Enqueued(store.enqueueGrouped(n, now()), false);
            claimable(e.job());
            return e;
        }
        try {
            JobStore.Enqueued e = store.enqueue(n, key, Tokens.hash(Json.text(body)), now());
            if (!e.replayed()) {
                claimable(e.job());
            }
            return e;
        } catch (JobStore.KeyReused e) {
            throw ApiException.conflict("the Idempotency-Key '" + key + "' was used in the last 24 hours for another job body");
        }
    }

    /** A callback target: http(s) with a host; loopback, link-local and private addresses only when allowed. */
    String callbackUrl(String raw) {
        URI u;
        try {
            u = new URI(raw.strip());
        } catch (URISyntaxException e) {
            throw ApiException.invalid("'callback_url' must be an http:// or https:// URL");
        }
        if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null) {
            throw ApiException.invalid("'callback_url' must be an http:// or https:// URL with a host");
        }
        if (!allowPrivateCallbacks && privateHost(u.getHost())) {
            throw ApiException.invalid("'callback_url' points to a loopback, link-local or private address; "
                    + "the server refuses those unless it runs with --allow-private-callbacks");
        }
        return u.toString();
    }

    /** Whether a host is a private name or literal address (names are checked again when a delivery resolves them). */
    static boolean privateHost(String host) {
        String h = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
        String lower = h.toLowerCase(java.util.Locale.ROOT);
        if (lower.equals("localhost") || lower.endsWith(".localhost") || lower.endsWith(".local")
                || lower.endsWith(".internal")) {
            return true;
        }
        if (!lower.matches("[0-9.]+") && !lower.contains(":")) {
            return false; // a name: resolved and checked at delivery time
        }
        try {
            return privateAddress(InetAddress.getByName(h));
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    static boolean privateAddress(InetAddress a) {
        if (a.isLoopbackAddress() || a.isLinkLocalAddress() || a.isSiteLocalAddress() || a.isAnyLocalAddress()
                || a.isMulticastAddress()) {
            return true;
        }
        byte[] b = a.getAddress();
        if (b.length == 16 && (b[0] & 0xfe) == 0xfc) {
            return true; // IPv6 unique local fc00::/7
        }
        return b.length == 4 && (b[0] & 0xff) == 100 && (b[1] & 0xc0) == 64; // carrier-grade NAT 100.64/10
    }

    // ---- reading ---------------------------------------------------------------------------------

    /**
     * Waits up to {@code max} for the job to end, without polling (a result's {@code ?wait=}, and the benchmarks,
     * which time a push job from its enqueue to its end). Answers the job as it is then; empty for an unknown job.
     */
    public java.util.Optional<Job> awaitEnd(String jobId, Duration max) {
        long deadline = System.nanoTime() + max.toNanos();
        while (true) {
            long seen = ended.generation();
            java.util.Optional<Job> j = store.find(jobId);
            long left = deadline - System.nanoTime();
            if (j.isEmpty() || j.get().ended() || left <= 0) {
                return j;
            }
            ended.await(seen, Duration.ofNanos(left));
        }
    }

    public Job job(long userId, String jobId) {
        return store.find(userId, jobId).orElseThrow(() -> notFound(jobId));
    }

    static ApiException notFound(String jobId) {
        return ApiException.notFound("no job with id '" + jobId + "'");
    }

    /** A page of jobs, newest first, and the cursor of the next page (null at the end). */
    public record Page(List<JobStore.Listed> jobs, String nextCursor) {
    }

    public Page list(Long userId, String state, String model, String device, String queueTag, String cursor, String limit) {
        if (state != null && !STATES.contains(state)) {
            throw ApiException.invalid("'state' must be one of " + String.join(", ", STATES.stream().sorted().toList()));
        }
        int n = 50;
        if (limit != null) {
            try {
                n = Integer.parseInt(limit);
            } catch (NumberFormatException e) {
                n = -1;
            }
            if (n < 1 || n > 500) {
                throw ApiException.invalid("'limit' must be a whole number from 1 to 500");
            }
        }
        Long before = cursor == null || cursor.isEmpty() ? null : decodeCursor(cursor);
        List<JobStore.Listed> rows = store.list(new JobStore.Query(userId, state, model, device, queueTag, before, n + 1));
        String next = null;
        if (rows.size() > n) {
            rows = rows.subList(0, n);
            next = encodeCursor(rows.getLast().job().id());
        }
        return new Page(rows, next);
    }

    static String encodeCursor(long id) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(("j:" + id).getBytes(StandardCharsets.UTF_8));
    }

    static long decodeCursor(String cursor) {
        try {
            String s = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
            if (s.startsWith("j:")) {
                return Long.parseLong(s.substring(2));
            }
        } catch (IllegalArgumentException e) {
            // not ours
        }
        throw ApiException.invalid("'cursor' is not a cursor this server gave out");
    }

    /** The result (§3.7): output, metrics and error; {@code full} adds request, raw and attempts. */
    public Map<String, Object> result(Job j, boolean full) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("job_id", j.jobId());
        m.put("state", j.state());
        m.put("status", j.state());
        m.put("model", j.model());
        m.put("device", j.device());
        JsonNode output = JobText.tree(j.output());
        m.put("output", output == null ? null : output);
        m.put("metrics", JobText.tree(j.metrics()));
        m.put("error", JobText.tree(j.error()));
        m.put("adapter_id", j.adapterId());
        m.put("attempt", j.attempt());
        m.put("finished_at", j.finishedAt());
        if (full) {
            m.put("request", Json.fields("prompt", j.prompt(), "system", j.system(), "model", j.model(),
                    "options", JobText.tree(j.options())));
            m.put("raw", JobText.tree(j.raw()));
            m.put("attempts", store.attempts(j.id()));
        }
        return m;
    }

    // ---- user moves --------------------------------------------------------------------------------

    /** Cancel: queued or retrying at once; running when its attempt stops; ended → 409. */
    public Job cancel(long userId, String jobId) {
        JobStore.Move m = store.cancel(userId, jobId, now()).orElseThrow(() -> notFound(jobId));
        if (!m.moved()) {
            throw conflict(m.job(), "cancel");
        }
        if (m.job().ended()) {
            ended.signal();
            if (m.job().callbackUrl() != null) {
                callbacks.signal();
            }
        } else {
            cancels.incrementAndGet(); // the dispatcher interrupts a running push job
            work.signal();
            dispatch.cancelRequested();
        }
        return m.job();
    }

    /** Requeue a failed job (the owner may requeue anyone's). */
    public Job requeue(long userId, boolean owner, String jobId, ObjectNode body) {
        Json.onlyFields(body, Set.of("priority", "device_serial", "queue_tag"),
                f -> "unknown field '" + f + "'; a requeue takes priority, device_serial, queue_tag");
        Integer priority = body.has("priority") ? integer(body, "priority", DEFAULT_PRIORITY, 0, MAX_PRIORITY) : null;
        String tag = body.hasNonNull("queue_tag") ? Names.required(body, "queue_tag") : null;
        boolean clearSerial = body.has("device_serial") && body.get("device_serial").isNull();
        String serial = body.hasNonNull("device_serial") ? Names.required(body, "device_serial") : null;
        visible(userId, owner, jobId);
        JobStore.Move m = store.requeue(jobId, priority, serial, clearSerial, tag, now()).orElseThrow(() -> notFound(jobId));
        if (!m.moved()) {
            throw conflict(m.job(), "requeue");
        }
        claimable(m.job());
        return m.job();
    }

    /** Delete a failed job (the owner may delete anyone's). */
    public Job delete(long userId, boolean owner, String jobId) {
        visible(userId, owner, jobId);
        JobStore.Move m = store.delete(jobId).orElseThrow(() -> notFound(jobId));
        if (!m.moved()) {
            throw conflict(m.job(), "delete");
        }
        return m.job();
    }

    private void visible(long userId, boolean owner, String jobId) {
        Job j = store.find(jobId).orElseThrow(() -> notFound(jobId));
        if (j.userId() != userId && !owner) {
            throw notFound(jobId);
        }
    }

    private static ApiException conflict(Job j, String what) {
        String why = switch (what) {
            case "cancel" -> "it has ended";
            default -> "only a failed job (in the dead-letter queue) can be " + (what.equals("delete") ? "deleted" : "requeued");
        };
        return new ApiException(Status.CONFLICT_409, "conflict", "cannot " + what + " job " + j.jobId() + ": it is "
                + j.state() + "; " + why);
    }

    // ---- workers -------------------------------------------------------------------------------------

    /** The agent whose device token this is. @throws ApiException 401 */
    public Device agent(String token) {
        if (token == null || token.isBlank()) {
            throw ApiException.unauthorized("a device token is required (X-Device-Token)");
        }
        return devices.store().byToken(token.strip())
                .orElseThrow(() -> ApiException.unauthorized("unknown device token; register the agent again for a new one"));
    }

    /**
     * Claims up to {@code max} jobs for the agent, waiting up to {@code waitS} seconds for one to come. An agent
     * its user set quiet or terminate gets none.
     */
    public List<Job> claim(Device agent, int max, int waitS, int leaseS) {
        long deadline = System.nanoTime() + waitS * 1_000_000_000L;
        while (true) {
            long seen = work.generation();
            List<Job> jobs = Device.RUNNING.equals(agent.agentState()) ? claimFor(agent, max, leaseS, false) : List.of();
            long left = deadline - System.nanoTime();
            if (!jobs.isEmpty() || left <= 0) {
                return jobs;
            }
            // retries come due by the clock, not by a signal: look again at least every second
            work.await(seen, Duration.ofNanos(Math.min(left, 1_000_000_000L)));
        }
    }

    /** One claim for a device (agent or the dispatcher on behalf of a push device). */
    List<Job> claimFor(Device d, int max, int leaseS, boolean pushed) {
        List<String> models = served(d);
        return store.claim(d.userId(), d.serial(), Json.text(d.queueTags()), Json.text(models), max, leaseS, pushed, now());
    }

    private List<String> served(Device d) {
        return devices.registry().state(d.id()).map(DeviceRegistry.State::served).orElse(d.models());
    }

    /**
     * A lease-holding call's answer: another user's job is 404. The lease id is a random secret that only
     * the claiming agent was given, so the move itself needs no read before it.
     */
    private static JobStore.Move mine(Device agent, String jobId, java.util.Optional<JobStore.Move> m) {
        if (m.isEmpty() || m.get().job().userId() != agent.userId()) {
            throw notFound(jobId);
        }
        return m.get();
    }

    public Job heartbeat(Device agent, String jobId, String leaseId) {
        JobStore.Move m = mine(agent, jobId, store.extend(jobId, leaseId, now()));
        if (!m.moved()) {
            throw stale(m.job());
        }
        return m.job();
    }

    /** An agent's result: done; a repeat with the same lease answers the stored outcome. */
    public Job complete(Device agent, String jobId, String leaseId, JsonNode output, JsonNode metrics, JsonNode raw) {
        JobStore.Move m = mine(agent, jobId, store.complete(new JobStore.Done(jobId, leaseId, agent.userId(),
                Json.text(output), JobText.text(metrics), JobText.text(raw), now(), usage(true, null, null, metrics))));
        if (!m.moved()) {
            if (leaseId.equals(m.job().leaseId()) && Job.DONE.equals(m.job().state())) {
                return m.job();
            }
            throw stale(m.job());
        }
        attemptEnded(m.job(), true, metrics);
        return m.job();
    }

    /** An agent's failure: retried after a backoff when retryable and attempts remain, else failed. */
    public Job fail(Device agent, String jobId, String leaseId, String type, String message, Boolean retryable,
                    JsonNode metrics) {
        boolean retry = retryable != null ? retryable : RETRYABLE.contains(type);
        JobStore.Move m = mine(agent, jobId, store.finish(jobId, leaseId, now(), j -> failure(j, type, message, retry,
                metrics), usage(false, type, message, metrics)));
        if (!m.moved()) {
            if (leaseId.equals(m.job().leaseId()) && !Job.RUNNING.equals(m.job().state())
                    && !Job.DONE.equals(m.job().state()) && m.job().attempt() > 0) {
                return m.job();
            }
            throw stale(m.job());
        }
        attemptEnded(m.job(), false, metrics);
        return m.job();
    }

    private static ApiException stale(Job j) {
        return new ApiException(Status.CONFLICT_409, "stale_lease", "the lease is not the current lease of job " + j.jobId()
                + "; the job is " + j.state());
    }

    /** How a failed attempt ends the job, given its state now. */
    JobStore.Ending failure(Job j, String type, String message, boolean retryable, JsonNode metrics) {
        String metricsJson = JobText.text(metrics);
        if (j.cancelRequested()) {
            return new JobStore.Ending(Job.CANCELLED, error("cancelled", "cancelled while running (" + type + ": "
                    + message + ")"), null, metricsJson, null, j.runAtMs(), "cancelled");
        }
        String err = error(type, message);
        if (retryable && j.attempt() < j.maxAttempts()) {
            return new JobStore.Ending(Job.RETRYING, err, null, metricsJson, null, now() + delayMs(j),
                    "retrying");
        }
        return new JobStore.Ending(Job.FAILED, err, null, metricsJson, null, j.runAtMs(), "failed");
    }

    /** {@code backoff_s × 2^(attempt−1)}, capped at 10 minutes, times a random 0.5–1.0 (jitter). */
    static long delayMs(Job j) {
        double base = j.backoffS() * 1000 * Math.pow(2, Math.max(0, j.attempt() - 1));
        double capped = Math.min(MAX_DELAY_MS, base);
        return Math.round(capped * ThreadLocalRandom.current().nextDouble(0.5, 1.0));
    }

    private static String error(String type, String message) {
        return Json.text(Json.fields("type", type, "message", message));
    }

    /** A push attempt's answer: the job is done, with the call's output and measurements. */
    void pushDone(Job j, ModelReply r) {
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("prompt_tokens", r.promptTokens());
        metrics.put("completion_tokens", r.completionTokens());
        metrics.put("latency_ms", r.latencyMs());
        metrics.put("ttft_ms", r.ttftMs());
        metrics.put("load_ms", r.loadMs());
        metrics.put("prefill_tok_s", r.prefillTokS());
        metrics.put("decode_tok_s", r.decodeTokS());
        metrics.values().removeIf(java.util.Objects::isNull);
        String output = Json.text(Json.fields("text", r.content(), "done_reason", r.doneReason()));
        String metricsJson = Json.text(metrics);
        store.complete(new JobStore.Done(j.jobId(), j.leaseId(), j.userId(), output, metricsJson, JobText.text(r.raw()), now(),
                        null))
                .filter(JobStore.Move::moved)
                .ifPresent(m -> attemptEnded(m.job(), true, Json.MAPPER.valueToTree(metrics)));
    }

    /** A push attempt failed (or was interrupted by a cancel). */
    void pushFailed(Job j, String type, String message) {
        store.finish(j.jobId(), j.leaseId(), now(), x -> failure(x, type, message, RETRYABLE.contains(type), null), null)
                .filter(JobStore.Move::moved)
                .ifPresent(m -> attemptEnded(m.job(), false, null));
    }

    /** Ends running attempts whose lease ran out: a failed, retryable attempt ({@code lease_expired}). */
    public int expireLeases() {
        List<Job> expired = store.expireLeases(now(), 500, j -> failure(j, "lease_expired",
                "no heartbeat or result before the lease ended", true, null),
                usage(false, "lease_expired", "the lease ended", null));
        for (Job j : expired) {
            attemptEnded(j, false, null);
        }
        if (!expired.isEmpty()) {
            work.signal();
        }
        return expired.size();
    }

    /** After a restart: attempts the server's own dispatcher ran are over. */
    public int interruptPushed() {
        List<Job> ended = store.interruptPushed(now(), j -> failure(j, "lease_expired", "the server stopped during the attempt",
                true, null));
        ended.stream().filter(j -> Job.RETRYING.equals(j.state())).forEach(this::claimable);
        return ended.size();
    }

    /**
     * What makes an ended attempt's usage row, which the store writes in the transaction that ends it (so a crash
     * cannot keep the end and lose the row, and the row costs no transaction of its own). The metrics are read here,
     * before the writer is taken; inside it only the job's own fields are added. Push attempts get their usage row
     * from the model call itself.
     */
    private Function<Job, UsageStore.Row> usage(boolean ok, String errorType, String message, JsonNode metrics) {
        AttemptMetrics m = AttemptMetrics.of(metrics);
        // the dataset a job names carries its usage row, so the row it appends there makes no second one
        return j -> j.pushed() ? null : new UsageStore.Row(j.userId(), null,
                j.startedAt() == null ? now() : IsoTime.epochMs(j.startedAt()), "job", j.leaseId(), j.device(),
                j.model(), j.queueTag(), m.promptTokens(), m.completionTokens(), m.latencyMs(), m.ttftMs(), m.tokS(),
                ok, errorType, message, j.jobId(), null, m.extra(), null, j.adapterId(), null);
    }

    /** After an attempt ended: wakes who waits for it, makes a retried job claimable, appends the dataset row. */
    void attemptEnded(Job j, boolean ok, JsonNode metrics) {
        if (j.ended()) {
            ended.signal();
            if (j.callbackUrl() != null) {
                callbacks.signal();
            }
        }
        if (Job.RETRYING.equals(j.state())) {
            claimable(j);
        }
        if (ok && j.adapterId() != null) {
            sink.append(j.userId(), j.adapterId(), datasetRow(j, metrics));
        }
    }

    private static final Set<String> STANDARD = Set.of("prompt_tokens", "completion_tokens", "latency_ms", "ttft_ms",
            "tok_s", "extra");

    /** The usage row's fields an agent reports: standard metrics, and the other numbers as extra (JSON text). */
    private record AttemptMetrics(Integer promptTokens, Integer completionTokens, Double latencyMs, Double ttftMs,
                                  Double tokS, String extra) {
        static AttemptMetrics of(JsonNode metrics) {
            JsonNode m = metrics == null ? Json.MAPPER.createObjectNode() : metrics;
            Double latency = number(m, "latency_ms");
            Integer completion = m.path("completion_tokens").canConvertToInt() && m.path("completion_tokens").isNumber()
                    ? m.path("completion_tokens").asInt() : null;
            Double tokS = number(m, "tok_s");
            if (tokS == null) {
                tokS = number(m, "decode_tok_s");
            }
            if (tokS == null && completion != null && latency != null && latency > 0) {
                tokS = Math.round(completion * 1000.0 / latency * 1000) / 1000.0;
            }
            Map<String, Object> extra = new LinkedHashMap<>();
            m.fields().forEachRemaining(e -> {
                if (!STANDARD.contains(e.getKey()) && e.getValue().isNumber()) {
                    extra.put(e.getKey(), e.getValue().asDouble());
                }
            });
            m.path("extra").fields().forEachRemaining(e -> {
                if (e.getValue().isNumber()) {
                    extra.put(e.getKey(), e.getValue().asDouble());
                }
            });
            return new AttemptMetrics(m.path("prompt_tokens").isNumber() ? m.path("prompt_tokens").asInt() : null,
                    completion, latency, number(m, "ttft_ms"), tokS, extra.isEmpty() ? null : Json.text(extra));
        }
    }

    private static Double number(JsonNode m, String field) {
        JsonNode v = m.get(field);
        return v != null && v.isNumber() ? v.asDouble() : null;
    }

    /** The row a job appends to its dataset: the standard fields and every metric the device reported. */
    static Map<String, Object> datasetRow(Job j, JsonNode metrics) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("ts", j.finishedAt());
        row.put("device", j.device());
        row.put("model", j.model());
        row.put("job_id", j.jobId());
        if (metrics != null) {
            metrics.fields().forEachRemaining(e -> row.put(e.getKey(), e.getValue()));
        }
        return row;
    }

    // ---- the device heartbeat --------------------------------------------------------------------------

    /**
     * An agent's heartbeat: stored and shown by GET /devices. Answers what the server asks of the agent
     * ({@code running}, {@code quiet}: finish your jobs and take no new ones, {@code terminate}: stop, as its
     * user set it) and the jobs a cancel waits on. The token of an agent that was registered again or removed
     * is answered {@code terminate}, so that the old process stops.
     */
    public Map<String, Object> deviceHeartbeat(String token, String serial, ObjectNode status) {
        Device agent;
        try {
            agent = agent(token);
        } catch (ApiException unknown) {
            if (token != null && !token.isBlank() && devices.store().retired(token.strip())) {
                return Json.fields("ok", true, "server_time", IsoTime.format(now()), "state", "terminate",
                        "cancel_job_ids", List.of());
            }
            throw unknown;
        }
        if (!agent.serial().equals(serial)) {
            throw ApiException.notFound("no device with serial '" + serial + "' holds this device token");
        }
        return deviceHeartbeat(agent, status);
    }

    /** An agent's heartbeat, its token checked: stored, and answered with its state and the jobs a cancel waits on. */
    public Map<String, Object> deviceHeartbeat(Device agent, ObjectNode status) {
        List<String> models = null;
        JsonNode m = status.get("models");
        if (m != null && !m.isNull()) {
            if (!m.isArray()) {
                throw ApiException.invalid("'models' must be a list of model names");
            }
            models = new ArrayList<>();
            for (JsonNode x : m) {
                if (!x.isTextual()) {
                    throw ApiException.invalid("'models' must be a list of model names (strings)");
                }
                models.add(Names.check("models", x.asText()));
            }
        }
        JsonNode ready = status.get("ready");
        if (ready != null && !ready.isNull() && !ready.isBoolean()) {
            throw ApiException.invalid("'ready' must be true or false");
        }
        for (String f : List.of("battery_pct", "temp_c", "free_mem_mb", "inflight")) {
            JsonNode v = status.get(f);
            if (v != null && !v.isNull() && !v.isNumber()) {
                throw ApiException.invalid("'" + f + "' must be a number");
            }
        }
        long now = now();
        devices.registry().heartbeat(agent.id(), status, models, now);
        devices.store().heartbeat(agent.id(), Json.text(status), IsoTime.format(now));
        return Json.fields("ok", true, "server_time", IsoTime.format(now), "state", agent.agentState(),
                "cancel_job_ids", store.cancelRequested(agent.serial(), agent.userId()));
    }

    // ---- body helpers ---------------------------------------------------------------------------------

    static String optionalText(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw ApiException.invalid("'" + field + "' must be a string");
        }
        return v.asText();
    }

    static int integer(JsonNode body, String field, int fallback, int min, int max) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < min || v.asInt() > max) {
            throw ApiException.invalid("'" + field + "' must be a whole number from " + min + " to " + max);
        }
        return v.asInt();
    }
}
