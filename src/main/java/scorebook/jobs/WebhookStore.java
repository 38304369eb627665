package scorebook.jobs;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.jdbi.v3.core.Handle;

import scorebook.server.Json;
import scorebook.store.Database;
import scorebook.store.IsoTime;

/** SQL for callbacks: the users' signing secrets and the deliveries of job events. */
public final class WebhookStore {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int PREVIEW = 1024;

    /** A user's secrets: the current one and, until {@code previousUntilMs}, the one it replaced. */
    public record Secrets(String secret, String previous, Long previousUntilMs, String createdAt) {
        /** The secrets that sign at {@code nowMs}, current first. */
        public List<String> signing(long nowMs) {
            return previous != null && previousUntilMs != null && nowMs < previousUntilMs ? List.of(secret, previous)
                    : List.of(secret);
        }
    }

    /** One event for a callback URL, with its retry state. */
    public record Delivery(long id, long jobRow, long userId, String webhookId, String event, String url, String body,
                           String state, int attempts, long nextAtMs, Integer lastStatus, String lastError,
                           String createdAt, String lastAttemptAt, String deliveredAt) {
        /** As listed by {@code GET /api/jobs/{id}/deliveries}. */
        public Map<String, Object> view() {
            return Json.fields("webhook_id", webhookId, "event", event, "url", url, "state", state, "attempts", attempts,
                    "next_attempt_at", "pending".equals(state) ? IsoTime.format(nextAtMs) : null,
                    "last_status", lastStatus, "last_error", lastError, "created_at", createdAt,
                    "last_attempt_at", lastAttemptAt, "delivered_at", deliveredAt);
        }
    }

    private static final String COLUMNS = """
            id, job_row, user_id, webhook_id, event, url, body, state, attempts, next_at_ms, last_status, last_error,
            created_at, last_attempt_at, delivered_at""";

    private final Database db;

    public WebhookStore(Database db) {
        this.db = db;
    }

    /** The user's secrets, made on first use. */
    public Secrets secrets(long userId, long nowMs) {
        Optional<Secrets> s = db.read(h -> find(h, userId));
        return s.orElseGet(() -> db.write(h -> {
            h.createUpdate("""
                            INSERT INTO webhook_secrets (user_id, secret, created_at) VALUES (?, ?, ?)
                            ON CONFLICT (user_id) DO NOTHING""")
                    .bind(0, userId).bind(1, newSecret()).bind(2, IsoTime.format(nowMs)).execute();
            return find(h, userId).orElseThrow();
        }));
    }

    /** A new secret; the current one keeps signing until {@code previousUntilMs}. */
    public Secrets rotate(long userId, long nowMs, long previousUntilMs) {
        secrets(userId, nowMs);
        return db.write(h -> {
            h.createUpdate("""
                            UPDATE webhook_secrets SET previous = secret, previous_until_ms = :until, secret = :secret,
                                created_at = :now
                            WHERE user_id = :user""")
                    .bind("until", previousUntilMs).bind("secret", newSecret()).bind("now", IsoTime.format(nowMs))
                    .bind("user", userId).execute();
            return find(h, userId).orElseThrow();
        });
    }

    private static Optional<Secrets> find(Handle h, long userId) {
        return h.createQuery("SELECT secret, previous, previous_until_ms, created_at FROM webhook_secrets WHERE user_id = ?")
                .bind(0, userId).mapTo(Secrets.class).findOne();
    }

    /** {@code whsec_} and 32 random bytes in base64 (Standard Webhooks). */
    static String newSecret() {
        byte[] key = new byte[32];
        RANDOM.nextBytes(key);
        return "whsec_" + Base64.getEncoder().encodeToString(key);
    }

    /** Queues the event of a job that just ended, when it has a callback URL (inside the job's transaction). */
    void queue(Handle h, Job job, long nowMs) {
        if (job.callbackUrl() == null) {
            return;
        }
        String event = "job." + job.state();
        String webhookId = "evt_" + HexFormat.of().formatHex(randomBytes(12));
        String text = job.text();
        Map<String, Object> data = Json.fields("job_id", job.jobId(), "state", job.state(), "attempt", job.attempt(),
                "max_attempts", job.maxAttempts(), "priority", job.priority(), "queue_tag", job.queueTag(),
                "model", job.model(), "device_serial", job.deviceSerial(), "device", job.device(),
                "adapter_id", job.adapterId(), "enqueued_at", job.enqueuedAt(), "started_at", job.startedAt(),
                "finished_at", job.finishedAt(), "metrics", JobText.tree(job.metrics()),
                "output_preview", text.length() > PREVIEW ? text.substring(0, PREVIEW) : text,
                "error", JobText.tree(job.error()),
                "result_url", "/api/jobs/" + job.jobId() + "/result?format=json&full=1");
        String body = Json.text(Json.fields("type", event, "timestamp", IsoTime.format(nowMs), "data", data));
        h.createUpdate("""
                        INSERT INTO webhook_deliveries (job_row, user_id, webhook_id, event, url, body, state, next_at_ms,
                                                        created_at)
                        VALUES (:job, :user, :id, :event, :url, :body, 'pending', :now, :nowIso)""")
                .bind("job", job.id()).bind("user", job.userId()).bind("id", webhookId).bind("event", event)
                .bind("url", job.callbackUrl()).bind("body", body).bind("now", nowMs).bind("nowIso", IsoTime.format(nowMs))
                .execute();
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    /** Deliveries due at {@code nowMs}, oldest first. */
    public List<Delivery> due(long nowMs, int max) {
        return db.read(h -> h.createQuery("SELECT " + COLUMNS
                        + " FROM webhook_deliveries WHERE state = 'pending' AND next_at_ms <= ? ORDER BY next_at_ms, id LIMIT ?")
                .bind(0, nowMs).bind(1, max).mapTo(Delivery.class).list());
    }

    /** Records one try: its new state, when to try again (pending), the answer's status or the error. */
    public void tried(long id, String state, long nextAtMs, Integer status, String error, long nowMs) {
        String nowIso = IsoTime.format(nowMs);
        db.write(h -> h.createUpdate("""
                        UPDATE webhook_deliveries SET state = :state, attempts = attempts + 1, next_at_ms = :next,
                            last_status = :status, last_error = :error, last_attempt_at = :now,
                            delivered_at = CASE WHEN :state = 'delivered' THEN :now ELSE delivered_at END
                        WHERE id = :id AND state = 'pending'""")
                .bind("state", state).bind("next", nextAtMs).bind("status", status).bind("error", error)
                .bind("now", nowIso).bind("id", id).execute());
    }

    /** A job's deliveries, oldest first. */
    public List<Delivery> deliveries(long jobRow) {
        return db.read(h -> h.createQuery("SELECT " + COLUMNS + " FROM webhook_deliveries WHERE job_row = ? ORDER BY id")
                .bind(0, jobRow).mapTo(Delivery.class).list());
    }
}
