package scorebook.runner;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.logging.Level;
import java.util.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.evals.ConfigStore;
import scorebook.evals.EvalStore;
import scorebook.evals.FriendlyNames;
import scorebook.evals.LiveJson;
import scorebook.evals.ResultRow;
import scorebook.evals.Score;
import scorebook.server.ApiException;
import scorebook.server.Json;

/**
 * Runs suites from the eval path into a user's runs: rerun in place, new run, stop. One execution
 * per user at a time; at most {@code concurrency} cases at once; every row change is stored, then
 * published to the run's live watchers.
 */
public final class EvalRunner {
    private static final Logger LOG = Logger.getLogger(EvalRunner.class.getName());
    /** How long a Stop waits for the executing cases to end (their processes killed, requests cut) before it goes on. */
    private static final java.time.Duration STOP_WAIT = java.time.Duration.ofSeconds(30);
    /** Per case, when neither the config nor the suite sets a timeout. */
    static final double DEFAULT_TIMEOUT = 600;

    private final EvalStore store;
    private final ConfigStore config;
    private final RunEvents events;
    private final ModelCaller models;
    private final Path evalPath;
    private final Map<Long, Execution> executions = new ConcurrentHashMap<>();
    /** Held while a run is set up, so two requests cannot both start one for the same user. */
    private final java.util.concurrent.locks.ReentrantLock starting = new java.util.concurrent.locks.ReentrantLock();
    private volatile boolean shuttingDown;

    public EvalRunner(EvalStore store, ConfigStore config, RunEvents events, ModelCaller models, Path evalPath) {
        this.store = store;
        this.config = config;
        this.events = events;
        this.models = models;
        this.evalPath = evalPath;
    }

    public Path evalPath() {
        return evalPath;
    }

    /** The suites as they are on disk now (they are re-read for every run, so edits apply). */
    public SuiteLoader.Discovery discover() {
        return SuiteLoader.discover(evalPath);
    }

    /** Discovered cases as {@code not_started} rows, for a user who has no run yet. */
    public List<ResultRow> notStarted() {
        return discover().cases().stream().map(c -> placeholder(c, "not_started")).toList();
    }

    /**
     * Reruns the active run in place: all its rows (plus cases added to the suites since), or only
     * {@code indices}. With no active run yet, starts a new one. Returns the run id.
     */
    public String rerun(long userId, List<Integer> indices) {
        starting.lock();
        try {
            return rerunLocked(userId, indices);
        } finally {
            starting.unlock();
        }
    }

    private String rerunLocked(long userId, List<Integer> indices) {
        busy(userId);
        SuiteLoader.Discovery found = discoverOrFail();
        var active = store.activeRun(userId);
        if (active.isEmpty()) {
            return newRunLocked(userId, NewRun.of(null, indices)).runId();
        }
        String runId = active.get().runId();
        List<EvalStore.RowKey> rows = store.rowKeys(userId, runId);
        if (rows.isEmpty() && indices != null) {
            throw ApiException.badRequest("No results available to rerun. Check that your eval file imports correctly.");
        }
        checkIndices(indices, rows.size(), "results");
        Set<Integer> selected = indices == null ? null : Set.copyOf(indices);
        Map<String, List<Case>> byKey = casesByKey(found.cases());
        Map<Integer, Case> work = new LinkedHashMap<>();
        Map<String, Integer> seen = new HashMap<>();
        Set<Integer> unmatched = new java.util.LinkedHashSet<>();
        for (int i = 0; i < rows.size(); i++) {
            String key = key(rows.get(i).function(), rows.get(i).dataset());
            int occurrence = seen.merge(key, 1, Integer::sum) - 1;
            List<Case> candidates = byKey.getOrDefault(key, List.of());
            if (selected == null || selected.contains(i)) {
                if (occurrence < candidates.size()) {
                    work.put(i, candidates.get(occurrence));
                } else {
                    unmatched.add(i);
                }
            }
        }
        if (indices == null) {
            // cases added to the suites since the run was made join it at the end
            List<Case> added = new ArrayList<>();
            for (Case c : found.cases()) {
                if (seen.merge(key(c.function(), c.dataset()), -1, Integer::sum) < 0) {
                    added.add(c);
                }
            }
            if (!added.isEmpty()) {
                int first = store.append(userId, runId, added.stream().map(c -> placeholder(c, "pending")).toList()).firstIndex();
                for (int k = 0; k < added.size(); k++) {
                    work.put(first + k, added.get(k));
                }
            }
        }
        store.runStarted(userId, runId, indices == null ? null : work.size());
        List<Integer> touched = new ArrayList<>(work.keySet());
        touched.addAll(unmatched);
        Outcome gone = Outcome.error("this case is no longer in the suites under " + evalPath, 0);
        List<EvalStore.Stored> queued = store.updateRows(userId, runId, touched,
                (i, r) -> unmatched.contains(i) ? withOutcome(r, gone, "error") : pending(r, work.get(i)));
        Map<Integer, EvalStore.Stored> known = new HashMap<>();
        for (int k = 0; k < touched.size(); k++) {
            known.put(touched.get(k), queued.get(k));
        }
        start(userId, active.get(), work, known, found, null, null);
        return runId;
    }

