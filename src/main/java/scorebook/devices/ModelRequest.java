package scorebook.devices;

import java.time.Duration;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.server.Json;

/**
 * A call to a model, as every feature makes it through {@link Models}.
 *
 * @param messages     chat messages {@code [{role, content}]}
 * @param model        the model, or null for the chosen device's first model
 * @param options      Ollama-style options ({@code num_predict}, {@code temperature}, ...; mapped for
 *                     OpenAI-compatible devices), or null
 * @param deviceSerial a device to use, or null to let routing choose
 * @param tag          a free label stored on the usage row, or null
 * @param source       what made the call, stored as the usage row's {@code source_kind}
 *                     (gateway, v1, warmup, job, eval, judge)
 * @param jobId        the job it runs for, or null
 * @param timeout      the whole call's time limit (504 after it)
 * @param queueWait    how long to wait for a free slot when every device that could serve is busy
 */
public record ModelRequest(ArrayNode messages, String model, ObjectNode options, String deviceSerial, String tag,
                           String source, String jobId, Duration timeout, Duration queueWait) {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);
    public static final Duration DEFAULT_QUEUE_WAIT = Duration.ofSeconds(60);

    /** A prompt with an optional system message; the other fields take their defaults (source "eval"). */
    public static ModelRequest of(String system, String prompt) {
        ArrayNode messages = Json.MAPPER.createArrayNode();
        if (system != null && !system.isEmpty()) {
            messages.addObject().put("role", "system").put("content", system);
        }
        messages.addObject().put("role", "user").put("content", prompt);
        return new ModelRequest(messages, null, null, null, null, "eval", null, DEFAULT_TIMEOUT, DEFAULT_QUEUE_WAIT);
    }

    public ModelRequest withModel(String m) {
        return new ModelRequest(messages, m, options, deviceSerial, tag, source, jobId, timeout, queueWait);
    }

    public ModelRequest withOptions(ObjectNode o) {
        return new ModelRequest(messages, model, o, deviceSerial, tag, source, jobId, timeout, queueWait);
    }

    public ModelRequest withDevice(String serial) {
        return new ModelRequest(messages, model, options, serial, tag, source, jobId, timeout, queueWait);
    }

    public ModelRequest withTag(String t) {
        return new ModelRequest(messages, model, options, deviceSerial, t, source, jobId, timeout, queueWait);
    }

    public ModelRequest withSource(String s) {
        return new ModelRequest(messages, model, options, deviceSerial, tag, s, jobId, timeout, queueWait);
    }

    public ModelRequest withJobId(String id) {
        return new ModelRequest(messages, model, options, deviceSerial, tag, source, id, timeout, queueWait);
    }

    public ModelRequest withTimeout(Duration t) {
        return new ModelRequest(messages, model, options, deviceSerial, tag, source, jobId, t, queueWait);
    }

    /** The same call with other messages. */
    public ModelRequest withMessagesFrom(ArrayNode m) {
        return new ModelRequest(m, model, options, deviceSerial, tag, source, jobId, timeout, queueWait);
    }

    public ModelRequest withQueueWait(Duration w) {
        return new ModelRequest(messages, model, options, deviceSerial, tag, source, jobId, timeout, w);
    }
}
