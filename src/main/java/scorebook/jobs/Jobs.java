package scorebook.jobs;

import java.time.Clock;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import scorebook.devices.Devices;
import scorebook.store.Database;

/**
 * The jobs feature put together: stores, rules, the push dispatcher, the webhook sender and the
 * lease sweeper (on the server's scheduler). {@link #start} and {@link #close} follow the server.
 */
public final class Jobs implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Jobs.class.getName());
    private static final long SWEEP_MS = 500;

    private final JobService service;
    private final PushDispatcher dispatcher;
    private final WebhookSender sender;
    private ScheduledFuture<?> sweeper;
    private int sweeps;

    public Jobs(Database db, Devices devices, MetricsSink sink, Clock clock, boolean allowPrivateCallbacks) {
        WebhookStore webhooks = new WebhookStore(db);
        this.service = new JobService(new JobStore(db, webhooks), webhooks, devices, sink, clock, allowPrivateCallbacks);
        this.dispatcher = new PushDispatcher(service, devices);
        service.dispatchTo(dispatcher);
        this.sender = new WebhookSender(service, allowPrivateCallbacks);
    }

    public JobService service() {
        return service;
    }

    /** Ends attempts a stopped server was running, then starts dispatching, sending and sweeping. */
    public synchronized void start(ScheduledExecutorService scheduler) {
        if (sweeper != null) {
            return;
        }
        service.interruptPushed();
        dispatcher.start();
        sender.start();
        sweeper = scheduler.scheduleWithFixedDelay(this::sweep, SWEEP_MS, SWEEP_MS, TimeUnit.MILLISECONDS);
    }

    /** Expired leases become failed attempts; old idempotency keys go. */
    void sweep() {
        try {
            while (service.expireLeases() > 0) {
                // a large batch expired: keep going
            }
            if (++sweeps % 120 == 0) {
                service.store().forgetKeys(service.now());
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "lease sweep failed; trying again", e);
        }
    }

    @Override
    public synchronized void close() {
        if (sweeper != null) {
            sweeper.cancel(false);
            sweeper = null;
        }
        dispatcher.close();
        sender.close();
    }
}