    /**
     * What a new run takes. The API gives a name and indices; the command line adds a session,
     * dataset and label filters, and concurrency and timeout for this run only.
     */
    public record NewRun(String session, String runName, List<Integer> indices, Set<String> datasets, Set<String> labels,
                         Integer concurrency, Double timeout) {
        public static NewRun of(String runName, List<Integer> indices) {
            return new NewRun(null, runName, indices, Set.of(), Set.of(), null, null);
        }

        boolean wants(Case c) {
            return (datasets.isEmpty() || datasets.contains(c.dataset()))
                    && (labels.isEmpty() || c.labels().stream().anyMatch(labels::contains));
        }
    }

    /** Starts a new run in the active run's session (or "default"): the selected cases pending, the rest not_started. */
    public EvalStore.Run newRun(long userId, String runName, List<Integer> indices) {
        return newRun(userId, NewRun.of(runName, indices));
    }

    public EvalStore.Run newRun(long userId, NewRun request) {
        starting.lock();
        try {
            return newRunLocked(userId, request);
        } finally {
            starting.unlock();
        }
    }

    private EvalStore.Run newRunLocked(long userId, NewRun request) {
        busy(userId);
        SuiteLoader.Discovery found = discoverOrFail();
        List<Case> cases = found.cases().stream().filter(request::wants).toList();
        List<Integer> indices = request.indices();
        String runName = request.runName();
        if (indices != null && cases.isEmpty()) {
            throw ApiException.badRequest("No results available to run. Check that your eval file imports correctly.");
        }
        checkIndices(indices, cases.size(), "evals");
        String session = request.session() != null ? request.session()
                : store.activeRun(userId).map(EvalStore.Run::sessionName).orElse("default");
        String name = runName != null ? runName : FriendlyNames.random();
        Set<Integer> selected = indices == null ? null : Set.copyOf(indices);
        List<EvalStore.Stored> rows = new ArrayList<>();
        Map<Integer, Case> work = new LinkedHashMap<>();
        Map<Integer, EvalStore.Stored> known = new HashMap<>();
        for (int i = 0; i < cases.size(); i++) {
            boolean wanted = selected == null || selected.contains(i);
            rows.add(EvalStore.stored(placeholder(cases.get(i), wanted ? "pending" : "not_started")));
            if (wanted) {
                work.put(i, cases.get(i));
                known.put(i, rows.get(i));
            }
        }
        EvalStore.Run run = store.importStored(userId, new EvalStore.NewRun(session, name, evalPath.toString(), null, null,
                null, null, null), rows);
        if (indices != null) {
            store.runStarted(userId, run.runId(), work.size());
        }
        start(userId, run, work, known, found, request.concurrency(), request.timeout());
        return run;
    }

    /**
     * Cancels pending rows and ends running ones (their processes and requests too), in the active run
     * and in the run executing, which is another one when a run was activated or created meanwhile.
     */
    public void stop(long userId) {
        Set<String> runIds = new java.util.LinkedHashSet<>();
        Execution e = executions.get(userId);
        if (e != null) {
            e.stop();
            // the cases' own last writes (a running case ends cancelled) land before the rows left are cancelled,
            // so the totals sent below are the final ones, and the execution's writer cannot set a row back
            try {
                e.awaitEnd(STOP_WAIT);
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
            }
            runIds.add(e.ctx.runId());
        }
        store.activeRun(userId).ifPresent(run -> runIds.add(run.runId()));
        for (String runId : runIds) {
            try {
                store.changeStatus(userId, runId, Set.of("pending", "running"), "cancelled");
                publishTotals(userId, runId);
                events.publish(runId, new RunEvents.Event("done", "{}"));
            } catch (ApiException deleted) {
                // the executing run was deleted meanwhile: nothing left to cancel in it
            }
        }
    }

