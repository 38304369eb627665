package scorebook.evals;

import java.util.Iterator;
import java.util.Map;

import org.jdbi.v3.core.Handle;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.ApiException;
import scorebook.store.Database;

/** Each user's eval settings (table eval_config): defaults until first changed, validated on change. */
public final class ConfigStore {
    /**
     * What a runner reads at the start of each run.
     *
     * @param concurrency evals run at once, 1 to 256 (default 1, as the original)
     * @param timeout     seconds per eval, or null for none
     * @param verbose     whether eval output is shown rather than captured
     */
    public record EvalConfig(int concurrency, Double timeout, boolean verbose) {
        public static final EvalConfig DEFAULT = new EvalConfig(1, null, false);
    }

    private final Database db;

    public ConfigStore(Database db) {
        this.db = db;
    }

    public EvalConfig get(long userId) {
        return db.read(h -> current(h, userId));
    }

    /** Applies the given keys over the current settings; any invalid or unknown key → 422 and nothing changes. */
    public EvalConfig update(long userId, JsonNode changes) {
        return db.write(h -> {
            EvalConfig c = current(h, userId);
            int concurrency = c.concurrency();
            Double timeout = c.timeout();
            boolean verbose = c.verbose();
            for (Iterator<Map.Entry<String, JsonNode>> it = changes.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode v = e.getValue();
                switch (e.getKey()) {
                    case "concurrency" -> {
                        if (!v.canConvertToExactIntegral() || !v.isNumber() || v.asDouble() < 1 || v.asDouble() > 256) {
                            throw ApiException.invalid("'concurrency' must be a whole number from 1 to 256");
                        }
                        concurrency = v.asInt();
                    }
                    case "timeout" -> {
                        if (!v.isNull() && (!v.isNumber() || !(v.asDouble() > 0) || Double.isInfinite(v.asDouble()))) {
                            throw ApiException.invalid("'timeout' must be a number of seconds above 0, or null for none");
                        }
                        timeout = v.isNull() ? null : v.asDouble();
                    }
                    case "verbose" -> {
                        if (!v.isBoolean()) {
                            throw ApiException.invalid("'verbose' must be true or false");
                        }
                        verbose = v.asBoolean();
                    }
                    default -> throw ApiException.invalid("'" + e.getKey()
                            + "' is not a known setting (known: concurrency, timeout, verbose)");
                }
            }
            h.createUpdate("""
                            INSERT INTO eval_config (user_id, concurrency, timeout, verbose) VALUES (?, ?, ?, ?)
                            ON CONFLICT (user_id) DO UPDATE
                            SET concurrency = excluded.concurrency, timeout = excluded.timeout, verbose = excluded.verbose""")
                    .bind(0, userId).bind(1, concurrency).bind(2, timeout).bind(3, verbose).execute();
            return new EvalConfig(concurrency, timeout, verbose);
        });
    }

    private static EvalConfig current(Handle h, long userId) {
        return h.createQuery("SELECT concurrency, timeout, verbose FROM eval_config WHERE user_id = ?")
                .bind(0, userId).mapTo(EvalConfig.class).findOne().orElse(EvalConfig.DEFAULT);
    }
}
