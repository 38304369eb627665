package scorebook.runner;

import scorebook.evals.Score;
import java.util.List;

/** Grades a case's outcome. Runs only on outcomes without an error. */
public interface Scorer {
    List<Score> score(Case c, Outcome o, RunContext run) throws InterruptedException;
}