    /**
     * The server is stopping: end every case's process or request and write nothing more; the next
     * start marks the rows left pending or running as interrupted.
     */
    public void shutdown() {
        shuttingDown = true;
        executions.values().forEach(Execution::cancel);
    }

    /** Whether a run of this user is executing. */
    public boolean running(long userId) {
        return executions.containsKey(userId);
    }

    /** How many runs are executing now, all users together (for /metrics). */
    public int executing() {
        return executions.size();
    }

    /** Waits until the user's execution (if any) has finished; for the CLI and tests. */
    public void await(long userId) throws InterruptedException {
        Execution e = executions.get(userId);
        if (e != null) {
            e.join();
        }
    }

    private void busy(long userId) {
        if (executions.containsKey(userId)) {
            throw ApiException.conflict("a run is in progress; stop it first (POST /api/runs/stop)");
        }
    }

    private SuiteLoader.Discovery discoverOrFail() {
        if (!java.nio.file.Files.exists(evalPath)) {
            throw ApiException.badRequest("Eval path not found: " + evalPath);
        }
        return discover();
    }

    private static void checkIndices(List<Integer> indices, int size, String noun) {
        if (indices == null) {
            return;
        }
        List<Integer> bad = indices.stream().filter(i -> i < 0 || i >= size).toList();
        if (!bad.isEmpty()) {
            throw ApiException.badRequest("Invalid indices: " + bad + ". Only " + size + " " + noun + " exist (indices 0-"
                    + (size - 1) + ").");
        }
    }

    /**
     * Executes {@code work} in {@code run}; {@code known} holds the rows of the work as they were just stored, so that
     * the writer changes them without reading them back.
     */
    private void start(long userId, EvalStore.Run run, Map<Integer, Case> work, Map<Integer, EvalStore.Stored> known,
                       SuiteLoader.Discovery found, Integer concurrency, Double timeout) {
        ConfigStore.EvalConfig stored = config.get(userId);
        EvalConfigView cfg = new EvalConfigView(concurrency != null ? concurrency : stored.concurrency(),
                timeout != null ? timeout : stored.timeout());
        // by identity: a case's hash would walk its input, reference and metadata JSON on every lookup
        Map<Case, CaseRunner> runners = new java.util.IdentityHashMap<>();
        for (Suite s : found.suites()) {
            CaseRunner r = new CaseRunner(s, models);
            s.cases().forEach(c -> runners.put(c, r));
        }
        RunContext ctx = new RunContext(userId, run.runId(), run.runName(), run.sessionName(), evalPath.toString());
        Execution e = new Execution(userId, run, ctx, work, known, runners, cfg);
        executions.put(userId, e);
        publish(userId, run.runId(), known);
        e.start();
    }

    /** What the runner needs of the user's config. */
    private record EvalConfigView(int concurrency, Double timeout) {
    }

    /**
     * One user's run in progress: a virtual thread per case behind a semaphore for the concurrency,
     * and one writer that stores row changes in batches (one transaction for whatever piled up), so
     * the single SQLite writer is not the bottleneck of a wide run.
     */
    private final class Execution {
        private static final Change END = new Change(-1, null);
        /** How long the writer gathers changes after the first of a batch, and how many at most. */
        private static final long GATHER_NS = 3_000_000;
        private static final int GATHER_MAX = 1000;

        private final long userId;
        private final EvalStore.Run run;
        private final RunContext ctx;
        private final Map<Integer, Case> work;
        /** Each row of the work as last stored (touched by the writer only, once started). */
        private final Map<Integer, EvalStore.Stored> known;
        private final Map<Case, CaseRunner> runners;
        private final EvalConfigView cfg;
        private final Semaphore slots;
        private final List<Thread> threads = new ArrayList<>();
        private final java.util.concurrent.BlockingQueue<Change> changes = new java.util.concurrent.LinkedBlockingQueue<>();
        private volatile boolean cancelled;
        private volatile boolean stopped;
        /** Made with the execution (started by {@link #start}), so a Stop arriving first can wait on it. */
        private final Thread coordinator;

        /** A change to one row, applied in the order it was made. */
        private record Change(int index, java.util.function.UnaryOperator<ResultRow> change) {
        }

