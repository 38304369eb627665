package scorebook.jobs;

import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
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
 * <p>
 * It claims for a device only when a job it may take could have come: the service tells it of every job that
 * becomes claimable ({@link #offered}: enqueued, requeued, a retry coming due), and a device whose last claim came
 * back short is not asked again until such a job comes, its tags or models change, or {@value #RECHECK_MS} ms
 * passed (jobs queued by another process, the command line). Before, every tick and every enqueue claimed for every
 * device: a walk of the whole queue each time for a device that could take none of it. A job offered while no tick
 * runs is claimed on the offering thread at once ({@link #kick}), without a hand-off to the dispatcher's thread.
 */
final class PushDispatcher implements AutoCloseable, JobService.Dispatch {
    private static final Logger LOG = Logger.getLogger(PushDispatcher.class.getName());
    static final Duration CALL_TIMEOUT = ModelRequest.DEFAULT_TIMEOUT;
    /** Longer than any call: the sweeper only ends push attempts whose runner vanished. */
    static final int LEASE_S = (int) CALL_TIMEOUT.plusMinutes(1).toSeconds();
    private static final Duration TICK = Duration.ofMillis(500);

    /**
     * How long a device whose claim came back short is left alone when no job it may take was offered (real time, not
     * the server's clock: it is for jobs another process queued, which nothing here hears of).
     */
    static final long RECHECK_MS = 2_000;
    private static final long RECHECK_NS = RECHECK_MS * 1_000_000;

    private final JobService jobs;
    private final Devices devices;
    private final Map<String, Thread> running = new ConcurrentHashMap<>();
    private final Map<Long, Slots> perDevice = new ConcurrentHashMap<>();
    /** Retrying jobs, by when they come due. */
    private final PriorityBlockingQueue<Job> retries = new PriorityBlockingQueue<>(16,
            Comparator.comparingLong(Job::runAtMs));
    private final ExecutorService calls = Executors.newVirtualThreadPerTaskExecutor();
    private final ReentrantLock ticking = new ReentrantLock();
    /** Wakes the dispatcher's thread: a slot freed, a cancel came, a kick found a tick running. */
    private final Wakeup wakeup = new Wakeup();
    private final Loop loop;
    /** Offered jobs are claimed at once only while the dispatcher runs (the first tick claims what came before). */
    private volatile boolean started;
    private long cancelsSeen = -1;
    private long cancelsCheckedNs;

    /** A push device's dispatch state. */
    private static final class Slots {
        /** Calls the dispatcher runs on it. */
        final AtomicInteger ours = new AtomicInteger();
        /** Bumped whenever a job it may take is offered. */
        final AtomicLong offers = new AtomicLong();
        /** The {@link #offers} value at which a claim came back short (nothing more it may take), or -1. */
        volatile long emptyAt = -1;
        /** The tags and models that claim asked for. */
        volatile String emptyFor;
        volatile long emptySinceNs;
    }

    PushDispatcher(JobService jobs, Devices devices) {
        this.jobs = jobs;
        this.devices = devices;
        this.loop = new Loop("job-dispatcher", wakeup, TICK, this::tickOnce);
    }

    void start() {
        started = true;
        loop.start();
    }

    /**
     * A job became claimable (or will, at its {@code run_at_ms}): the push devices that may take it are asked
     * again, at once on this thread when no tick is running.
     */
    @Override
    public void offered(Job j) {
        if (j.runAtMs() > jobs.now()) {
            retries.add(j);
            return;
        }
        if (wake(j) && started && !loop.stopping()) {
            kick();
        }
    }

    /** A cancel of a running job came: its call is interrupted by the next tick, now. */
    @Override
    public void cancelRequested() {
        wakeup.signal();
    }

    /** Marks the devices that may take the job; true when there is any. */
    private boolean wake(Job j) {
        boolean any = false;
        for (DeviceRegistry.State s : devices.registry().push()) {
            Device d = s.device();
            if (d.userId() == j.userId() && d.queueTags().contains(j.queueTag())
                    && (j.model() == null || s.served().contains(j.model()))
                    && (j.deviceSerial() == null || j.deviceSerial().equals(d.serial()))) {
                slots(d).offers.incrementAndGet();
                any = true;
            }
        }
        return any;
    }

    /** Runs a tick on this thread, or, when one is running, makes the dispatcher's thread run another after it. */
    private void kick() {
        if (ticking.tryLock()) {
            try {
                tick();
            } finally {
                ticking.unlock();
            }
        } else {
            wakeup.signal();
        }
    }

    private void tickOnce() {
        ticking.lock();
        try {
            tick();
        } finally {
            ticking.unlock();
        }
    }

    private Slots slots(Device d) {
        return perDevice.computeIfAbsent(d.id(), k -> new Slots());
    }

    /** Interrupts cancelled calls, then fills the free slots of every push device that may have jobs to take. */
    private void tick() {
        long now = jobs.now();
        long nowNs = System.nanoTime();
        interruptCancelled(nowNs);
        for (Job due = retries.peek(); due != null && due.runAtMs() <= now; due = retries.peek()) {
            wake(retries.poll());
        }
        DeviceRegistry registry = devices.registry();
        for (DeviceRegistry.State s : registry.push()) {
            if (loop.stopping() || !registry.available(s)) {
                continue;
            }
            Device d = s.device();
            Slots slots = slots(d);
            long offers = slots.offers.get();
            String wants = d.queueTags() + " " + s.served();
            if (slots.emptyAt == offers && wants.equals(slots.emptyFor) && nowNs - slots.emptySinceNs < RECHECK_NS) {
                continue; // nothing it may take came since its last claim came back short
            }
            int free = d.maxConcurrency() - Math.max(registry.inflight(s), slots.ours.get());
            if (free <= 0) {
                continue;
            }
            List<Job> claimed = jobs.claimFor(d, free, LEASE_S, true);
            if (claimed.size() < free) {
                slots.emptyFor = wants;
                slots.emptySinceNs = nowNs;
                slots.emptyAt = offers;
            } else {
                slots.emptyAt = -1;
            }
            for (Job j : claimed) {
                slots.ours.incrementAndGet();
                calls.submit(() -> call(d, j, slots.ours));
            }
        }
    }

    /** Interrupts the calls of running jobs a cancel waits on, when a cancel came (or now and then: the command line). */
    private void interruptCancelled(long nowNs) {
        long cancels = jobs.cancels();
        if (running.isEmpty() || (cancels == cancelsSeen && nowNs - cancelsCheckedNs < RECHECK_NS)) {
            return;
        }
        cancelsSeen = cancels;
        cancelsCheckedNs = nowNs;
        for (String id : jobs.store().cancelRequested(true)) {
            Thread t = running.get(id);
            if (t != null) {
                t.interrupt();
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
            wakeup.signal();
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
        started = false;
        loop.close();
        retries.clear();
        running.values().forEach(Thread::interrupt);
        calls.shutdown();
    }
}
