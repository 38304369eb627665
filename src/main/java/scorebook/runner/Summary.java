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

    /**
     * Prints the summary; returns whether any case failed or errored. Its counts follow the FAILED and ERROR
     * lines and the exit code: a result with any failing score failed, even when another of its scores passed
     * (the API's {@code total_passed} keeps the original's rule, which counts such a result as passed).
     */
    static boolean print(PrintStream out, EvalStore store, long user, EvalStore.Run run, List<ResultRow> rows) {
        long errors = rows.stream().filter(ResultRow::hasError).count();
        long failed = rows.stream().filter(Summary::failedAScore).count();
        long passed = rows.stream().filter(r -> r.status().equals("completed") && !r.hasError() && !failedAScore(r)).count();
        long notRun = rows.size() - errors - failed - passed;
        return store.readRun(user, run.runId(), false, view -> {
            EvalStore.Totals t = view.totals();
            out.printf(Locale.ROOT, "Run %s (%s) in session %s: %d results, %d passed, %d failed a score, %d errors%s, avg latency %.2fs%n",
                    run.runName(), run.runId(), run.sessionName(), rows.size(), passed, failed, errors,
                    notRun > 0 ? ", " + notRun + " not run" : "", t.averageLatency());
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

    /** Finished without an error, and at least one score did not pass. */
    static boolean failedAScore(ResultRow r) {
        return !r.hasError() && r.scores() != null && r.scores().stream().anyMatch(s -> Boolean.FALSE.equals(s.passed()));
    }
}
