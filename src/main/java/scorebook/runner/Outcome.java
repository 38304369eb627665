package scorebook.runner;

import scorebook.evals.Score;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * What running one case produced: the target's output and whatever it reported, then the scores.
 *
 * @param output    the output, any JSON
 * @param scores    scores reported by the target, then the scorers'
 * @param metadata  metadata reported by the target (merged over the case's), or null
 * @param traceData trace data reported by the target, or null
 * @param error     an error message, or null when the case ran
 * @param latency   seconds
 */
public record Outcome(JsonNode output, List<Score> scores, JsonNode metadata, JsonNode traceData, String error,
                      double latency) {

    public static Outcome error(String message, double latency) {
        return new Outcome(null, List.of(), null, null, message, latency);
    }

    public Outcome withScores(List<Score> more) {
        List<Score> all = new ArrayList<>(scores);
        all.addAll(more);
        return new Outcome(output, List.copyOf(all), metadata, traceData, error, latency);
    }
}
