package scorebook.devices;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.server.Json;

/**
 * Any OpenAI-compatible server (llama.cpp's server, vLLM, LM Studio, Ollama's /v1):
 * {@code POST /v1/chat/completions}, streamed as server-sent events with the usage chunk asked
 * for; {@code GET /v1/models} for health.
 */
final class OpenAiClient implements KindClient {
    static final OpenAiClient INSTANCE = new OpenAiClient();
    /** Ollama options from {@code /ask} and the OpenAI fields they become. */
    private static final Map<String, String> FROM_OLLAMA = Map.of(
            "num_predict", "max_tokens", "temperature", "temperature", "top_p", "top_p", "top_k", "top_k",
            "min_p", "min_p", "seed", "seed", "stop", "stop", "presence_penalty", "presence_penalty",
            "frequency_penalty", "frequency_penalty");

    private OpenAiClient() {
    }

    @Override
    public Chat.Outcome chat(Device device, Chat chat, Chat.Listener listener) throws UpstreamException, IOException {
        URI uri = URI.create(device.baseUrl() + "/v1/chat/completions");
        ObjectNode req;
        if (chat.openAi() != null) {
            req = chat.openAi().deepCopy();
        } else {
            req = Json.MAPPER.createObjectNode();
            req.set("messages", chat.messages());
            if (chat.options() != null) {
                FROM_OLLAMA.forEach((from, to) -> {
                    if (chat.options().hasNonNull(from)) {
                        req.set(to, chat.options().get(from));
                    }
                });
            }
        }
        req.put("model", chat.model());
        req.put("stream", chat.stream());
        if (!chat.stream()) {
            req.remove("stream_options");
            return whole(uri, req, chat);
        }
        ObjectNode so = req.withObjectProperty("stream_options");
        so.put("include_usage", true);
        StringBuilder content = new StringBuilder();
        long first = 0;
        String reason = null;
        JsonNode usage = null;
        JsonNode last = null;
        try (UpstreamHttp.Body body = UpstreamHttp.post(uri, req, chat.deadlineNs())) {
            String line;
            while ((line = body.line()) != null) {
                if (!line.startsWith("data:")) {
                    continue; // blank separators, comments, event names
                }
                String data = line.substring(5).strip();
                if (data.equals("[DONE]")) {
                    body.finishInBackground();
                    return outcome(content.toString(), reason, usage, first, last, chat, null);
                }
                JsonNode event = UpstreamHttp.parse(data, uri);
                if (event.has("error")) {
                    JsonNode e = event.path("error");
                    throw new UpstreamException(UpstreamException.ERROR, 500, "model server reported: "
                            + UpstreamHttp.clip(e.isTextual() ? e.asText() : e.path("message").asText(e.toString())));
                }
                last = event;
                JsonNode choice = event.path("choices").path(0);
                String delta = choice.path("delta").path("content").asText("");
                if (!delta.isEmpty()) {
                    if (first == 0) {
                        first = System.nanoTime();
                    }
                    content.append(delta);
                }
                if (choice.hasNonNull("finish_reason")) {
                    reason = choice.path("finish_reason").asText();
                }
                if (event.path("usage").isObject()) {
                    usage = event.path("usage");
                }
                listener.event(delta, data, event);
            }
        }
        throw new UpstreamException(UpstreamException.BAD, 0, "the stream from " + uri + " ended without 'data: [DONE]'");
    }

    private static Chat.Outcome whole(URI uri, ObjectNode req, Chat chat) throws UpstreamException {
        byte[] bytes;
        try (UpstreamHttp.Body body = UpstreamHttp.post(uri, req, chat.deadlineNs())) {
            bytes = body.bytes(UpstreamHttp.MAX_BODY);
        }
        JsonNode answer = UpstreamHttp.parse(bytes, uri);
        JsonNode choice = answer.path("choices").path(0);
        if (!choice.path("message").isObject()) {
            throw new UpstreamException(UpstreamException.BAD, 0, "the answer from " + uri + " has no choices[0].message");
        }
        String reason = choice.path("finish_reason").asText(null);
        return outcome(choice.path("message").path("content").asText(""), reason, answer.path("usage"), 0, answer, chat, bytes);
    }

    private static Chat.Outcome outcome(String content, String reason, JsonNode usage, long first, JsonNode last, Chat chat,
                                        byte[] body) {
        long end = System.nanoTime();
        Integer prompt = tokens(usage, "prompt_tokens");
        Integer completion = tokens(usage, "completion_tokens");
        Double prefill = null;
        Double decode = null;
        if (first != 0) {
            prefill = Chat.rate(prompt, (first - chat.startNs()) / 1e6);
            decode = completion == null ? null : Chat.rate(completion - 1, (end - first) / 1e6);
        }
        return new Chat.Outcome(content, reason, prompt, completion, first, end, null, prefill, decode, last, body);
    }

    private static Integer tokens(JsonNode usage, String field) {
        JsonNode n = usage == null ? null : usage.get(field);
        return n != null && n.isIntegralNumber() ? n.asInt() : null;
    }

    @Override
    public List<String> models(Device device, Duration timeout) throws UpstreamException {
        URI uri = URI.create(device.baseUrl() + "/v1/models");
        JsonNode list = UpstreamHttp.getJson(uri, timeout);
        if (!list.path("data").isArray()) {
            throw new UpstreamException(UpstreamException.BAD, 0, uri + " has no 'data' list");
        }
        List<String> names = new ArrayList<>();
        for (JsonNode m : list.path("data")) {
            if (!m.path("id").asText("").isEmpty()) {
                names.add(m.path("id").asText());
            }
        }
        return names;
    }
}
