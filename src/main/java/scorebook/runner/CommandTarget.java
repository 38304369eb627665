package scorebook.runner;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;

/**
 * A process per case: the case as one JSON object on stdin, the run's ids in the environment,
 * stdout read as the reply. A non-zero exit is an error with the end of stderr; a timeout or a
 * stop kills the whole process tree.
 */
final class CommandTarget implements Target {
    private final List<String> command;
    private final Path workDir;

    CommandTarget(JsonNode spec, Path workDir) {
        this.command = command(spec);
        this.workDir = workDir;
    }

    /** A string runs through {@code sh -c}; a list runs as it is. */
    static List<String> command(JsonNode spec) {
        if (spec.isTextual()) {
            return List.of("sh", "-c", spec.asText());
        }
        List<String> out = new ArrayList<>();
        spec.forEach(s -> out.add(s.asText()));
        return out;
    }

    @Override
    public Outcome run(Case c, RunContext run, double timeoutSeconds) throws InterruptedException {
        long start = System.nanoTime();
        try {
            ProcessRun.Result r = ProcessRun.run(command, workDir, run.environment(c), Json.bytes(c.toJson()), timeoutSeconds);
            String failure = r.failure(timeoutSeconds);
            return failure != null ? Outcome.error(failure, r.seconds()) : Reply.read(r.stdout(), r.seconds());
        } catch (IOException e) {
            return Outcome.error("cannot start " + command + ": " + e.getMessage(), (System.nanoTime() - start) / 1e9);
        }
    }
}