        Execution(long userId, EvalStore.Run run, RunContext ctx, Map<Integer, Case> work, Map<Integer, EvalStore.Stored> known,
                  Map<Case, CaseRunner> runners, EvalConfigView cfg) {
            this.userId = userId;
            this.run = run;
            this.ctx = ctx;
            this.work = work;
            this.known = known;
            this.runners = runners;
            this.cfg = cfg;
            this.slots = new Semaphore(cfg.concurrency(), true);
            this.coordinator = Thread.ofVirtual().name("run-" + ctx.runId()).unstarted(this::runAll);
        }

        void start() {
            coordinator.start();
        }

        private void runAll() {
            Thread writer = Thread.ofVirtual().name("run-writer-" + ctx.runId()).start(this::writeChanges);
            try {
                for (var item : work.entrySet()) {
                    // a case takes its slot before its thread starts, so cases start in file order (with concurrency 1
                    // one after another, as the original); their threads racing for the slots started any of them
                    slots.acquire();
                    if (cancelled) {
                        slots.release();
                        break;
                    }
                    synchronized (threads) {
                        threads.add(Thread.ofVirtual().start(() -> runOne(item.getKey(), item.getValue())));
                    }
                }
                for (Thread t : threads) {
                    t.join();
                }
                changes.add(END);
                writer.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                executions.remove(userId, this);
                if (!stopped) {
                    // a Stop sends "done" itself, after the totals of the rows it cancels
                    events.publish(ctx.runId(), new RunEvents.Event("done", "{}"));
                }
            }
        }

        /** Runs one case in the slot the coordinator took for it. */
        private void runOne(int index, Case c) {
            try {
                if (cancelled) {
                    return;
                }
                update(index, r -> r.withStatus("running", r.error()));
                CaseRunner runner = runners.get(c);
                double timeout = cfg.timeout() != null ? cfg.timeout()
                        : runner.suite().timeout() != null ? runner.suite().timeout() : DEFAULT_TIMEOUT;
                Outcome o = runner.run(c, ctx, timeout);
                if (!cancelled) {
                    update(index, r -> withOutcome(r, o, o.error() == null ? "completed" : "error"));
                }
            } catch (InterruptedException e) {
                update(index, r -> r.withStatus("cancelled", r.error()));
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "case " + c.function() + " of run " + ctx.runId() + " failed", e);
                update(index, r -> withOutcome(r, Outcome.error("internal error: " + e, 0), "error"));
            } finally {
                slots.release();
            }
        }

        private void update(int index, java.util.function.UnaryOperator<ResultRow> change) {
            changes.add(new Change(index, change));
        }

        /** Drains the queue: everything that piled up goes into one transaction, then out to watchers. */
        private void writeChanges() {
            List<Change> batch = new ArrayList<>();
            boolean ended = false;
            while (!ended) {
                try {
                    batch.add(changes.take());
                    gather(batch);
                } catch (InterruptedException e) {
                    continue;
                }
                ended = batch.remove(END);
                if (shuttingDown || batch.isEmpty()) {
                    batch.clear();
                    continue;
                }
                Map<Integer, java.util.function.UnaryOperator<ResultRow>> byIndex = new LinkedHashMap<>();
                for (Change ch : batch) {
                    byIndex.merge(ch.index(), ch.change(), (first, then) -> r -> then.apply(first.apply(r)));
                }
                batch.clear();
                try {
                    List<Integer> indices = List.copyOf(byIndex.keySet());
                    List<EvalStore.Stored> stored = store.updateKnownRows(userId, run, indices, known::get,
                            (i, r) -> byIndex.get(i).apply(r));
                    Map<Integer, EvalStore.Stored> written = new LinkedHashMap<>();
                    for (int k = 0; k < indices.size(); k++) {
                        written.put(indices.get(k), stored.get(k));
                    }
                    known.putAll(written);
                    publish(userId, ctx.runId(), written);
                } catch (ApiException e) {
                    // the run was deleted while it ran: nothing left to record
                    cancel();
                }
            }
        }

        /**
         * Adds what piles up within {@link #GATHER_NS} of the first change (or until the run ends) to the batch:
         * when cases finish faster than a transaction takes, one transaction per change would make the writer
         * the bottleneck; a row change reaches watchers at most that much later.
         */
        private void gather(List<Change> batch) throws InterruptedException {
            long until = System.nanoTime() + GATHER_NS;
            changes.drainTo(batch);
            while (batch.size() < GATHER_MAX && !batch.contains(END)) {
                long left = until - System.nanoTime();
                Change next = left > 0 ? changes.poll(left, java.util.concurrent.TimeUnit.NANOSECONDS) : null;
                if (next == null) {
                    return;
                }
                batch.add(next);
                changes.drainTo(batch);
            }
        }

