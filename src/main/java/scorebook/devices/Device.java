package scorebook.devices;

import java.util.List;

/**
 * A registered device as stored: a model server Scorebook calls ({@code push}: kind {@code ollama}
 * or {@code openai}) or an agent that pulls jobs ({@code pull}: kind {@code agent}).
 *
 * @param id             row id
 * @param userId         owner
 * @param serial         the user's name for it, unique per user
 * @param kind           ollama, openai or agent
 * @param mode           push or pull (follows the kind)
 * @param name           optional display name
 * @param baseUrl        push devices: where the server listens, without a trailing slash (openai: without /v1)
 * @param models         the models it serves (empty: whatever its health check reports)
 * @param weight         share of the traffic among devices serving the same model
 * @param maxConcurrency calls in flight at most
 * @param createdAt      ISO-8601
 * @param updatedAt      ISO-8601
 * @param apiKey         push devices: sent upstream as {@code Authorization: Bearer}, or null; never shown
 * @param queueTags      the job queues it takes jobs from (default {@code ["default"]})
 * @param agentState     agents: what its heartbeat answer asks of it, {@code running}, {@code quiet} (take no new
 *                       jobs) or {@code terminate}; set by its user
 */
public record Device(long id, long userId, String serial, String kind, String mode, String name, String baseUrl,
                     List<String> models, int weight, int maxConcurrency, String createdAt, String updatedAt,
                     String apiKey, List<String> queueTags, String agentState) {
    public static final List<String> KINDS = List.of("ollama", "openai", "agent");
    /** The states of an agent's heartbeat answer (Faktory's worker states). */
    public static final List<String> AGENT_STATES = List.of("running", "quiet", "terminate");
    public static final String RUNNING = "running";
    public static final List<String> DEFAULT_TAGS = List.of("default");

    public boolean push() {
        return "push".equals(mode);
    }

    public boolean hasApiKey() {
        return apiKey != null;
    }

    /** Without the API key, so that logging a device cannot leak it. */
    @Override
    public String toString() {
        return "Device[id=" + id + ", userId=" + userId + ", serial=" + serial + ", kind=" + kind + ", baseUrl=" + baseUrl
                + ", models=" + models + ", hasApiKey=" + hasApiKey() + "]";
    }

    public static String modeOf(String kind) {
        return "agent".equals(kind) ? "pull" : "push";
    }
}
