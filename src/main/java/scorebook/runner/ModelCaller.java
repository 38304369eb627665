package scorebook.runner;

/**
 * How the runner reaches a model (the {@code llm} target and the {@code judge} scorer); the
 * implementation routes through the gateway's devices and records usage.
 */
public interface ModelCaller {
    /**
     * The model's text reply; throws ModelException with a message fit for a result's error.
     *
     * @param source what the call is for in the usage rows: "eval" or "judge"
     */
    String complete(long userId, String source, String model, String system, String prompt, double timeoutSeconds)
            throws InterruptedException;

    /** A model call that did not produce text. */
    final class ModelException extends RuntimeException {
        public ModelException(String message) {
            super(message);
        }
    }

    /** No model gateway: every call fails with a clear message. */
    ModelCaller NONE = (userId, source, model, system, prompt, timeout) -> {
        throw new ModelException("no model gateway is available to call " + model);
    };
}