        void cancel() {
            cancelled = true;
            synchronized (threads) {
                threads.forEach(Thread::interrupt);
            }
        }

        /** Cancels at a user's Stop, which then cancels what is left and announces the end. */
        void stop() {
            stopped = true;
            cancel();
        }

        void join() throws InterruptedException {
            coordinator.join();
        }

        void awaitEnd(java.time.Duration wait) throws InterruptedException {
            coordinator.join(wait);
        }
    }

    /** Sends the rows at {@code indices} of a run, then its totals, to the run's live stream (if anyone watches). */
    public void publishAll(long userId, String runId, List<Integer> indices) {
        if (!events.watched(runId)) {
            return;
        }
        store.readRun(userId, runId, false, view -> {
            for (int i : indices) {
                view.rawRow(i).ifPresent(json -> events.publish(runId, new RunEvents.Event("row",
                        "{\"index\":" + i + ",\"row\":" + new String(json, java.nio.charset.StandardCharsets.UTF_8) + "}")));
            }
            // after the rows of a change, the run's new totals and chips, so a page updates without a refetch
            events.publish(runId, new RunEvents.Event("totals", LiveJson.totals(view)));
            return null;
        });
    }

    /**
     * Sends rows a runner has just stored (by index, with the JSON written), then the run's totals, to the run's live
     * stream (if anyone watches): the rows are not read back.
     */
    private void publish(long userId, String runId, Map<Integer, EvalStore.Stored> rows) {
        if (!events.watched(runId)) {
            return;
        }
        rows.forEach((i, row) -> events.publish(runId, new RunEvents.Event("row", "{\"index\":" + i + ",\"row\":" + row.json() + "}")));
        publishTotals(userId, runId);
    }

    /** The run's totals alone (after a change too wide to send row by row: Stop cancelling every pending row). */
    private void publishTotals(long userId, String runId) {
        if (events.watched(runId)) {
            events.publish(runId, new RunEvents.Event("totals",
                    store.readRun(userId, runId, false, LiveJson::totals)));
        }
    }

    private static String key(String function, String dataset) {
        return function + "\u0000" + dataset;
    }

    private static Map<String, List<Case>> casesByKey(List<Case> cases) {
        Map<String, List<Case>> m = new HashMap<>();
        cases.forEach(c -> m.computeIfAbsent(key(c.function(), c.dataset()), k -> new ArrayList<>()).add(c));
        return m;
    }

    /** A row for a case before it runs. */
    static ResultRow placeholder(Case c, String status) {
        return new ResultRow(c.function(), c.dataset(), Json.MAPPER.valueToTree(c.labels()), orNull(c.input()),
                NullNode.instance, orNull(c.reference()), null, null, null, orNull(c.metadata()), NullNode.instance, status,
                null, NullNode.instance);
    }

    /** Queued again: the case as the suite has it now, results cleared, human notes kept. */
    private static ResultRow pending(ResultRow r, Case c) {
        return new ResultRow(r.function(), r.dataset(), Json.MAPPER.valueToTree(c.labels()), orNull(c.input()),
                NullNode.instance, orNull(c.reference()), null, null, null, orNull(c.metadata()), NullNode.instance,
                "pending", r.annotation(), r.annotations());
    }

    /** A finished case: its outcome in the row, annotations kept. */
    private static ResultRow withOutcome(ResultRow r, Outcome o, String status) {
        JsonNode metadata = r.metadata();
        if (o.metadata() != null) {
            ObjectNode merged = metadata != null && metadata.isObject() ? ((ObjectNode) metadata).deepCopy()
                    : Json.MAPPER.createObjectNode();
            merged.setAll((ObjectNode) o.metadata());
            metadata = merged;
        }
        List<Score> scores = o.scores().isEmpty() && o.error() != null ? null : List.copyOf(o.scores());
        return new ResultRow(r.function(), r.dataset(), r.labels(), r.input(), orNull(o.output()), r.reference(), scores,
                o.error(), o.latency(), orNull(metadata), orNull(o.traceData()), status, r.annotation(), r.annotations());
    }

    private static JsonNode orNull(JsonNode n) {
        return n == null ? NullNode.instance : n;
    }
}
