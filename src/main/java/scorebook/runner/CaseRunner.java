package scorebook.runner;

import scorebook.evals.Score;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs one case of a suite to its final outcome: the target, then (when it did not fail) every
 * scorer, then the default {@code correctness} pass when nothing scored it.
 */
public final class CaseRunner {
    private final Suite suite;
    private final Target target;
    private final List<Scorer> scorers = new ArrayList<>();

    public CaseRunner(Suite suite, ModelCaller models) {
        this.suite = suite;
        this.target = switch (suite.target().kind()) {
            case "command" -> new CommandTarget(suite.target().spec(), suite.dir());
            case "http" -> new HttpTarget(suite.target().spec());
            default -> new LlmTarget(suite.target().spec(), models);
        };
        for (Suite.ScorerSpec s : suite.scorers()) {
            scorers.add(Scorers.of(s, suite, models));
        }
    }

    public Suite suite() {
        return suite;
    }

    /**
     * @param timeoutSeconds the config's timeout when set, else the suite's, else the default
     */
    public Outcome run(Case c, RunContext run, double timeoutSeconds) throws InterruptedException {
        Outcome o = target.run(c, run, timeoutSeconds);
        if (o.error() != null) {
            return o;
        }
        try {
            for (Scorer s : scorers) {
                o = o.withScores(s.score(c, o, run));
            }
        } catch (ScorerFailure e) {
            return new Outcome(o.output(), o.scores(), o.metadata(), o.traceData(), e.getMessage(), o.latency());
        }
        if (o.scores().isEmpty()) {
            o = o.withScores(List.of(new Score("correctness", null, true, null)));
        }
        return o;
    }
}
