package scorebook.evals;

/**
 * One score of a result: a key and at least one of value/passed, with optional notes.
 *
 * @param key    what was scored, e.g. "accuracy"
 * @param value  a number, or null
 * @param passed a verdict, or null
 * @param notes  free text, or null
 */
public record Score(String key, Double value, Boolean passed, String notes) {
}
