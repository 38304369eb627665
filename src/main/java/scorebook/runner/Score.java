package scorebook.runner;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * A score: a key with a numeric value, a pass/fail, or both, and optional notes.
 * All four keys are always written, as in the original.
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record Score(String key, Double value, Boolean passed, String notes) {
    public static Score pass(String key, boolean passed, String notes) {
        return new Score(key, null, passed, notes);
    }
}
