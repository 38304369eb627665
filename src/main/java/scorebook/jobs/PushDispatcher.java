package scorebook.jobs;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.devices.Device;
import scorebook.devices.DeviceRegistry;
import scorebook.devices.Devices;
import scorebook.devices.ModelReply;
import scorebook.devices.ModelRequest;
import scorebook.server.ApiException;

/**
 * Runs jobs on push devices (kind ollama or openai): claims jobs for each device with free slots,
 * through the same claim as agents, and calls the model through {@link Devices#models()}, so job
 * calls share the device's concurrency slots with gateway traffic and write their usage rows the same
 * way. A cancel interrupts the call.
 */
final class PushDispatcher implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(PushDispatcher.class.getName());
    static final Duration CALL_TIMEOUT = ModelRequest.DEFAULT_TIMEOUT;
    /** Longer than any call: the sweeper only ends push attempts whose runner vanished. */
    static final int LEASE_S = (int) CALL_TIMEOUT.plusMinutes(1).toSeconds();
    private static final Duration TICK = Duration.ofMillis(500);

    private final JobService jobs;
    private final Devices devices;
    private final Map<String, Thread> running = new ConcurrentHashMap<>();
    private final Map<Long, AtomicInteger> perDevice = new ConcurrentHashMap<>();
    private final ExecutorService calls = Executors.newVirtualThreadPerTaskExecutor();
    private final Loop loop;

    PushDispatcher(JobService jobs, Devices devices) {
        this.jobs = jobs;
        this.devices = devices;
        this.loop = new Loop("job-dispatcher", jobs.work(), TICK, this::tick);
    }

    void start() {
        loop.start();
    }

    /** Interrupts cancelled calls, then fills every push device's free slots. */
    void tick() {
        if (!running.isEmpty()) {
            for (String id : jobs.store().cancelRequested(true)) {
                Thread t = running.get(id);
                if (t != null) {
                    t.interrupt();
                }
            }
        }
        DeviceRegistry registry = devices.registry();
        for (DeviceRegistry.State s : registry.push()) {
            if (loop.stopping() || !registry.available(s)) {
                continue;
            }
            Device d = s.device();
            AtomicInteger ours = perDevice.computeIfAbsent(d.id(), k -> new AtomicInteger());
            int free = d.maxConcurrency() - Math.max(registry.inflight(s), ours.get());
            if (free <= 0) {
                continue;
            }
            List<Job> claimed = jobs.claimFor(d, free, LEASE_S, true);
            for (Job j : claimed) {
                ours.incrementAndGet();
                calls.submit(() -> call(d, j, ours));
            }
        }
    }

    private void call(Device d, Job j, AtomicInteger ours) {
        running.put(j.jobId(), Thread.currentThread());
        try {
            ModelRequest r = ModelRequest.of(j.system(), j.prompt()).withModel(j.model())
                    .withOptions((ObjectNode) JobText.tree(j.options())).withDevice(d.serial()).withSource("job")
                    .withJobId(j.jobId()).withTag(j.adapterId() != null ? j.adapterId() : j.queueTag())
                    .withTimeout(CALL_TIMEOUT);
            ModelReply reply;
            try {
                reply = devices.models().call(d.userId(), null, r);
            } finally {
                running.remove(j.jobId());
                Thread.interrupted(); // a cancel's interrupt must not break the writes below
            }
            jobs.pushDone(j, reply);
        } catch (ApiException e) {
            jobs.pushFailed(j, errorType(e), e.getMessage());
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "job " + j.jobId() + " failed on " + d.serial(), e);
            jobs.pushFailed(j, "internal", String.valueOf(e));
        } finally {
            running.remove(j.jobId());
            ours.decrementAndGet();
            jobs.work().signal();
        }
    }

    /** The job error type (§3.5) of a failed model call. */
    static String errorType(ApiException e) {
        return switch (e.code()) {
            case "no_device", "connect_failed" -> "device_unreachable";
            case "upstream_timeout" -> "timeout";
            case "not_found" -> "invalid_request";
            default -> "upstream_5xx";
        };
    }

    @Override
    public void close() {
        loop.close();
        running.values().forEach(Thread::interrupt);
        calls.shutdown();
    }
}
