package scorebook.devices;

import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

import scorebook.server.Json;
import scorebook.store.Database;
import scorebook.usage.UsageStore;

/**
 * The devices feature put together: the store, the live registry, the health loop, the usage
 * writer and {@link Models}, the way other features call models. {@link #start} and
 * {@link #close} follow the web server's life (through {@link DeviceService}).
 */
public final class Devices implements AutoCloseable {
    private final DeviceStore store;
    private final DeviceRegistry registry;
    private final HealthLoop health;
    private final UsageStore usage;
    private final Models models;

    public Devices(Database db) {
        this(db, Clock.systemUTC());
    }

    /** With the server's clock, which the registry's circuit cool-downs follow. */
    public Devices(Database db, Clock clock) {
        this.registry = new DeviceRegistry(clock);
        this.store = new DeviceStore(db);
        this.usage = new UsageStore(db, clock);
        this.health = new HealthLoop(registry, store::all);
        this.models = new Models(registry, usage);
        registry.load(store.all());
        for (DeviceStore.Heartbeat h : store.heartbeats()) {
            registry.heartbeat(h.deviceId(), parse(h.status()), null, Instant.parse(h.lastSeenAt()).toEpochMilli());
        }
    }

    private static JsonNode parse(String json) {
        try {
            return json == null ? null : Json.MAPPER.readTree(json);
        } catch (IOException e) {
            return null;
        }
    }

    /** Starts the usage writer and the health loop. */
    public void start() {
        usage.start();
        health.start();
    }

    /** How every feature calls a model (routing and usage rows included). */
    public Models models() {
        return models;
    }

    public UsageStore usage() {
        return usage;
    }

    public DeviceStore store() {
        return store;
    }

    public DeviceRegistry registry() {
        return registry;
    }

    /** Registers (or updates) a device and checks it soon. */
    public DeviceStore.Saved register(long userId, DeviceStore.Registration r) {
        DeviceStore.Saved saved = store.register(userId, r);
        DeviceRegistry.State s = registry.put(saved.device());
        if (saved.device().push()) {
            health.checkSoon(s);
        }
        return saved;
    }

    /** Sets what an agent's heartbeat answer asks of it (running, quiet, terminate). */
    public Device agentState(long userId, String serial, String state) {
        Device d = store.agentState(userId, serial, state);
        registry.put(d);
        return d;
    }

    public Device remove(long userId, String serial) {
        Device d = store.remove(userId, serial);
        registry.remove(d.id());
        return d;
    }

    /** Re-reads every device from the database and checks the user's push devices now, closing circuits that pass. */
    public List<DeviceRegistry.Snapshot> reload(long userId) {
        registry.load(store.all());
        health.checkAll(registry.push().stream().filter(s -> s.device().userId() == userId).toList(), true);
        return registry.snapshots(userId);
    }

    @Override
    public void close() {
        health.close();
        usage.close();
    }
}
