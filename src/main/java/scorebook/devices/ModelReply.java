package scorebook.devices;

import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;

/**
 * A model's answer with its measurements; {@link #envelope} is the gateway's {@code /ask} response.
 *
 * @param id               the call's id ({@code req_...}), also on its usage row
 * @param model            the model that answered
 * @param device           the serial of the device that answered
 * @param content          the assistant's text
 * @param doneReason       why it stopped (stop, length, ...), or null
 * @param promptTokens     tokens in, when the device counted them
 * @param completionTokens tokens out, when the device counted them
 * @param latencyMs        the whole call, milliseconds
 * @param ttftMs           time to the first streamed token, milliseconds
 * @param loadMs           model load time the device reported, or null
 * @param prefillTokS      prompt processing speed, or null
 * @param decodeTokS       generation speed, or null
 * @param raw              the device's final event (or whole answer)
 */
public record ModelReply(String id, String model, String device, String content, String doneReason, Integer promptTokens,
                         Integer completionTokens, double latencyMs, Double ttftMs, Double loadMs, Double prefillTokS,
                         Double decodeTokS, JsonNode raw) {

    /** The {@code /ask} envelope; {@code raw} only when asked for. */
    public Map<String, Object> envelope(boolean withRaw) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("model", model);
        m.put("device", device);
        m.put("message", Json.fields("role", "assistant", "content", content));
        m.put("done_reason", doneReason);
        Map<String, Object> usage = new LinkedHashMap<>();
        usage.put("prompt_tokens", promptTokens);
        usage.put("completion_tokens", completionTokens);
        m.put("usage", usage);
        Map<String, Object> timings = new LinkedHashMap<>();
        timings.put("latency_ms", latencyMs);
        timings.put("ttft_ms", ttftMs);
        timings.put("load_ms", loadMs);
        timings.put("prefill_tok_s", prefillTokS);
        timings.put("decode_tok_s", decodeTokS);
        m.put("timings", timings);
        m.put("cached", false);
        if (withRaw) {
            m.put("raw", raw);
        }
        return m;
    }
}
