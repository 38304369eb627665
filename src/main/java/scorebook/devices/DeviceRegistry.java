package scorebook.devices;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import io.helidon.http.Status;

import com.fasterxml.jackson.databind.JsonNode;

import scorebook.server.ApiException;
import scorebook.usage.UsageStore;

/**
 * The devices in memory with their live state (health, calls in flight, circuit breaker), and
 * routing: a call for a model goes to one of the user's healthy push devices serving it whose
 * circuit is closed and which has a free slot, chosen by smooth weighted round-robin. When every
 * such device is busy the call waits for a slot (up to a limit); when none can serve, 503 says why.
 * <p>
 * Circuit breaker: {@value #FAILURES_TO_OPEN} failures in a row (calls or health checks) rest a
 * device for {@link #COOLDOWN}; then one call may try it (half-open): success closes the circuit,
 * failure rests it again. {@code POST /devices/reload} closes it for devices whose check passes.
 */
public final class DeviceRegistry {
    static final int FAILURES_TO_OPEN = 3;
    static final Duration COOLDOWN = Duration.ofSeconds(30);

    /** One device and its live state. Fields other than the volatile ones are guarded by the registry's lock. */
    public static final class State {
        private volatile Device device;
        private volatile boolean healthy = true;
        private volatile String reason = "not checked yet";
        private volatile List<String> reported = List.of();
        private volatile long lastOkMs;
        private volatile long lastErrorMs;
        private volatile String lastError;
        private volatile JsonNode agentStatus;
        private volatile long lastSeenMs;
        private int inflight;
        private int failures;
        private long openUntilMs;
        private long current;

        State(Device device) {
            this.device = device;
        }

        public Device device() {
            return device;
        }

        /** The models it serves: those registered, else those its health check reported. */
        public List<String> served() {
            List<String> registered = device.models();
            return registered.isEmpty() ? reported : registered;
        }

        String defaultModel() {
            List<String> s = served();
            return s.isEmpty() ? null : s.getFirst();
        }

        /** Whether routing may send it a call for {@code model}: see {@link DeviceRegistry#serves(List, String)}. */
        boolean serves(String model) {
            return DeviceRegistry.serves(served(), model);
        }
    }

    /**
     * The one "serves the model" rule, shared by routing, {@code /ask_trace} and the {@code model} filter of
     * {@code GET /devices}: a device serves a model it lists (registered, else reported by its health check or
     * heartbeat); a call naming no model goes to a device that lists any (its first is the default).
     */
    static boolean serves(List<String> served, String model) {
        return model == null ? !served.isEmpty() : served.contains(model);
    }

    /** A live view of one device for listings. */
    public record Snapshot(Device device, boolean healthy, String reason, int inflight, String openUntil,
                           List<String> served, List<String> reported, String lastOkAt, String lastErrorAt,
                           String lastError, int consecutiveFailures, JsonNode agentStatus, long lastSeenMs) {
        /** The model a call naming none runs on this device (as routing picks it), or null. */
        public String defaultModel() {
            return served.isEmpty() ? null : served.getFirst();
        }

        /** Whether routing may send it a call for {@code model} (null: none named), as routing decides it. */
        public boolean serves(String model) {
            return DeviceRegistry.serves(served, model);
        }

        /** An agent that sent a heartbeat within {@link #PRESENT} of {@code nowMs}. */
        public boolean present(long nowMs) {
            return lastSeenMs > 0 && nowMs - lastSeenMs < PRESENT.toMillis();
        }

        /** Whether its circuit is open (it rests after failures). */
        public boolean circuitOpen() {
            return openUntil != null;
        }
    }

    /** A slot taken on a device for one call; closing gives it back. */
    public final class Lease implements AutoCloseable {
        private final State state;
        private final String model;
        private boolean closed;

        Lease(State state, String model) {
            this.state = state;
            this.model = model;
        }

        public Device device() {
            return state.device;
        }

        public String model() {
            return model;
        }

        State state() {
            return state;
        }

        @Override
        public void close() {
            lock.lock();
            try {
                if (!closed) {
                    closed = true;
                    state.inflight--;
                    freed.signalAll();
                }
            } finally {
                lock.unlock();
            }
        }
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition freed = lock.newCondition();
    private final Map<Long, State> byId = new TreeMap<>(); // by id: routing ties go to the older device
    /** Circuit cool-downs and last-ok/error times; tests move it instead of waiting 30 s. */
    private final Clock clock;

    public DeviceRegistry() {
        this(Clock.systemUTC());
    }

