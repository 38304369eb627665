package scorebook.runner;

import scorebook.evals.Score;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;

/**
 * A model grades the output against a rubric and answers {"score": 0..1, "passed": bool, "reason"};
 * the score becomes {@code value}, passed defaults to score ≥ threshold (0.5).
 */
final class JudgeScorer implements Scorer {
    private static final String SYSTEM = """
            You grade the output of an AI system. Follow the rubric strictly. Reply with only one JSON
            object and nothing else: {"score": <number from 0 to 1>, "passed": <true or false>, "reason": "<one sentence>"}""";
    private static final String DEFAULT_RUBRIC = "The output is correct and answers the input; when a reference is given, it agrees with it.";
    private static final Pattern OBJECT = Pattern.compile("\\{.*}", Pattern.DOTALL);

    private final String key;
    private final String model;
    private final String rubric;
    private final double threshold;
    private final ModelCaller models;

    JudgeScorer(String key, JsonNode spec, ModelCaller models) {
        this.key = key;
        this.model = spec.get("model").asText();
        this.rubric = spec.path("rubric").asText(DEFAULT_RUBRIC);
        this.threshold = spec.path("threshold").asDouble(0.5);
        this.models = models;
    }

    @Override
    public List<Score> score(Case c, Outcome o, RunContext run) throws InterruptedException {
        String prompt = "Rubric:\n" + rubric + "\n\nInput:\n" + Text.of(c.input()) + "\n\nReference:\n"
                + (c.reference() == null || c.reference().isNull() ? "(none)" : Text.of(c.reference()))
                + "\n\nOutput to grade:\n" + Text.of(o.output());
        String reply;
        try {
            reply = models.complete(run.userId(), "judge", model, SYSTEM, prompt, 120);
        } catch (ModelCaller.ModelException e) {
            throw new ScorerFailure("judge " + key + ": " + e.getMessage());
        }
        Matcher m = OBJECT.matcher(reply);
        JsonNode verdict = null;
        if (m.find()) {
            try {
                verdict = Json.MAPPER.readTree(m.group());
            } catch (JsonProcessingException e) {
                verdict = null;
            }
        }
        if (verdict == null || !verdict.path("score").isNumber()) {
            throw new ScorerFailure("judge " + key + ": the model's reply has no {\"score\": …}: " + Text.shorten(reply, 200));
        }
        double score = Math.max(0, Math.min(1, verdict.get("score").asDouble()));
        boolean passed = verdict.path("passed").isBoolean() ? verdict.get("passed").asBoolean() : score >= threshold;
        String reason = verdict.path("reason").isTextual() ? verdict.get("reason").asText() : null;
        return List.of(new Score(key, score, passed, reason));
    }
}
