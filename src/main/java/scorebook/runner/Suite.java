package scorebook.runner;

import java.nio.file.Path;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One suite file, read and checked.
 *
 * @param file     the file, relative to the eval path
 * @param dir      the folder it lives in (a command target's working directory)
 * @param target   what produces each case's output
 * @param timeout  seconds per case from the file, or null
 * @param scorers  in declaration order
 * @param cases    in file order
 */
public record Suite(String file, Path dir, TargetSpec target, Double timeout, List<ScorerSpec> scorers, List<Case> cases) {

    /** A target as written: its kind and its settings. */
    public record TargetSpec(String kind, JsonNode spec) {
    }

    /** A scorer as written: its type, its key and its settings. */
    public record ScorerSpec(String type, String key, JsonNode spec) {
    }
}
