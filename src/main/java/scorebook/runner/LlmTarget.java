package scorebook.runner;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;

/** A prompt template sent to a model through the gateway's devices; the model's text is the output. */
final class LlmTarget implements Target {
    private final String model;
    private final String system;
    private final String prompt;
    private final ModelCaller models;

    LlmTarget(JsonNode spec, ModelCaller models) {
        this.model = spec.get("model").asText();
        this.system = spec.hasNonNull("system") ? spec.get("system").asText() : null;
        this.prompt = spec.get("prompt").asText();
        this.models = models;
    }

    @Override
    public Outcome run(Case c, RunContext run, double timeoutSeconds) throws InterruptedException {
        long start = System.nanoTime();
        try {
            String text = models.complete(run.userId(), "eval", model,
                    system == null ? null : Templates.fill(system, c, null), Templates.fill(prompt, c, null), timeoutSeconds);
            return new Outcome(TextNode.valueOf(text), java.util.List.of(), null, null, null, (System.nanoTime() - start) / 1e9);
        } catch (ModelCaller.ModelException e) {
            return Outcome.error(e.getMessage(), (System.nanoTime() - start) / 1e9);
        }
    }
}
