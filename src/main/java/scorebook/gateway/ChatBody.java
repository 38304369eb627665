package scorebook.gateway;

import java.time.Instant;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.devices.ModelReply;
import scorebook.devices.ModelRequest;
import scorebook.server.ApiException;
import scorebook.server.Json;

/**
 * The OpenAI {@code /v1/chat/completions} body and the answers built for devices that do not speak
 * OpenAI. Scorebook's own fields {@code device_serial} and {@code tag} (an SDK's {@code extra_body})
 * are taken out before the body goes to a device.
 */
final class ChatBody {
    /** The message roles OpenAI's chat completions take ("function" is deprecated but still accepted). */
    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool", "function");

    /** The sampling fields an Ollama device gets as options: checked here, as OpenAI would, rather than failing there. */
    private static final List<String> INTEGERS = List.of("max_tokens", "max_completion_tokens", "seed");
    private static final List<String> NUMBERS = List.of("temperature", "top_p", "presence_penalty", "frequency_penalty");

    private ChatBody() {
    }

    static ModelRequest parse(ObjectNode body) {
        JsonNode messages = body.get("messages");
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            throw ApiException.invalid("'messages' must be a non-empty list of {role, content}");
        }
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            if (!m.isObject() || !m.path("role").isTextual()) {
                throw ApiException.invalid("'messages[" + i + "]' must be an object with a 'role'");
            }
            if (!ROLES.contains(m.path("role").asText())) {
                throw ApiException.invalid("'messages[" + i + "].role' must be one of system, developer, user, assistant, tool, not '"
                        + m.path("role").asText() + "'");
            }
            JsonNode c = m.get("content");
            if (c != null && !c.isNull() && !c.isTextual() && !c.isArray()) {
                throw ApiException.invalid("'messages[" + i + "].content' must be a string or a list of parts");
            }
        }
        if (body.has("stream") && !body.get("stream").isBoolean() && !body.get("stream").isNull()) {
            throw ApiException.invalid("'stream' must be true or false");
        }
        AskBody.requireFinite(body, "");
        for (String f : INTEGERS) {
            if (body.hasNonNull(f) && !body.get(f).isIntegralNumber()) {
                throw ApiException.invalid("'" + f + "' must be an integer");
            }
        }
        for (String f : NUMBERS) {
            if (body.hasNonNull(f) && !body.get(f).isNumber()) {
                throw ApiException.invalid("'" + f + "' must be a number");
            }
        }
        JsonNode stop = body.path("stop");
        if (!stop.isMissingNode() && !stop.isNull() && !stop.isTextual()
                && !(stop.isArray() && stop.valueStream().allMatch(JsonNode::isTextual))) {
            throw ApiException.invalid("'stop' must be a string or a list of strings");
        }
        String model = AskBody.optionalText(body, "model", "");
        String serial = AskBody.optionalText(body, "device_serial", "");
        String tag = AskBody.optionalText(body, "tag", "");
        body.remove("device_serial");
        body.remove("tag");
        return ModelRequest.of(null, "").withModel(model).withDevice(serial).withTag(tag).withSource("v1")
                .withMessagesFrom((ArrayNode) messages);
    }

    /** A whole chat.completion built from a reply. */
    static ObjectNode completion(ModelReply reply, String id) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("id", id);
        o.put("object", "chat.completion");
        o.put("created", Instant.now().getEpochSecond());
        o.put("model", reply.model());
        ObjectNode choice = o.putArray("choices").addObject();
        choice.put("index", 0);
        choice.putObject("message").put("role", "assistant").put("content", reply.content());
        choice.put("finish_reason", reply.doneReason() == null ? "stop" : reply.doneReason());
        o.set("usage", usage(reply));
        return o;
    }

    static ObjectNode usage(ModelReply reply) {
        ObjectNode u = Json.MAPPER.createObjectNode();
        int in = reply.promptTokens() == null ? 0 : reply.promptTokens();
        int out = reply.completionTokens() == null ? 0 : reply.completionTokens();
        u.put("prompt_tokens", in);
        u.put("completion_tokens", out);
        u.put("total_tokens", in + out);
        return u;
    }

    /** One chat.completion.chunk with a content delta and/or a finish reason. */
    static ObjectNode chunk(String id, long created, String model, String content, String finish) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("id", id);
        o.put("object", "chat.completion.chunk");
        o.put("created", created);
        o.put("model", model);
        ObjectNode choice = o.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode delta = choice.putObject("delta");
        if (content != null) {
            delta.put("content", content);
        }
        if (finish == null) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", finish);
        }
        return o;
    }
}
