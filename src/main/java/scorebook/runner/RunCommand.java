package scorebook.runner;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import scorebook.auth.AuthStore;
import scorebook.auth.Owner;
import scorebook.devices.Devices;
import scorebook.evals.ConfigStore;
import scorebook.evals.EvalStore;
import scorebook.evals.ResultRow;
import scorebook.server.Names;
import scorebook.server.Options;
import scorebook.store.Database;

/**
 * {@code scorebook run PATH}: runs suites into the data directory's store with a progress bar and a
 * summary; exit code 1 when any case failed or errored, or a suite could not be read (for CI).
 */
public final class RunCommand {
    private static final Set<String> OPTIONS = Set.of("session", "run-name", "concurrency", "timeout", "dataset", "label",
            "data", "junit");

    public static final String USAGE = """
            usage: scorebook run PATH [--session S] [--run-name R] [--concurrency N] [--timeout S] [--dataset D]
                                      [--label L] [--data DIR] [--junit FILE]
              PATH             a suite file or a folder of them
              --session S      session to file the run under (default "default")
              --run-name R     the run's name (default: a made-up one)
              --concurrency N  cases at once (default: the data folder's config, 1)
              --timeout S      seconds per case (default: the suite's, else 600)
              --dataset D      only cases of these datasets (comma-separated)
              --label L        only cases with one of these labels (comma-separated)
              --data DIR       the data folder (default ./data; made if missing)
              --junit FILE     also write a JUnit XML report (for CI)
            Exit code 0 when every case passed, 1 when a case failed a score or errored.
            """;

    private RunCommand() {
    }

    public static int run(List<String> args) throws InterruptedException, IOException {
        Options o = Options.parse(args, OPTIONS);
        if (o.positionals().size() != 1) {
            throw new IllegalArgumentException(USAGE.strip());
        }
        Path path = Path.of(o.positionals().getFirst()).toAbsolutePath();
        if (!Files.exists(path)) {
            throw new IllegalArgumentException("no such eval path: " + path);
        }
        Double timeout = o.has("timeout") ? positive(o.get("timeout", "")) : null;
        EvalRunner.NewRun request = new EvalRunner.NewRun(
                Names.check("session", o.get("session", "default")),
                o.has("run-name") ? Names.check("run-name", o.get("run-name", "")) : null,
                null, list(o.get("dataset", "")), list(o.get("label", "")),
                o.has("concurrency") ? o.integer("concurrency", 1, 1, 256) : null, timeout);
        PrintStream out = System.out;
        try (Database db = Owner.open(Path.of(o.get("data", "data"))); Devices devices = new Devices(db)) {
            devices.start();
            AuthStore auth = new AuthStore(db);
            long owner = Owner.id(auth);
            EvalStore store = new EvalStore(db);
            EvalRunner runner = new EvalRunner(store, new ConfigStore(db), new RunEvents(), new GatewayModels(devices.models()), path);
            SuiteLoader.Discovery found = runner.discover();
            found.errors().forEach(e -> System.err.println("suite error: " + e));
            EvalStore.Run run = runner.newRun(owner, request);
            Progress progress = new Progress(System.err, System.console() != null);
            if (progress.tty) {
                while (runner.running(owner)) {
                    progress.show(rows(store, owner, run.runId()));
                    Thread.sleep(100);
                }
            }
            runner.await(owner);
            List<ResultRow> rows = rows(store, owner, run.runId());
            progress.done(rows);
            boolean bad = Summary.print(out, store, owner, run, rows) || !found.errors().isEmpty();
            if (o.has("junit")) {
                JUnitReport.write(Path.of(o.get("junit", "")), rows.stream().map(JUnitReport.Entry::of).toList(), found.errors());
            }
            return bad ? 1 : 0;
        }
    }

    private static List<ResultRow> rows(EvalStore store, long user, String runId) {
        return store.readRun(user, runId, false, view -> {
            List<ResultRow> all = new ArrayList<>(view.size());
            view.forEachRow((i, r) -> all.add(r));
            return all;
        });
    }

    private static Set<String> list(String commaSeparated) {
        Set<String> out = new LinkedHashSet<>();
        Arrays.stream(commaSeparated.split(",")).map(String::strip).filter(s -> !s.isEmpty()).forEach(out::add);
        return out;
    }

    private static double positive(String raw) {
        try {
            double v = Double.parseDouble(raw);
            if (v > 0) {
                return v;
            }
        } catch (NumberFormatException e) {
            // fall through to the message
        }
        throw new IllegalArgumentException("--timeout must be a number of seconds > 0, not '" + raw + "'");
    }

    /** The bar on stderr: redrawn in place on a terminal, one line at the end otherwise. */
    private static final class Progress {
        private final PrintStream err;
        private final boolean tty;

        Progress(PrintStream err, boolean tty) {
            this.err = err;
            this.tty = tty;
        }

        void show(List<ResultRow> rows) {
            err.print("\r" + line(rows));
            err.flush();
        }

        void done(List<ResultRow> rows) {
            err.println((tty ? "\r" : "") + line(rows));
        }

        private static String line(List<ResultRow> rows) {
            long done = rows.stream().filter(r -> !Set.of("pending", "running", "not_started").contains(r.status())).count();
            long errors = rows.stream().filter(ResultRow::hasError).count();
            long failed = rows.stream().filter(Summary::failedAScore).count();
            int width = 30;
            int filled = rows.isEmpty() ? width : (int) (done * width / rows.size());
            return String.format(Locale.ROOT, "[%s%s] %d/%d  failed %d  errors %d", "#".repeat(filled),
                    ".".repeat(width - filled), done, rows.size(), failed, errors);
        }
    }
}
