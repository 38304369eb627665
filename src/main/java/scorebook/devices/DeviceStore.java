package scorebook.devices;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import org.jdbi.v3.core.Handle;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import scorebook.auth.Tokens;
import scorebook.server.ApiException;
import scorebook.server.Json;
import scorebook.store.Database;
import scorebook.usage.UsageStore;

/** SQL for devices. Every query is scoped to one user except {@link #all}, which loads the registry. */
public final class DeviceStore {
    private static final String COLUMNS = """
            id, user_id, serial, kind, mode, name, base_url, models, weight, max_concurrency, created_at, updated_at, api_key,
            queue_tags, agent_state""";

    /**
     * What a registration asks for (validated by the caller). {@code apiKey}: null keeps the stored one, "" removes
     * it, anything else replaces it.
     */
    public record Registration(String serial, String kind, String name, String baseUrl, List<String> models, int weight,
                               int maxConcurrency, String apiKey, List<String> queueTags) {
        /** Without the API key, so that logging a registration cannot leak it. */
        @Override
        public String toString() {
            return "Registration[serial=" + serial + ", kind=" + kind + ", baseUrl=" + baseUrl + ", models=" + models
                    + ", queueTags=" + queueTags + "]";
        }
    }



    /** The stored device and whether the registration created it (else it updated it). */
    public record Saved(Device device, boolean created) {
    }

    private final Database db;

    public DeviceStore(Database db) {
        this.db = db;
    }

    /** Creates the device, or updates the one with the same serial (registering again changes it). */
    public Saved register(long userId, Registration r) {
        agents.clear();
        String now = UsageStore.iso(System.currentTimeMillis());
        return db.write(h -> {
            Optional<Device> before = find(h, userId, r.serial());
            h.createUpdate("""
                            INSERT INTO devices (user_id, serial, kind, mode, name, base_url, models, weight, max_concurrency,
                                                 created_at, updated_at, api_key, queue_tags)
                            VALUES (:user, :serial, :kind, :mode, :name, :url, :models, :weight, :conc, :now, :now,
                                    NULLIF(:key, ''), :tags)
                            ON CONFLICT (user_id, serial) DO UPDATE SET
                                kind = excluded.kind, mode = excluded.mode, name = excluded.name, base_url = excluded.base_url,
                                models = excluded.models, weight = excluded.weight,
                                max_concurrency = excluded.max_concurrency, updated_at = excluded.updated_at,
                                queue_tags = excluded.queue_tags,
                                agent_state = CASE WHEN devices.agent_state = 'terminate' THEN 'running'
                                                   ELSE devices.agent_state END,
                                api_key = CASE WHEN excluded.mode = 'pull' THEN NULL
                                               WHEN :key IS NULL THEN devices.api_key ELSE NULLIF(:key, '') END""")
                    .bind("user", userId).bind("serial", r.serial()).bind("kind", r.kind())
                    .bind("mode", Device.modeOf(r.kind())).bind("name", r.name()).bind("url", r.baseUrl())
                    .bind("models", Json.text(r.models())).bind("weight", r.weight()).bind("conc", r.maxConcurrency())
                    .bind("tags", Json.text(r.queueTags())).bind("now", now).bind("key", r.apiKey()).execute();
            return new Saved(find(h, userId, r.serial()).orElseThrow(), before.isEmpty());
        });
    }

    public List<Device> list(long userId) {
        return db.read(h -> h.createQuery("SELECT " + COLUMNS + " FROM devices WHERE user_id = ? ORDER BY serial")
                .bind(0, userId).map((rs, ctx) -> row(rs)).list());
    }

    /** Every device of every user: what the registry routes among. */
    public List<Device> all() {
        return db.read(h -> h.createQuery("SELECT " + COLUMNS + " FROM devices ORDER BY id").map((rs, ctx) -> row(rs)).list());
    }

    /** Removes one of the user's devices; 404 when the user has none by that serial. */
    public Device remove(long userId, String serial) {
        try {
            return db.write(h -> {
                Device d = find(h, userId, serial).orElseThrow(() -> notFound(serial));
                retireToken(h, d.id());
                h.createUpdate("DELETE FROM devices WHERE id = ?").bind(0, d.id()).execute();
                return d;
            });
        } finally {
            agents.clear(); // after the commit: a lookup racing with it cannot keep the device
        }
    }

    /**
     * Gives an agent a new device token (the old one stops working); only its hash is kept.
     *
     * @return the token, to show once
     */
    public String rotateToken(long deviceId) {
        String token = Tokens.generate("sbd_");
        try {
            db.write(h -> {
                retireToken(h, deviceId);
                return h.createUpdate("UPDATE devices SET token_hash = ? WHERE id = ?")
                        .bind(0, Tokens.hash(token)).bind(1, deviceId).execute();
            });
        } finally {
            agents.clear();
        }
        return token;
    }

