package scorebook.runner;

/** Produces a case's output: a process, an HTTP service or a model. */
public interface Target {
    /**
     * Runs one case. A timeout is an error outcome naming it; a stop interrupts the calling thread,
     * which ends whatever the target started and throws InterruptedException.
     */
    Outcome run(Case c, RunContext run, double timeoutSeconds) throws InterruptedException;
}
