package scorebook.devices;

import java.io.IOException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One chat call as sent to a device, whatever its kind.
 *
 * @param model      the model to run
 * @param messages   chat messages {@code [{role, content}]}
 * @param options    Ollama-style options ({@code num_predict}, {@code temperature}, ...), or null
 * @param openAi     the OpenAI request body from {@code /v1/chat/completions}, or null: an
 *                   OpenAI-compatible device gets it as is (model set), an Ollama one a translation
 * @param stream     stream from the device (always, except {@code /v1} without streaming)
 * @param startNs    when the call started ({@link System#nanoTime}): latency and TTFT count from here
 * @param deadlineNs when the call must be over
 */
public record Chat(String model, ArrayNode messages, ObjectNode options, ObjectNode openAi, boolean stream, long startNs,
            long deadlineNs) {

    /** Receives what a device streams, as it arrives. */
    public interface Listener {
        /**
         * One streamed event.
         *
         * @param delta  the text it adds (may be empty)
         * @param raw    the event as the device sent it (an NDJSON line or an SSE data payload)
         * @param parsed the event parsed
         * @throws IOException when the receiver cannot take it any more (the client went away)
         */
        void event(String delta, String raw, JsonNode parsed) throws IOException;
    }

    /**
     * What a device answered, with the measurements.
     *
     * @param content          the assistant's text
     * @param doneReason       why it stopped (stop, length, ...), or null
     * @param promptTokens     tokens in, as the device counted them, or null
     * @param completionTokens tokens out, or null
     * @param firstTokenNs     when the first text arrived ({@link System#nanoTime}), 0 when not streamed
     * @param endNs            when the answer was complete
     * @param loadMs           model load time the device reported, or null
     * @param prefillTokS      prompt processing speed, or null
     * @param decodeTokS       generation speed, or null
     * @param last             the device's final event, or its whole answer when not streamed
     * @param body             the raw answer when not streamed (passed through by {@code /v1}), else null
     */
    public record Outcome(String content, String doneReason, Integer promptTokens, Integer completionTokens, long firstTokenNs,
                   long endNs, Double loadMs, Double prefillTokS, Double decodeTokS, JsonNode last, byte[] body) {
    }

    /** Speeds from the device's own counts when it gives no durations. */
    static Double rate(Integer tokens, double ms) {
        return tokens == null || tokens <= 0 || ms <= 0 ? null : round(tokens * 1000.0 / ms);
    }

    static Double round(double v) {
        return Math.round(v * 10.0) / 10.0;
    }
}
