package scorebook.devices;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Re-reads the devices table and checks every push device every {@link #INTERVAL} (Ollama {@code /api/tags}, OpenAI
 * {@code /v1/models}), in parallel: a passing check marks the device healthy and records the models
 * it reports; a failing one marks it unhealthy and counts towards its circuit breaker.
 */
final class HealthLoop implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(HealthLoop.class.getName());
    static final Duration INTERVAL = Duration.ofSeconds(10);
    static final Duration CHECK_TIMEOUT = Duration.ofSeconds(5);

    private final DeviceRegistry registry;
    private final Supplier<List<Device>> stored;
    private ScheduledExecutorService timer;
    private ScheduledFuture<?> task;

    /** {@code stored} reads the devices table: each round starts from it, so changes made elsewhere (CLI, a deleted user) arrive. */
    HealthLoop(DeviceRegistry registry, Supplier<List<Device>> stored) {
        this.registry = registry;
        this.stored = stored;
    }

    synchronized void start() {
        if (timer == null) {
            timer = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().name("device-health").unstarted(r));
            task = timer.scheduleWithFixedDelay(this::round, 0, INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private void round() {
        try {
            // a device registered while the table is read must not vanish until the next round
            long version = registry.version();
            registry.loadIfUnchanged(stored.get(), version);
            checkAll(registry.push(), false);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "device health round failed: " + e.getMessage(), e);
        }
    }

    /** Checks one device soon, off the caller's thread (a device just registered). */
    void checkSoon(DeviceRegistry.State s) {
        Thread.ofVirtual().name("device-check").start(() -> check(s, false));
    }

    /** Checks the devices in parallel and returns when all are done; {@code reset} closes circuits of passing devices. */
    void checkAll(Collection<DeviceRegistry.State> states, boolean reset) {
        List<Thread> running = new ArrayList<>();
        for (DeviceRegistry.State s : states) {
            running.add(Thread.ofVirtual().name("device-check").start(() -> check(s, reset)));
        }
        for (Thread t : running) {
            try {
                t.join(CHECK_TIMEOUT.multipliedBy(2).toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void check(DeviceRegistry.State s, boolean reset) {
        Device d = s.device();
        if (!d.push()) {
            return;
        }
        try {
            registry.checked(s, KindClient.of(d.kind()).models(d, CHECK_TIMEOUT), reset);
        } catch (UpstreamException e) {
            registry.checkFailed(s, e);
        } catch (RuntimeException e) {
            registry.checkFailed(s, new UpstreamException(UpstreamException.BAD, 0, "health check failed: " + e));
        }
    }

    @Override
    public synchronized void close() {
        if (timer != null) {
            task.cancel(false);
            timer.shutdownNow();
            timer = null;
        }
    }
}
