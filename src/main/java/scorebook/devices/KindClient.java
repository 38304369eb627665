package scorebook.devices;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

/** Speaks one kind of model server's API. */
interface KindClient {
    /** Runs a chat call on the device, telling the listener each streamed event. */
    Chat.Outcome chat(Device device, Chat chat, Chat.Listener listener) throws UpstreamException, IOException;

    /** The health check: the models the server reports. */
    List<String> models(Device device, Duration timeout) throws UpstreamException;

    static KindClient of(String kind) {
        return switch (kind) {
            case "ollama" -> OllamaClient.INSTANCE;
            case "openai" -> OpenAiClient.INSTANCE;
            default -> throw new IllegalArgumentException("devices of kind '" + kind + "' are not called by the server");
        };
    }
}
