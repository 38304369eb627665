package scorebook.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * On a test class that drives Chromium: without chromium and chromedriver its tests are reported as
 * skipped, each with the reason, instead of vanishing from the counts. On CI (environment CI set)
 * they run anyway, so a missing browser there is a failure, not a silent skip.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(NeedsBrowser.Condition.class)
public @interface NeedsBrowser {
    /** Disables the class with the reason; surefire then lists each of its tests as skipped with it. */
    final class Condition implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            if (Browser.available() || System.getenv("CI") != null) {
                return ConditionEvaluationResult.enabled("chromium and chromedriver are installed");
            }
            return ConditionEvaluationResult.disabled(Browser.missing());
        }
    }
}
