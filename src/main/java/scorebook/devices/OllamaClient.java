package scorebook.devices;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.server.Json;

/** Ollama's native API: {@code POST /api/chat} streamed as NDJSON, {@code GET /api/tags} for health. */
final class OllamaClient implements KindClient {
    static final OllamaClient INSTANCE = new OllamaClient();
    /** OpenAI request fields and the Ollama options they become. */
    private static final Map<String, String> FROM_OPENAI = Map.of(
            "max_tokens", "num_predict", "max_completion_tokens", "num_predict", "temperature", "temperature",
            "top_p", "top_p", "seed", "seed", "stop", "stop", "presence_penalty", "presence_penalty",
            "frequency_penalty", "frequency_penalty");

    private OllamaClient() {
    }

    @Override
    public Chat.Outcome chat(Device device, Chat chat, Chat.Listener listener) throws UpstreamException, IOException {
        URI uri = URI.create(device.baseUrl() + "/api/chat");
        ObjectNode req = Json.MAPPER.createObjectNode();
        req.put("model", chat.model());
        req.set("messages", chat.openAi() != null ? messages(chat.messages()) : chat.messages());
        req.put("stream", true);
        ObjectNode options = chat.options() != null ? chat.options().deepCopy() : Json.MAPPER.createObjectNode();
        if (chat.openAi() != null) {
            FROM_OPENAI.forEach((from, to) -> {
                if (chat.openAi().hasNonNull(from)) {
                    options.set(to, chat.openAi().get(from));
                }
            });
            if (options.path("stop").isTextual()) { // OpenAI takes one stop string or a list; Ollama only a list
                options.putArray("stop").add(chat.openAi().get("stop").asText());
            }
        }
        if (!options.isEmpty()) {
            req.set("options", options);
        }
        StringBuilder content = new StringBuilder();
        long first = 0;
        try (UpstreamHttp.Body body = UpstreamHttp.post(uri, req, chat.deadlineNs())) {
            String line;
            while ((line = body.line()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode chunk = UpstreamHttp.parse(line, uri);
                if (chunk.has("error")) {
                    throw new UpstreamException(UpstreamException.ERROR, 500,
                            "model server reported: " + UpstreamHttp.clip(chunk.path("error").asText()));
                }
                String delta = chunk.path("message").path("content").asText("");
                if (!delta.isEmpty()) {
                    if (first == 0) {
                        first = System.nanoTime();
                    }
                    content.append(delta);
                }
                listener.event(delta, line, chunk);
                if (chunk.path("done").asBoolean(false)) {
                    body.finishInBackground();
                    return outcome(content.toString(), chunk, first);
                }
            }
        }
        throw new UpstreamException(UpstreamException.BAD, 0, "the stream from " + uri + " ended before its final (done) line");
    }

    private static Chat.Outcome outcome(String content, JsonNode last, long first) {
        long end = System.nanoTime();
        Integer prompt = count(last, "prompt_eval_count");
        Integer completion = count(last, "eval_count");
        Double loadMs = last.hasNonNull("load_duration") ? Chat.round(last.path("load_duration").asDouble() / 1e6) : null;
        Double prefill = perSecond(prompt, last.path("prompt_eval_duration").asLong(0));
        Double decode = perSecond(completion, last.path("eval_duration").asLong(0));
        String reason = last.path("done_reason").asText(null);
        return new Chat.Outcome(content, reason, prompt, completion, first, end, loadMs, prefill, decode, last, null);
    }

    private static Integer count(JsonNode n, String field) {
        return n.path(field).canConvertToInt() && n.path(field).isNumber() ? n.path(field).asInt() : null;
    }

    private static Double perSecond(Integer tokens, long durationNs) {
        return tokens == null || durationNs <= 0 ? null : Chat.round(tokens * 1e9 / durationNs);
    }

    /** OpenAI messages (content may be a list of parts) as Ollama takes them. */
    private static ArrayNode messages(ArrayNode openAi) {
        ArrayNode out = Json.MAPPER.createArrayNode();
        for (JsonNode m : openAi) {
            ObjectNode o = out.addObject();
            String role = m.path("role").asText("user");
            o.put("role", role.equals("developer") ? "system" : role); // newer SDKs send "developer"; Ollama knows "system"
            JsonNode c = m.path("content");
            if (c.isArray()) {
                StringBuilder text = new StringBuilder();
                for (JsonNode part : c) {
                    if ("text".equals(part.path("type").asText())) {
                        text.append(part.path("text").asText());
                    }
                }
                o.put("content", text.toString());
            } else {
                o.put("content", c.asText(""));
            }
        }
        return out;
    }

    @Override
    public List<String> models(Device device, Duration timeout) throws UpstreamException {
        URI uri = URI.create(device.baseUrl() + "/api/tags");
        JsonNode tags = UpstreamHttp.getJson(uri, timeout);
        if (!tags.path("models").isArray()) {
            throw new UpstreamException(UpstreamException.BAD, 0, uri + " has no 'models' list");
        }
        List<String> names = new ArrayList<>();
        for (JsonNode m : tags.path("models")) {
            String name = m.path("name").asText(m.path("model").asText(""));
            if (!name.isEmpty()) {
                names.add(name);
            }
        }
        return names;
    }
}
