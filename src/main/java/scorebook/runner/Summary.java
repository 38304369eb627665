package scorebook.runner;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

import scorebook.evals.EvalStore;
import scorebook.evals.ResultRow;

/** The table {@code scorebook run} prints at the end: totals, score chips, and every failure and error. */
final class Summary {
    private Summary() {
    }

    /** Prints the summary; returns whether any case failed or errored. */
    static boolean print(PrintStream out, EvalStore store, long user, EvalStore.Run run, List<ResultRow> rows) {
        return store.readRun(user, run.runId(), false, view -> {
            EvalStore.Totals t = view.totals();
            out.printf(Locale.ROOT, "Run %s (%s) in session %s: %d results, %d passed, %d errors, avg latency %.2fs%n",
                    run.runName(), run.runId(), run.sessionName(), t.totalEvaluations(), t.totalPassed(), t.totalErrors(),
                    t.averageLatency());
            List<EvalStore.Chip> chips = view.chips();
            if (!chips.isEmpty()) {
                out.printf(Locale.ROOT, "%-24s %s%n", "score", "result");
                for (EvalStore.Chip c : chips) {
                    String result = c.type().equals("ratio")
                            ? String.format(Locale.ROOT, "%d%% (%d/%d)", c.total() == 0 ? 0 : Math.round(100.0 * c.passed() / c.total()),
                                    c.passed(), c.total())
                            : String.format(Locale.ROOT, "avg %.3f (%d)", c.avg() == null ? 0 : c.avg(), c.count());
                    out.printf(Locale.ROOT, "%-24s %s%n", c.key(), result);
                }
            }
            boolean bad = false;
            for (ResultRow r : rows) {
                String name = r.dataset() + "/" + r.function();
                if (r.hasError()) {
                    bad = true;
                    out.println("ERROR   " + name + ": " + r.error().lines().findFirst().orElse(""));
                } else if (r.scores() != null) {
                    for (var s : r.scores()) {
                        if (Boolean.FALSE.equals(s.passed())) {
                            bad = true;
                            out.println("FAILED  " + name + ": " + s.key() + (s.notes() == null ? "" : ": " + s.notes()));
                        }
                    }
                }
            }
            return bad;
        });
    }
}
