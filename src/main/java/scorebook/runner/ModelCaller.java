package scorebook.runner;

/**
 * How the runner reaches a model (for the {@code llm} target and the {@code judge} scorer):
 * routed through the gateway's devices and recorded as usage by the implementation.
 */
public interface ModelCaller {
    /** The model's text reply; throws ModelException with a message fit for a result's error. */
    String complete(long userId, String model, String system, String prompt, double timeoutSeconds) throws InterruptedException;

    /** A model call that did not produce text. */
    final class ModelException extends RuntimeException {
        public ModelException(String message) {
            super(message);
        }
    }

    /** Until devices are configured: every call fails with a clear message. */
    ModelCaller NONE = (userId, model, system, prompt, timeout) -> {
        throw new ModelException("no model gateway is available to call " + model);
    };
}
