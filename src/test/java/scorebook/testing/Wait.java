package scorebook.testing;

import java.time.Duration;
import java.util.function.Supplier;

/**
 * Waiting on an event in tests: checks a condition until it holds, up to a generous deadline, so a
 * loaded machine makes a test slower, never red. The deadline only bounds a test that is really broken.
 */
public final class Wait {
    /** Long enough that only a real failure reaches it, even on a busy two-core machine. */
    public static final Duration DEADLINE = Duration.ofSeconds(60);

    private Wait() {
    }

    /** Something checked again and again; it may throw (a failed request counts as "not yet"). */
    public interface Check {
        boolean ok() throws Exception;
    }

    /** Waits until {@code check} holds; fails naming {@code what} after {@link #DEADLINE}. */
    public static void until(String what, Check check) {
        until(what, check, () -> "");
    }

    /** As {@link #until(String, Check)}; {@code state} describes what was seen last, for the failure message. */
    public static void until(String what, Check check, Supplier<String> state) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        Exception last = null;
        while (true) {
            try {
                if (check.ok()) {
                    return;
                }
                last = null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for " + what, e);
            } catch (Exception e) {
                last = e;
            }
            if (System.nanoTime() > deadline) {
                String seen = state.get();
                throw new AssertionError("waited " + DEADLINE.toSeconds() + " s for " + what
                        + (seen.isEmpty() ? "" : "; last seen: " + seen), last);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for " + what, e);
            }
        }
    }
}
