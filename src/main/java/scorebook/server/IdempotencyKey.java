package scorebook.server;

import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;

/** The one rule for an Idempotency-Key header (job enqueues, usage imports): trimmed, 1 to 255 characters. */
public final class IdempotencyKey {
    public static final HeaderName HEADER = HeaderNames.create("Idempotency-Key");
    /** Set on an answer that replays the one stored for the key. */
    public static final HeaderName REPLAYED = HeaderNames.create("Idempotent-Replayed");
    private static final int MAX = 255;

    private IdempotencyKey() {
    }

    /** The request's key, or null when it has none; 422 when it is empty or too long. */
    public static String of(ServerRequest req) {
        return check(req.headers().first(HEADER).orElse(null));
    }

    /** The key trimmed (null stays null); 422 when it is empty or longer than 255 characters. */
    public static String check(String raw) {
        if (raw == null) {
            return null;
        }
        String key = raw.strip();
        if (key.isEmpty() || key.length() > MAX) {
            throw ApiException.invalid("the Idempotency-Key header must hold 1 to " + MAX + " characters");
        }
        return key;
    }
}
