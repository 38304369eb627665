package scorebook.devices;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;

import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.server.ApiException;
import scorebook.usage.UsageStore;

/**
 * Calling a model: the one way every feature (gateway, jobs, an eval's {@code llm} target, an LLM
 * judge) reaches a device. A call is routed to one of the user's devices ({@link DeviceRegistry}),
 * run there (always streamed from the device, so the time to first token is measured), and
 * recorded as one usage row, failures included. A device that fails before sending anything is
 * left for another that serves the same model, unless the caller named the device.
 * <pre>
 * ModelReply r = models.call(userId, null, ModelRequest.of("You are terse.", "2+2?")
 *         .withModel("llama3.2").withSource("judge").withTimeout(Duration.ofSeconds(60)));
 * r.content(); r.promptTokens(); r.ttftMs();
 * </pre>
 * Errors are {@link ApiException}s: 404 unknown {@code device_serial}, 503 no device can serve
 * (the message says why), 502 the device failed or answered badly, 504 it took too long.
 */
public final class Models {
    private final DeviceRegistry registry;
    private final UsageStore usage;
    private volatile Observer observer = Observer.NONE;

    /** Receives the text as it is generated. */
    @FunctionalInterface
    public interface DeltaSink {
        void delta(String text) throws IOException;
    }

    /** Told of each call a device answered or failed (for /metrics): it must be quick and must not throw. */
    @FunctionalInterface
    public interface Observer {
        Observer NONE = (device, model, latencyMs, ttftMs, ok) -> { };

        void finished(Device device, String model, double latencyMs, Double ttftMs, boolean ok);
    }

    /** A finished call: the reply, what the device sent, and which device it was. */
    public record Exchange(ModelReply reply, Chat.Outcome outcome, Device device) {
    }

    public Models(DeviceRegistry registry, UsageStore usage) {
        this.registry = registry;
        this.usage = usage;
    }

    /** Sets who is told of each finished device call (one observer; {@link Observer#NONE} by default). */
    public void observe(Observer o) {
        this.observer = o;
    }

    /** Runs a call and returns the whole answer. */
    public ModelReply call(long userId, Long apiKeyId, ModelRequest request) {
        return stream(userId, apiKeyId, request, null);
    }

    /**
     * Runs a call, giving each piece of text to {@code sink} as it arrives.
     *
     * @throws UncheckedIOException when the sink failed (its client went away); the call is recorded as {@code client_closed}
     */
    public ModelReply stream(long userId, Long apiKeyId, ModelRequest request, DeltaSink sink) {
        Chat.Listener listener = sink == null ? null : (delta, raw, parsed) -> {
            if (!delta.isEmpty()) {
                sink.delta(delta);
            }
        };
        return execute(userId, apiKeyId, request, null, true, d -> listener).reply();
    }

    /**
     * The general form the gateway uses.
     *
     * @param openAi    an OpenAI request body to pass to OpenAI-compatible devices as is (null: build one)
     * @param stream    stream from the device (false only to pass a non-streamed OpenAI answer through)
     * @param listeners gives the listener for the chosen device (its kind decides the events' shape); may return null
     */
    public Exchange execute(long userId, Long apiKeyId, ModelRequest r, ObjectNode openAi, boolean stream,
                            Function<Device, Chat.Listener> listeners) {
        long start = System.nanoTime();
        long tsMs = System.currentTimeMillis();
        long deadline = start + r.timeout().toNanos();
        String id = "req_" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
        Set<Long> tried = new HashSet<>();
        UpstreamException lastError = null;
        String lastSerial = null;
        while (true) {
            DeviceRegistry.Lease lease;
            try {
                Duration left = UpstreamHttp.remaining(deadline);
                Duration wait = left.compareTo(r.queueWait()) < 0 ? left : r.queueWait();
                lease = registry.acquire(userId, r.model(), r.deviceSerial(), wait, tried);
            } catch (ApiException e) {
                if (lastError != null) {
                    throw lastError.toApi(lastSerial);
                }
                record(userId, apiKeyId, tsMs, r, id, r.deviceSerial(), r.model(), start,
                        e.code().equals("not_found") ? "unknown_device" : e.code(), e.getMessage());
                throw e;
            }
            Device d = lease.device();
            tried.add(d.id());
            Chat.Listener inner = listeners.apply(d);
            boolean[] delivered = {false};
            Chat.Listener listener = (delta, raw, parsed) -> {
                delivered[0] = true;
                if (inner != null) {
                    inner.event(delta, raw, parsed);
                }
            };
            Chat chat = new Chat(lease.model(), r.messages(), r.options(), openAi, stream, start, deadline);
            try (lease) {
                Chat.Outcome o = KindClient.of(d.kind()).chat(d, chat, listener);
                registry.succeeded(lease.state());
                ModelReply reply = reply(id, lease.model(), d.serial(), o, start);
                usage.record(new UsageStore.Row(userId, apiKeyId, tsMs, r.source(), id, d.serial(), lease.model(), r.tag(),
                        o.promptTokens(), o.completionTokens(), reply.latencyMs(), reply.ttftMs(), tokS(reply), true, null,
                        null, r.jobId(), null, null));
                observer.finished(d, lease.model(), reply.latencyMs(), reply.ttftMs(), true);
                return new Exchange(reply, o, d);
            } catch (UpstreamException e) {
                registry.failed(lease.state(), e);
                observer.finished(d, lease.model(), ms(System.nanoTime() - start), null, false);
                record(userId, apiKeyId, tsMs, r, id, d.serial(), lease.model(), start, e.type(), e.getMessage());
                boolean retry = !delivered[0] && r.deviceSerial() == null && e.countsAgainstDevice()
                        && !UpstreamException.TIMEOUT.equals(e.type()) && System.nanoTime() < deadline;
                if (!retry) {
                    throw e.toApi(d.serial());
                }
                lastError = e;
                lastSerial = d.serial();
            } catch (IOException e) {
                record(userId, apiKeyId, tsMs, r, id, d.serial(), lease.model(), start, "client_closed",
                        "the client went away: " + e.getMessage());
                throw new UncheckedIOException(e);
            } catch (RuntimeException e) {
                record(userId, apiKeyId, tsMs, r, id, d.serial(), lease.model(), start, "internal", String.valueOf(e));
                throw e;
            }
        }
    }

    /** A failed call's usage row: no counts, no first token. */
    private void record(long userId, Long apiKeyId, long tsMs, ModelRequest r, String id, String device, String model,
                        long start, String errorType, String message) {
        usage.record(new UsageStore.Row(userId, apiKeyId, tsMs, r.source(), id, device, model, r.tag(), null, null,
                ms(System.nanoTime() - start), null, null, false, errorType, message, r.jobId(), null, null));
    }

    private static ModelReply reply(String id, String model, String serial, Chat.Outcome o, long start) {
        double latency = ms(o.endNs() - start);
        Double ttft = o.firstTokenNs() == 0 ? null : ms(o.firstTokenNs() - start);
        return new ModelReply(id, model, serial, o.content(), o.doneReason(), o.promptTokens(), o.completionTokens(),
                latency, ttft, o.loadMs(), o.prefillTokS(), o.decodeTokS(), o.last());
    }

    private static Double tokS(ModelReply r) {
        if (r.decodeTokS() != null) {
            return r.decodeTokS();
        }
        return r.completionTokens() == null || r.latencyMs() <= 0 ? null : Chat.round(r.completionTokens() * 1000.0 / r.latencyMs());
    }

    static double ms(long nanos) {
        return Math.round(nanos / 1e3) / 1e3;
    }
}
