package scorebook.runner;

/** A scorer that could not grade (its program failed, its model did not answer): the result becomes an error. */
final class ScorerFailure extends RuntimeException {
    ScorerFailure(String message) {
        super(message, null, false, false);
    }
}
