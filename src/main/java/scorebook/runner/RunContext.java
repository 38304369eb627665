package scorebook.runner;

import java.util.Map;

/** The run a case belongs to, as targets see it (command targets get it in their environment). */
public record RunContext(long userId, String runId, String runName, String sessionName, String evalPath) {
    public Map<String, String> environment(Case c) {
        return Map.of(
                "SCOREBOOK_RUN_ID", runId,
                "SCOREBOOK_RUN_NAME", runName,
                "SCOREBOOK_SESSION", sessionName,
                "SCOREBOOK_EVAL_PATH", evalPath,
                "SCOREBOOK_FUNCTION", c.function(),
                "SCOREBOOK_DATASET", c.dataset());
    }
}