    /**
     * The agent holding this device token. Found agents are kept for {@link #TOKEN_CACHE} (a worker calls
     * three times per job); registering or removing here clears them, another process's change lands
     * within that time.
     */
    public Optional<Device> byToken(String token) {
        long nowNs = System.nanoTime();
        CachedAgent hit = agents.get(token);
        if (hit != null && hit.untilNs() - nowNs > 0) {
            return Optional.of(hit.device());
        }
        Optional<Device> found = db.read(h -> h.createQuery("SELECT " + COLUMNS
                        + " FROM devices WHERE token_hash = ? AND kind = 'agent'")
                .bind(0, Tokens.hash(token)).map((rs, ctx) -> row(rs)).findOne());
        if (found.isPresent()) {
            if (agents.size() > 10_000) {
                agents.clear();
            }
            agents.put(token, new CachedAgent(found.get(), nowNs + TOKEN_CACHE.toNanos()));
        }
        return found;
    }

    /** Keeps the device's current token hash (if any) as retired: its agent's heartbeats are told to terminate. */
    private static void retireToken(Handle h, long deviceId) {
        h.createUpdate("""
                        INSERT OR REPLACE INTO retired_device_tokens (token_hash, serial)
                        SELECT token_hash, serial FROM devices WHERE id = :id AND token_hash IS NOT NULL""")
                .bind("id", deviceId).execute();
    }

    /** Whether this device token belonged to an agent that was registered again (a new token) or removed. */
    public boolean retired(String token) {
        return db.read(h -> h.createQuery("SELECT EXISTS (SELECT 1 FROM retired_device_tokens WHERE token_hash = ?)")
                .bind(0, Tokens.hash(token)).mapTo(boolean.class).one());
    }

    /**
     * Sets what an agent's heartbeat answer asks of it: running, quiet or terminate (validated by the caller).
     * A quiet or terminating agent gets no new jobs.
     */
    public Device agentState(long userId, String serial, String state) {
        try {
            return db.write(h -> {
                Device d = find(h, userId, serial).orElseThrow(() -> notFound(serial));
                h.createUpdate("UPDATE devices SET agent_state = ? WHERE id = ?").bind(0, state).bind(1, d.id()).execute();
                return find(h, userId, serial).orElseThrow();
            });
        } finally {
            agents.clear(); // the next worker call sees the new state
        }
    }

    private static final Duration TOKEN_CACHE = Duration.ofSeconds(2);
    private final ConcurrentHashMap<String, CachedAgent> agents = new ConcurrentHashMap<>();

    private record CachedAgent(Device device, long untilNs) {
    }

    /** Stores an agent's last heartbeat (JSON object text) and when it came. */
    public void heartbeat(long deviceId, String status, String at) {
        db.write(h -> h.createUpdate("UPDATE devices SET agent_status = ?, last_seen_at = ? WHERE id = ?")
                .bind(0, status).bind(1, at).bind(2, deviceId).execute());
    }

    /** Every agent's last heartbeat by device id: (status JSON, last seen), for the registry after a start. */
    public List<Heartbeat> heartbeats() {
        return db.read(h -> h.createQuery("""
                        SELECT id, agent_status, last_seen_at FROM devices WHERE last_seen_at IS NOT NULL""")
                .map((rs, ctx) -> new Heartbeat(rs.getLong(1), rs.getString(2), rs.getString(3))).list());
    }

    /** An agent's stored heartbeat. */
    public record Heartbeat(long deviceId, String status, String lastSeenAt) {
    }

    static ApiException notFound(String serial) {
        return ApiException.notFound("no device with serial '" + serial + "'");
    }

    private static Optional<Device> find(Handle h, long userId, String serial) {
        return h.createQuery("SELECT " + COLUMNS + " FROM devices WHERE user_id = ? AND serial = ?")
                .bind(0, userId).bind(1, serial).map((rs, ctx) -> row(rs)).findOne();
    }

    private static Device row(java.sql.ResultSet rs) throws java.sql.SQLException {
        return new Device(rs.getLong("id"), rs.getLong("user_id"), rs.getString("serial"), rs.getString("kind"),
                rs.getString("mode"), rs.getString("name"), rs.getString("base_url"), names(rs.getString("models")),
                rs.getInt("weight"), rs.getInt("max_concurrency"), rs.getString("created_at"), rs.getString("updated_at"),
                rs.getString("api_key"), names(rs.getString("queue_tags")), rs.getString("agent_state"));
    }

    private static List<String> names(String json) {
        try {
            return json == null ? List.of() : List.copyOf(Json.MAPPER.readValue(json, new TypeReference<List<String>>() { }));
        } catch (JsonProcessingException e) {
            return List.of();
        }
    }
}
