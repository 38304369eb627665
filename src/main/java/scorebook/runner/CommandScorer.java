package scorebook.runner;

import scorebook.evals.Score;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.server.Json;

/**
 * An external program grades the case: it gets {function, input, output, reference, metadata} on
 * stdin and prints a list of scores, {"scores": [...]}, one score object, true/false, or a number.
 */
final class CommandScorer implements Scorer {
    private final String key;
    private final List<String> command;
    private final Path dir;
    private final double timeoutSeconds;

    CommandScorer(String key, JsonNode spec, Path dir) {
        this.key = key;
        this.command = CommandTarget.command(spec.get("command"));
        this.dir = dir;
        this.timeoutSeconds = spec.path("timeout").asDouble(60);
    }

    @Override
    public List<Score> score(Case c, Outcome o, RunContext run) throws InterruptedException {
        ObjectNode in = c.toJson();
        in.set("output", o.output());
        ProcessRun.Result r;
        try {
            r = ProcessRun.run(command, dir, run.environment(c), Json.bytes(in), timeoutSeconds);
        } catch (IOException e) {
            throw new ScorerFailure("scorer " + key + ": cannot start " + command + ": " + e.getMessage());
        }
        String failure = r.failure(timeoutSeconds);
        if (failure != null) {
            throw new ScorerFailure("scorer " + key + ": " + failure);
        }
        return parse(r.stdout().strip());
    }

    private List<Score> parse(String text) {
        JsonNode json;
        try {
            json = Json.MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new ScorerFailure("scorer " + key + " printed something that is not JSON: " + Text.shorten(text, 200));
        }
        try {
            if (json == null || json.isMissingNode()) {
                throw new IllegalArgumentException("it printed nothing");
            }
            if (json.isBoolean()) {
                return List.of(new Score(key, null, json.asBoolean(), null));
            }
            if (json.isNumber()) {
                return List.of(new Score(key, json.asDouble(), null, null));
            }
            if (json.isArray()) {
                return Reply.scores(json);
            }
            if (json.has("scores")) {
                return Reply.scores(json.get("scores"));
            }
            ObjectNode one = json.deepCopy();
            if (!one.has("key")) {
                one.put("key", key);
            }
            return Reply.scores(Json.MAPPER.createArrayNode().add(one));
        } catch (IllegalArgumentException e) {
            throw new ScorerFailure("scorer " + key + ": " + e.getMessage());
        }
    }
}
