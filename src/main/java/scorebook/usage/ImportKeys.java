package scorebook.usage;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

import scorebook.auth.Tokens;
import scorebook.store.Database;

/** The answers of usage imports sent with an Idempotency-Key, kept 24 hours to be replayed (schema/021). */
public final class ImportKeys {
    static final Duration KEPT = Duration.ofHours(24);

    /** A stored answer: the request it answered (as {@link #hash}), its HTTP status and JSON text. */
    public record Answer(String bodyHash, int status, String answer) {
    }

    private final Database db;

    public ImportKeys(Database db) {
        this.db = db;
    }

    /** The answer stored for the user's key in the last 24 hours, if any. */
    public Optional<Answer> find(long userId, String key, long nowMs) {
        return db.read(h -> h.createQuery("""
                        SELECT body_hash, status, answer FROM usage_import_keys
                        WHERE user_id = :user AND key = :key AND created_ms > :since""")
                .bind("user", userId).bind("key", key).bind("since", nowMs - KEPT.toMillis())
                .mapTo(Answer.class).findOne());
    }

    /**
     * Keeps the answer for the user's key, unless a request with the same key got there first (two sent at once
     * both import; the event keys skip the second one's rows, and the first answer is the one replayed). The
     * user's expired keys go in the same write.
     */
    public void remember(long userId, String key, Answer a, long nowMs) {
        db.write(h -> {
            h.createUpdate("DELETE FROM usage_import_keys WHERE user_id = :user AND created_ms <= :since")
                    .bind("user", userId).bind("since", nowMs - KEPT.toMillis()).execute();
            return h.createUpdate("""
                            INSERT INTO usage_import_keys (user_id, key, body_hash, status, answer, created_ms)
                            VALUES (:user, :key, :hash, :status, :answer, :now) ON CONFLICT DO NOTHING""")
                    .bind("user", userId).bind("key", key).bind("hash", a.bodyHash()).bind("status", a.status())
                    .bind("answer", a.answer()).bind("now", nowMs).execute();
        });
    }

    /** What makes two imports the same request: the body and everything that changes what is done with it. */
    static String hash(byte[] body, String contentType, boolean strict, boolean dryRun, String sourceKind) {
        return Tokens.sha256((contentType + '\n' + strict + '\n' + dryRun + '\n' + sourceKind + '\n')
                .getBytes(StandardCharsets.UTF_8), body);
    }
}