    public DeviceRegistry(Clock clock) {
        this.clock = clock;
    }

    /** Bumped by every put and remove, so a load of an older read of the table cannot undo them. */
    private long version;

    /** Taken before reading the devices table for {@link #loadIfUnchanged}. */
    public long version() {
        lock.lock();
        try {
            return version;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Replaces the device set with one read after {@code version} was taken, unless a device was put or removed
     * since (then the read may miss it, and the next round loads again). Returns whether it loaded.
     */
    public boolean loadIfUnchanged(Collection<Device> devices, long version) {
        lock.lock();
        try {
            if (this.version != version) {
                return false;
            }
            load(devices);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Replaces the device set, keeping the live state of devices that stay. */
    public void load(Collection<Device> devices) {
        lock.lock();
        try {
            Map<Long, State> next = new HashMap<>();
            for (Device d : devices) {
                State s = byId.get(d.id());
                if (s == null) {
                    s = new State(d);
                } else {
                    s.device = d;
                }
                next.put(d.id(), s);
            }
            byId.clear();
            byId.putAll(next);
            freed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Adds or updates one device; returns its state. */
    public State put(Device d) {
        lock.lock();
        try {
            State s = byId.computeIfAbsent(d.id(), id -> new State(d));
            s.device = d;
            version++;
            freed.signalAll();
            return s;
        } finally {
            lock.unlock();
        }
    }

    public void remove(long deviceId) {
        lock.lock();
        try {
            byId.remove(deviceId);
            version++;
            freed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Every push device (for the health loop). */
    public List<State> push() {
        lock.lock();
        try {
            return byId.values().stream().filter(s -> s.device.push()).toList();
        } finally {
            lock.unlock();
        }
    }

    /** The user's devices, live state included, by serial. */
    public List<Snapshot> snapshots(long userId) {
        lock.lock();
        try {
            long now = clock.millis();
            return byId.values().stream().filter(s -> s.device.userId() == userId)
                    .sorted((a, b) -> a.device.serial().compareTo(b.device.serial()))
                    .map(s -> snapshot(s, now)).toList();
        } finally {
            lock.unlock();
        }
    }

    /** The registry's time (the server's clock), for presence and cool-downs. */
    public long nowMs() {
        return clock.millis();
    }

    /** Every user's devices with their live state, by user then serial (for /metrics). */
    public List<Snapshot> all() {
        lock.lock();
        try {
            long now = clock.millis();
            return byId.values().stream()
                    .sorted((a, b) -> a.device.userId() != b.device.userId() ? Long.compare(a.device.userId(), b.device.userId())
                            : a.device.serial().compareTo(b.device.serial()))
                    .map(s -> snapshot(s, now)).toList();
        } finally {
            lock.unlock();
        }
    }

    public java.util.Optional<Snapshot> snapshot(long userId, String serial) {
        return snapshots(userId).stream().filter(s -> s.device().serial().equals(serial)).findFirst();
    }

    private static Snapshot snapshot(State s, long now) {
        String openUntil = s.openUntilMs > now ? iso(s.openUntilMs) : null;
        return new Snapshot(s.device, s.healthy, openUntil != null ? "circuit open: " + s.reason : s.reason, s.inflight,
                openUntil, s.served(), s.reported, isoOrNull(s.lastOkMs), isoOrNull(s.lastErrorMs), s.lastError, s.failures,
                s.agentStatus, s.lastSeenMs);
    }

    /**
     * Takes a slot for a call.
     *
     * @param userId  whose devices
     * @param model   the model asked for, or null for the chosen device's first model
     * @param serial  a device the caller insists on, or null
     * @param wait    how long to wait for a slot when every device that could serve is busy
     * @param exclude devices already tried for this call
     * @return the slot (close it when the call ends)
     * @throws ApiException 404 for an unknown serial, 404 model_not_found for a model no device serves, 503 when
     *                      the devices that serve it cannot take the call now (the message says why)
     */
    public Lease acquire(long userId, String model, String serial, Duration wait, Set<Long> exclude) {
        long deadline = System.nanoTime() + wait.toNanos();
        lock.lock();
        try {
            while (true) {
                List<State> candidates = candidates(userId, model, serial, exclude);
                long now = clock.millis();
                State best = null;
                long total = 0;
                boolean anyBusy = false;
                for (State s : candidates) {
                    if (!s.healthy || s.openUntilMs > now) {
                        continue;
                    }
                    if (s.inflight >= s.device.maxConcurrency()) {
                        anyBusy = true;
                        continue;
                    }
                    s.current += s.device.weight();
                    total += s.device.weight();
                    if (best == null || s.current > best.current) {
                        best = s;
                    }
                }
                if (best != null) {
                    best.current -= total;
                    best.inflight++;
                    return new Lease(best, model != null ? model : best.defaultModel());
                }
                long left = deadline - System.nanoTime();
                if (!anyBusy || left <= 0) {
                    throw unavailable(candidates, model, now, anyBusy);
                }
                freed.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailableNow("interrupted while waiting for a free device");
        } finally {
            lock.unlock();
        }
    }

    private List<State> candidates(long userId, String model, String serial, Set<Long> exclude) {
        List<State> mine = new ArrayList<>();
        boolean anyPush = false;
        State named = null;
        for (State s : byId.values()) {
            if (s.device.userId() != userId) {
                continue;
            }
            if (serial != null) {
                if (s.device.serial().equals(serial)) {
                    named = s;
                }
                continue;
            }
            if (s.device.push()) {
                anyPush = true;
                if (!exclude.contains(s.device.id())) {
                    mine.add(s);
                }
            }
        }
        if (serial != null) {
            if (named == null) {
                throw ApiException.notFound("no device with serial '" + serial + "' ('device_serial')");
            }
            if (!named.device.push()) {
                throw unavailableNow("device '" + serial + "' is an agent that pulls jobs; the gateway calls only "
                        + "model servers (kind ollama or openai)");
            }
            anyPush = true;
            if (!exclude.contains(named.device.id())) {
                mine.add(named);
            }
        }
        if (!anyPush) {
            String none = "no model server is registered; register one with POST /devices/register or 'scorebook device add'";
            throw model == null ? unavailableNow(none) : modelNotFound("no device serves model '" + model + "': " + none);
        }
        List<State> serving = new ArrayList<>(mine.size());
        for (State s : mine) {
            if (s.serves(model)) {
                serving.add(s);
            }
        }
        if (serving.isEmpty() && exclude.isEmpty()) {
            Set<String> all = new java.util.TreeSet<>();
            mine.forEach(s -> all.addAll(s.served()));
            String where = serial != null ? "device '" + serial + "'" : "no device";
            if (model == null) {
                throw unavailableNow((serial != null ? where + " lists no model" : "no device lists a model")
                        + " yet; register it with models, or wait for its health check to report them");
            }
            // nothing serves it: a mistake to fix, not a wait to retry (OpenAI's SDKs retry a 503, not a 404)
            throw modelNotFound((serial != null ? where + " does not serve" : where + " serves") + " model '" + model
                    + "'; served: " + (all.isEmpty() ? "none" : String.join(", ", all)));
        }
        return serving;
    }

    private static ApiException unavailable(List<State> candidates, String model, long now, boolean busy) {
        if (candidates.isEmpty()) {
            return unavailableNow("no other device can serve " + (model == null ? "the call" : "model '" + model + "'"));
        }
        List<String> why = new ArrayList<>();
        for (State s : candidates) {
            String state;
            if (!s.healthy) {
                state = "unhealthy (" + s.reason + ")";
            } else if (s.openUntilMs > now) {
                state = "circuit open until " + iso(s.openUntilMs) + " after " + s.failures + " failures in a row ("
                        + s.lastError + ")";
            } else {
                state = "busy (" + s.inflight + "/" + s.device.maxConcurrency() + " calls in flight)";
            }
            why.add(s.device.serial() + ": " + state);
        }
        String what = model == null ? "the call" : "model '" + model + "'";
        return unavailableNow((busy ? "every device serving " + what + " stayed busy: " : "no device can serve " + what + " now: ")
                + String.join("; ", why));
    }

    /** A model that no device of the user serves: 404 {@code model_not_found}, as OpenAI answers. */
    static ApiException modelNotFound(String message) {
        return new ApiException(Status.NOT_FOUND_404, "model_not_found", message);
    }

    static ApiException unavailableNow(String message) {
        return new ApiException(Status.SERVICE_UNAVAILABLE_503, "no_device", message);
    }

    /** A call on the device succeeded: its failure count starts again. */
    void succeeded(State s) {
        lock.lock();
        try {
            s.failures = 0;
            s.openUntilMs = 0;
        } finally {
            lock.unlock();
        }
        s.lastOkMs = clock.millis();
    }

    /** A call or check failed; enough in a row open the circuit. */
    void failed(State s, UpstreamException e) {
        if (!e.countsAgainstDevice()) {
            return;
        }
        long now = clock.millis();
        s.lastErrorMs = now;
        s.lastError = e.getMessage();
        lock.lock();
        try {
            s.failures++;
            if (s.failures >= FAILURES_TO_OPEN) {
                s.openUntilMs = now + COOLDOWN.toMillis();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * An agent's heartbeat: what it reports ({@code ready}, battery, temperature, ...) and, when it
     * lists them, the models it serves now.
     */
    public void heartbeat(long deviceId, JsonNode status, List<String> models, long atMs) {
        State s;
        lock.lock();
        try {
            s = byId.get(deviceId);
        } finally {
            lock.unlock();
        }
        if (s != null) {
            s.agentStatus = status;
            s.lastSeenMs = atMs;
            if (models != null) {
                s.reported = List.copyOf(models);
            }
        }
    }

    /** The live state of one device, if loaded. */
    public java.util.Optional<State> state(long deviceId) {
        lock.lock();
        try {
            return java.util.Optional.ofNullable(byId.get(deviceId));
        } finally {
            lock.unlock();
        }
    }

    /** Calls in flight on the device (gateway and jobs alike). */
    public int inflight(State s) {
        lock.lock();
        try {
            return s.inflight;
        } finally {
            lock.unlock();
        }
    }

    /** Whether the device may take calls now: healthy and its circuit closed. */
    public boolean available(State s) {
        lock.lock();
        try {
            return s.healthy && s.openUntilMs <= clock.millis();
        } finally {
            lock.unlock();
        }
    }

    /** A health check passed: the device is healthy; {@code reset} also closes its circuit (reload). */
    void checked(State s, List<String> models, boolean reset) {
        s.reported = List.copyOf(models);
        s.healthy = true;
        s.reason = "ok";
        s.lastOkMs = clock.millis();
        lock.lock();
        try {
            if (reset) {
                s.failures = 0;
                s.openUntilMs = 0;
            }
            freed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** A health check failed: the device gets no calls until one passes. */
    void checkFailed(State s, UpstreamException e) {
        s.healthy = false;
        s.reason = e.getMessage();
        failed(s, e);
    }

    private static String isoOrNull(long epochMs) {
        return epochMs == 0 ? null : iso(epochMs);
    }

    static String iso(long epochMs) {
        return UsageStore.iso(epochMs);
    }

    /** An agent that sent a heartbeat within this long is present. */
    static final Duration PRESENT = Duration.ofSeconds(45);
    /** What an agent's heartbeat may report, shown by the listings. */
    public static final List<String> AGENT_FIELDS = List.of("battery_pct", "charging", "temp_c", "thermal_status",
            "free_mem_mb");

    private static JsonNode field(JsonNode status, String name) {
        JsonNode v = status.get(name);
        return v == null || v.isNull() ? null : v;
    }

    /** For listings: a snapshot as JSON-ready fields. */
    Map<String, Object> view(Snapshot s) {
        Device d = s.device();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", d.serial());
        m.put("serial", d.serial());
        m.put("name", d.name());
        m.put("kind", d.kind());
        m.put("mode", d.mode());
        m.put("base_url", d.baseUrl());
        m.put("has_api_key", d.hasApiKey());
        m.put("models", s.served());
        m.put("registered_models", d.models());
        m.put("reported_models", s.reported());
        m.put("default_model", s.defaultModel());
        m.put("weight", d.weight());
        m.put("max_concurrency", d.maxConcurrency());
        m.put("healthy", d.push() ? s.healthy() : null);
        m.put("reason", d.push() ? s.reason() : "agents report through the jobs protocol");
        m.put("queue_tags", d.queueTags());
        if (!d.push()) {
            JsonNode a = s.agentStatus();
            m.put("present", s.present(clock.millis()));
            m.put("ready", a == null ? null : field(a, "ready"));
            for (String f : AGENT_FIELDS) {
                m.put(f, a == null ? null : field(a, f));
            }
            m.put("last_seen_at", isoOrNull(s.lastSeenMs()));
            m.put("agent_state", d.agentState());
        }
        m.put("inflight", s.inflight());
        m.put("open_until", s.openUntil());
        m.put("consecutive_failures", s.consecutiveFailures());
        m.put("last_ok_at", s.lastOkAt());
        m.put("last_error_at", s.lastErrorAt());
        m.put("last_error", s.lastError());
        m.put("created_at", d.createdAt());
        m.put("updated_at", d.updatedAt());
        return m;
    }
}
