package scorebook.jobs;

import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.store.IsoTime;

/**
 * A job as stored (one row of {@code jobs}). JSON-valued columns stay text here; {@link #record}
 * is the job record the API answers with.
 *
 * @param id              row id: the enqueue order
 * @param jobId           public id, {@code job_<hex>}
 * @param userId          owner
 * @param state           queued, running, retrying, done, failed, cancelled
 * @param priority        0 (most urgent) to 9
 * @param queueTag        the queue; devices take jobs of the tags they carry
 * @param model           the model asked for, or null for the device's first
 * @param deviceSerial    the device the job is pinned to, or null
 * @param device          the device that ran (or runs) the last attempt
 * @param prompt          the prompt
 * @param system          the system message, or null
 * @param options         Ollama-style options, JSON object text, or null
 * @param adapterId       the dataset receiving the job's metrics row, or null
 * @param callbackUrl     where the job's end is posted, or null
 * @param attempt         attempts made since the enqueue (or the last requeue)
 * @param maxAttempts     attempts allowed
 * @param backoffS        base of the retry delay, seconds
 * @param cancelRequested a cancel waits for the running attempt to stop
 * @param runAtMs         claimable from then (epoch ms)
 * @param leaseId         the current (or last) attempt's lease
 * @param leaseS          the lease length a heartbeat extends it by, seconds
 * @param leaseExpiresMs  when the running attempt's lease ends (epoch ms)
 * @param pushed          run by the server's own dispatcher (push device) rather than an agent
 * @param error           JSON {type, message} of the last failure, or null
 * @param output          JSON {text, done_reason}, or null
 * @param metrics         JSON object, or null
 * @param raw             JSON of the device's answer, or null
 * @param enqueuedAt      ISO-8601
 * @param startedAt       when the last attempt started, ISO-8601
 * @param finishedAt      when the job ended, ISO-8601
 */
public record Job(long id, String jobId, long userId, String state, int priority, String queueTag, String model,
                  String deviceSerial, String device, String prompt, String system, String options, String adapterId,
                  String callbackUrl, int attempt, int maxAttempts, double backoffS, boolean cancelRequested, long runAtMs,
                  String leaseId, Integer leaseS, Long leaseExpiresMs, boolean pushed, String error, String output,
                  String metrics, String raw, String enqueuedAt, String startedAt, String finishedAt) {

    public static final String QUEUED = "queued";
    public static final String RUNNING = "running";
    public static final String RETRYING = "retrying";
    public static final String DONE = "done";
    public static final String FAILED = "failed";
    public static final String CANCELLED = "cancelled";

    public boolean ended() {
        return DONE.equals(state) || FAILED.equals(state) || CANCELLED.equals(state);
    }

    /** The job record of the API. */
    public Map<String, Object> record() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("job_id", jobId);
        m.put("state", state);
        m.put("status", state);
        m.put("priority", priority);
        m.put("queue_tag", queueTag);
        m.put("model", model);
        m.put("device_serial", deviceSerial);
        m.put("device", device);
        m.put("adapter_id", adapterId);
        m.put("callback_url", callbackUrl);
        m.put("attempt", attempt);
        m.put("max_attempts", maxAttempts);
        m.put("backoff_s", backoffS);
        m.put("cancel_requested", cancelRequested);
        m.put("error", JobText.tree(error));
        m.put("enqueued_at", enqueuedAt);
        m.put("started_at", startedAt);
        m.put("finished_at", finishedAt);
        m.put("next_run_at", RETRYING.equals(state) ? IsoTime.format(runAtMs) : null);
        m.put("lease_expires_at", RUNNING.equals(state) && leaseExpiresMs != null ? IsoTime.format(leaseExpiresMs) : null);
        return m;
    }

    /** The output's text, or "" when there is none. */
    public String text() {
        JsonNode o = JobText.tree(output);
        return o == null ? "" : o.path("text").asText("");
    }

    /** The error's type, or null. */
    public String errorType() {
        JsonNode e = JobText.tree(error);
        return e == null ? null : e.path("type").asText(null);
    }
}
