package scorebook.bench;

import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.devices.LoadClient;
import scorebook.server.Json;
import scorebook.store.Database;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;
import scorebook.usage.UsageStore;

/**
 * Usage and datasets at scale (issue 10). append_jsonl with an enabled adapter from 4 clients in 1,000-row
 * batches against a plain batched insert of the same rows; N usage rows over 30 days (default 1,000,000; set
 * USAGE_BENCH_ROWS=10000000 for the size; the generated database is kept in the temp folder and reused)
 * queried through /usage/summary, /usage hourly by model and /usage/compare, percentiles against exact
 * nearest-rank; CSV export of 1,000,000 rows; import rate; bytes on disk per usage row.
 */
public final class UsageBench implements Benchmark {
    private static final String ADAPTER = """
            {"dataset": "srv", "enabled": true, "x_field": "ts", "device_field": "device", "model_field": "model",
             "prompt_tokens_field": "prompt_tokens", "completion_tokens_field": "completion_tokens",
             "latency_ms_field": "latency_ms", "ttft_ms_field": "ttft_ms",
             "extra_fields": [{"label": "GPU power (W)", "field": "gpu_power_w", "kind": "number"},
                              {"label": "CPU usage (%)", "field": "cpu_usage_pct", "kind": "number"}]}""";
    private static final long DAY = 86_400_000L;
    private static final String[] MODELS = {"llama3-8b", "qwen2.5-7b", "phi3-mini", "gemma2-9b"};
    private static final String[] DEVICES = {"gpu-1", "gpu-2", "phone-R58N"};
    private static final String[] TAGS = {"prod", "nightly"};

    private String base;
    private String token;

    @Override
    public String name() {
        return "usage";
    }

    @Override
    public List<Row> run() throws Exception {
        List<Row> rows = new ArrayList<>();
        int n = Integer.parseInt(System.getenv().getOrDefault("USAGE_BENCH_ROWS", "1000000"));
        // USAGE_BENCH_PARTS=reads runs only the queries and the export over the generated database
        String parts = System.getenv().getOrDefault("USAGE_BENCH_PARTS", "all");
        if (!parts.equals("reads")) {
            // each write figure on a server of its own, as a user runs one workload at a time: imports measured on
            // the server the append part had just filled and folded (1.3 M back-dated rows) took 12.8-21.1 ms of CPU
            // per 1,000 rows, against 10-12 ms on a server of their own (a probe)
            if (!parts.equals("import")) {
                try (TestServer server = TestServer.start()) {
                    rows.addAll(append(server));
                }
            }
            try (TestServer server = TestServer.start()) {
                rows.addAll(importRate(server));
            }
        }
        // USAGE_BENCH_PARTS=writes: the write figures only (append, import), without generating N rows; =import: the
        // import alone
        if (!parts.equals("writes") && !parts.equals("import")) {
            rows.addAll(queries(n));
        }
        return rows;
    }

    /** append_jsonl with an adapter, 4 clients × 1,000-row batches, against a plain insert of the same rows. */
    private List<Row> append(TestServer server) throws Exception {
        Tenant t = Tenant.create(server);
        base = server.base();
        token = t.token();
        post("/user/data/save_adapter", ADAPTER);
        int clients = 4;
        int batchesPerClient = 40;
        List<String> bodies = new ArrayList<>();
        Random r = new Random(7);
        long start = System.currentTimeMillis() - 12 * DAY;
        for (int b = 0; b < 20; b++) {
            StringBuilder s = new StringBuilder(1000 * 220).append("{\"dataset\": \"srv\", \"rows\": [");
            for (int i = 0; i < 1000; i++) {
                s.append(i == 0 ? "" : ",").append("{\"ts\": ").append((start + r.nextInt(1_000_000_000)) / 1000.0)
                        .append(", \"device\": \"").append(DEVICES[r.nextInt(3)]).append("\", \"model\": \"")
                        .append(MODELS[r.nextInt(4)]).append("\", \"prompt_tokens\": ").append(20 + r.nextInt(200))
                        .append(", \"completion_tokens\": ").append(50 + r.nextInt(400)).append(", \"latency_ms\": ")
                        .append(300 + r.nextInt(5000)).append(", \"ttft_ms\": ").append(50 + r.nextInt(250))
                        .append(", \"gpu_power_w\": ").append(40 + r.nextInt(50)).append(".5, \"cpu_usage_pct\": ")
                        .append(r.nextInt(100)).append('}');
            }
            bodies.add(s.append("]}").toString());
        }
        // warm-up. The code that runs once a request (routing, auth, the answer, the append's statements) is called
        // 160 times a round: after eight rounds -XX:+PrintCompilation still showed it compiled at tier 3, and the JIT
        // took 150-400 ms of CPU in every 0.3 s round (C2 compiles a method after about 5,000 calls). A server in use
        // has long compiled it, so the warm-up first sends one-row appends, then rounds as measured (from a fresh JVM
        // the rate climbs for three or four, 90k, 130k, 170k rows/s, while the per-row code compiles).
        String bodyRow = bodies.getFirst().substring(bodies.getFirst().indexOf('[') + 1, bodies.getFirst().indexOf('}') + 1);
        String oneRow = "{\"dataset\": \"srv\", \"rows\": [" + bodyRow + "]}";
        int warmCalls = Integer.getInteger("bench.append.warm.calls", 8_000);
        clients(clients, warmCalls / clients, (client, i) -> post("/user/data/append_jsonl", oneRow));
        for (int round = 0; round < Integer.getInteger("bench.append.warm", 3); round++) {
            appendRound(bodies, clients, batchesPerClient, new double[clients * batchesPerClient]);
        }
        // drain what the warm-up left for the rollups (a summary answers only after they are up to date)
        drain();
        // measured rounds, each beside a plain insert of the same 160 batches taken just before it: the host's speed
        // moved by 1.5x between minutes (the plain insert alone ran at 477,000-770,000 rows/s in one session), so the
        // ratio is taken per pair and the figure is the median. Each round's rows are folded before the next pair, so
        // that no fold runs during a plain insert or an append.
        int measured = Integer.getInteger("bench.append.rounds", 5);
        int perRound = clients * batchesPerClient * 1000;
        double[] rates = new double[measured];
        double[] plainRates = new double[measured];
        double[] ratios = new double[measured];
        double[] cpuPer1k = new double[measured];
        double[] plainCpuPer1k = new double[measured];
        double[] batchMs = new double[clients * batchesPerClient * measured];
        double load0 = loadAverage();
        long appendAndFoldNs = 0;
        long appendAndFoldCpu = 0;
        try (PlainInsert plain = new PlainInsert(bodies, clients * batchesPerClient)) {
            // its warm-up: as many calls as the append's, then a round
            for (int i = 0; i < warmCalls; i++) {
                plain.insert(List.of(bodyRow));
            }
            plain.round();
            for (int round = 0; round < measured; round++) {
                // the JIT compiles what the fold (the drain) ran for a while after it: each pair starts once it is idle
                awaitIdleJit();
                double[] p = plain.round();
                plainRates[round] = p[0];
                plainCpuPer1k[round] = p[1];
                double[] roundMs = new double[clients * batchesPerClient];
                long c = cpuNanos();
                long s = System.nanoTime();
                appendRound(bodies, clients, batchesPerClient, roundMs);
                long appended = System.nanoTime();
                rates[round] = perRound / ((appended - s) / 1e9);
                cpuPer1k[round] = (cpuNanos() - c) / 1e6 / (perRound / 1000.0);
                System.arraycopy(roundMs, 0, batchMs, round * roundMs.length, roundMs.length);
                ratios[round] = rates[round] / plainRates[round];
                // the same rows made answerable: a summary over them waits for the rollups to be up to date
                drain();
                appendAndFoldNs += System.nanoTime() - s;
                appendAndFoldCpu += cpuNanos() - c;
            }
        }
        int total = perRound * measured;
        double rate = Stats.median(rates);
        double ratio = Stats.median(ratios);
        double load1 = loadAverage();
        String load = String.format(Locale.ROOT, "load %.1f→%.1f", load0, load1);
        return List.of(
                new Row("append_jsonl + adapter, 4 clients", String.format(Locale.ROOT,
                        "median of %d rounds of 160 × 1,000 rows (%s)", measured, list(rates, "%,.0f")),
                        Stats.median(batchMs), Stats.percentile(batchMs, 95), "ms",
                        String.format(Locale.ROOT, "%,.0f rows/s", rate), "≥ 150,000 rows/s", rate >= 150_000),
                new Row("  vs plain batched insert of the rows", String.format(Locale.ROOT,
                        "per round, plain just before (%s rows/s): %s %%", list(plainRates, "%,.0f"),
                        list(java.util.Arrays.stream(ratios).map(x -> x * 100).toArray(), "%.0f")),
                        ratio * 100, ratio * 100, "%", "", "≥ 60 %", ratio >= 0.6),
                new Row("  CPU per 1,000 rows: append / plain", load, Stats.median(cpuPer1k), Stats.median(plainCpuPer1k),
                        "ms", "", "", true),
                new Row("  appended and folded (summary answered)", String.format(Locale.ROOT, "%.1f s",
                        appendAndFoldNs / 1e9), appendAndFoldCpu / 1e6 / (total / 1000.0),
                        appendAndFoldCpu / 1e6 / (total / 1000.0), "ms CPU/1k",
                        String.format(Locale.ROOT, "%,.0f rows/s", total / (appendAndFoldNs / 1e9)), "", true));
    }

    /** One call of a client: its number and the call's number. */
    private interface Call {
        void run(int client, int call) throws Exception;
    }

    /** {@code calls} calls of {@code call} from each of {@code clients} threads. */
    private static void clients(int clients, int calls, Call call) throws Exception {
        try (ExecutorService pool = Executors.newFixedThreadPool(clients)) {
            List<Future<?>> fs = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int client = c;
                fs.add(pool.submit(() -> {
                    for (int i = 0; i < calls; i++) {
                        call.run(client, i);
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
        }
    }

    /** Waits (up to 20 s) until the JIT compiled nothing for 300 ms. */
    private static void awaitIdleJit() throws InterruptedException {
        java.lang.management.CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        long deadline = System.nanoTime() + 20_000_000_000L;
        long last = -1;
        while (System.nanoTime() < deadline && jit.getTotalCompilationTime() != last) {
            last = jit.getTotalCompilationTime();
            Thread.sleep(300);
        }
    }

    /** Waits for the rollups to take every row: a summary over the bench's 30 days answers only after they have. */
    private void drain() throws Exception {
        get("/usage/summary?minutes=" + 30 * 24 * 60);
    }

    private static String list(double[] values, String format) {
        return java.util.Arrays.stream(values).mapToObj(x -> String.format(Locale.ROOT, format, x))
                .collect(java.util.stream.Collectors.joining(" / "));
    }

    /** Each client appends {@code batches} bodies in turn; their times go to {@code batchMs}. */
    private void appendRound(List<String> bodies, int clients, int batches, double[] batchMs) throws Exception {
        AtomicLong k = new AtomicLong();
        clients(clients, batches, (client, b) -> {
            long s = System.nanoTime();
            String answer = post("/user/data/append_jsonl", bodies.get((client * 7 + b) % bodies.size()));
            if (!answer.contains("\"usage_recorded\":1000")) {
                throw new IllegalStateException("append did not record 1000 usage rows: " + answer.substring(0, 200));
            }
            batchMs[(int) k.getAndIncrement()] = ms(s);
        });
    }

    /**
     * The same rows' JSON texts inserted with a JDBC batch per 1,000 rows into a table of their own (in a database of
     * its own), as many batches a round as an append round posts.
     */
    private static final class PlainInsert implements AutoCloseable {
        private final Path dir = TestServer.tempDir();
        private final Database db = Database.open(dir);
        private final List<List<String>> batches = new ArrayList<>();
        private final int perRound;

        PlainInsert(List<String> bodies, int perRound) throws Exception {
            this.perRound = perRound;
            db.write(h -> h.execute("CREATE TABLE plain (id INTEGER PRIMARY KEY, data TEXT NOT NULL)"));
            for (String body : bodies) {
                List<String> texts = new ArrayList<>();
                for (JsonNode row : Json.MAPPER.readTree(body).path("rows")) {
                    texts.add(row.toString());
                }
                batches.add(texts);
            }
        }

        /** One batch: the texts in one transaction. */
        void insert(List<String> texts) throws java.sql.SQLException {
            db.write(h -> {
                try (PreparedStatement ps = h.getConnection().prepareStatement("INSERT INTO plain (data) VALUES (?)")) {
                    for (String s : texts) {
                        ps.setString(1, s);
                        ps.addBatch();
                    }
                    return ps.executeBatch();
                }
            });
        }

        /** One round: rows/s and CPU ms per 1,000 rows. */
        double[] round() throws java.sql.SQLException {
            long rows = 0;
            long cpu0 = cpuNanos();
            long t0 = System.nanoTime();
            for (int b = 0; b < perRound; b++) {
                List<String> texts = batches.get(b % batches.size());
                insert(texts);
                rows += texts.size();
            }
            double rate = rows / ((System.nanoTime() - t0) / 1e9);
            return new double[] {rate, (cpuNanos() - cpu0) / 1e6 / (rows / 1000.0)};
        }

        @Override
        public void close() {
            db.close();
            TestServer.deleteTree(dir);
        }
    }

    /** POST /usage/import of 10,000-row JSON arrays. */
    private List<Row> importRate(TestServer server) throws Exception {
        Tenant t = Tenant.create(server);
        base = server.base();
        token = t.token();
        Random r = new Random(3);
        long now = System.currentTimeMillis();
        // as bytes, as a client sends a file: the 2 MB String encoding is not the server's work
        List<byte[]> bodies = new ArrayList<>();
        int warm = 30;
        for (int b = 0; b < warm + 10; b++) {
            StringBuilder s = new StringBuilder(10_000 * 200).append('[');
            for (int i = 0; i < 10_000; i++) {
                s.append(i == 0 ? "" : ",").append("{\"ts\": ").append((now - r.nextInt(1_000_000_000)) / 1000.0)
                        .append(", \"device\": \"").append(DEVICES[r.nextInt(3)]).append("\", \"model\": \"")
                        .append(MODELS[r.nextInt(4)]).append("\", \"tag\": \"prod\", \"prompt_tokens\": ")
                        .append(20 + r.nextInt(200)).append(", \"completion_tokens\": ").append(50 + r.nextInt(400))
                        .append(", \"latency_ms\": ").append(300 + r.nextInt(5000)).append(", \"ttft_ms\": ")
                        .append(50 + r.nextInt(250)).append(", \"ok\": true, \"event_id\": \"b").append(b).append('-')
                        .append(i).append("\"}");
            }
            bodies.add(s.append(']').toString().getBytes(StandardCharsets.UTF_8));
        }
        // warm-up: imports as measured, until the JIT is idle (after two dry runs, as before, it compiled the insert
        // during the measured imports: 270-470 ms of JIT CPU every four imports until the sixteenth, a probe found;
        // after four imports the ten measured ones still took 490-600 ms of JIT CPU, after twelve 130-210 ms). The
        // methods an import runs once (the insert, the scan, the checks) reach C2 only after ~20 imports: after
        // twelve, -XX:+PrintCompilation showed them compiled during the measured ones; after thirty, none of ours.
        for (int b = 0; b < warm; b++) {
            exchange("/usage/import", bodies.get(b));
        }
        // their rows folded now, not by the background fold in the middle of a measured import (it folds 30,000
        // pending rows once writes pause for 500 ms, as they do while the JIT settles: one import took 1.97 s)
        drain();
        awaitIdleJit();
        double[] ms = new double[10];
        double load0 = loadAverage();
        long cpu0 = cpuNanos();
        for (int i = 0; i < ms.length; i++) {
            long s = System.nanoTime();
            String answer = exchange("/usage/import", bodies.get(i + warm));
            ms[i] = ms(s);
            if (!answer.contains("\"imported\":10000")) {
                throw new IllegalStateException("import: " + answer.substring(0, Math.min(300, answer.length())));
            }
        }
        double cpuPer1k = (cpuNanos() - cpu0) / 1e6 / (ms.length * 10.0);
        double rate = 10_000 / (Stats.median(ms) / 1000);
        long d0 = System.nanoTime();
        drain();
        double drainMs = ms(d0);
        // the rows are answerable only once inserted and folded (an import stages them: docs/usage.md)
        double untilFoldedMs = java.util.Arrays.stream(ms).sum() + drainMs;
        return List.of(new Row("POST /usage/import (JSON, 10,000 rows)", "10 requests", Stats.median(ms),
                        Stats.percentile(ms, 95), "ms", String.format(Locale.ROOT, "%,.0f rows/s", rate), "≥ 100,000 rows/s",
                        rate >= 100_000),
                new Row("  CPU per 1,000 imported rows", String.format(Locale.ROOT, "load %.1f→%.1f", load0, loadAverage()),
                        cpuPer1k, cpuPer1k, "ms", "", "", true),
                new Row("  then a summary (folds what is pending)", "100,000 rows imported", drainMs, drainMs, "ms", "",
                        "", true),
                new Row("  imported, inserted and folded", "10 imports + the summary", untilFoldedMs, untilFoldedMs, "ms",
                        String.format(Locale.ROOT, "%,.0f rows/s", 100_000 / (untilFoldedMs / 1000)), "", true));
    }

    /** N rows over 30 days (generated once, kept in the temp folder), then the dashboard queries. */
    private List<Row> queries(int n) throws Exception {
        // in the temp folder (TestServer refuses data folders in the repository); the storage layout is part of
        // the name, so a database generated by older code is not reused
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "scorebook-usage-bench-" + n + "-m013w");
        Path done = dir.resolve("generated");
        double genSeconds = -1;
        if (!Files.exists(done)) {
            TestServer.deleteTree(dir);
            Files.createDirectories(dir);
            try (TestServer server = TestServer.startOn(dir)) {
                genSeconds = generate(server, n);
            }
            Files.writeString(done, "rows " + n + "\n");
        }
        List<Row> out = new ArrayList<>();
        try (TestServer server = TestServer.startOn(dir)) {
            base = server.base();
            token = TestServer.OWNER_TOKEN;
            Database db = server.running().db();
            long[] span = db.read(h -> h.createQuery("SELECT min(ts_ms), max(ts_ms) FROM usage_events").map((rs, c) ->
                    new long[] {rs.getLong(1), rs.getLong(2)}).one());
            long from = span[0] - span[0] % 60_000;
            long to = span[1] + 1;
            String all = "from=" + from + "&to=" + to;
            String day = "from=" + (to - DAY) + "&to=" + to;
            String work = String.format(Locale.ROOT, "%,d rows / 30 d", n);
            // warm-up
            for (int i = 0; i < 5; i++) {
                get("/usage/summary?" + all);
                get("/usage?bucket=1h&group_by=model&" + all);
            }
            out.add(timed("GET /usage/summary (24 h)", work, "/usage/summary?" + day, 20));
            out.add(timed("GET /usage/summary (30 d)", work, "/usage/summary?" + all, 20));
            out.add(timed("GET /usage hourly by model (24 h)", work, "/usage?bucket=1h&group_by=model&" + day, 20));
            out.add(timed("GET /usage hourly by model (30 d)", work, "/usage?bucket=1h&group_by=model&" + all, 20));
            // the same month with its points made from the rollups each time: a filter on source_kind that every row
            // matches, naming a kind never seen, is a question not asked before (closed hours' points are kept per
            // question), read from the same cut
            List<String> seenKinds = db.read(h -> h.createQuery(
                    "SELECT DISTINCT source_kind FROM usage_rollups WHERE level = 2").mapTo(String.class).list());
            String kinds = String.join(",", seenKinds);
            out.add(timed("  the same, points made afresh", work, i -> "/usage?bucket=1h&group_by=model&" + all
                    + "&source_kind=" + kinds + ",never-" + i, 20));
            String week = "a_from=" + (to - 7 * DAY) + "&a_to=" + to + "&b_from=" + (to - 14 * DAY) + "&b_to=" + (to - 7 * DAY);
            out.add(timed("GET /usage/compare (week vs week)", work, "/usage/compare?" + week, 40));
            out.add(timed("GET /usage/compare (2 models, 30 d, by device)", work,
                    "/usage/compare?a_model=llama3-8b&b_model=qwen2.5-7b&group_by=device&" + all, 40));
            out.add(percentileError(db, all, work));
            out.add(export(db, to, work));
            out.add(bytesPerRow(db, n, genSeconds));
        }
        return out;
    }

    /** 30 timed calls; the throughput column carries the process's CPU time per call (server and client). */
    private Row timed(String name, String work, String path, double target) throws Exception {
        return timed(name, work, i -> path, target);
    }

    /** p50 and p95 of 30 GETs, the i-th of {@code path.apply(i)}. */
    private Row timed(String name, String work, java.util.function.IntFunction<String> path, double target)
            throws Exception {
        double[] ms = new double[30];
        long cpu0 = cpuNanos();
        for (int i = 0; i < ms.length; i++) {
            long s = System.nanoTime();
            get(path.apply(i));
            ms[i] = ms(s);
        }
        double cpuMs = (cpuNanos() - cpu0) / 1e6 / ms.length;
        return new Row(name, work, Stats.median(ms), Stats.percentile(ms, 95), "ms",
                String.format(Locale.ROOT, "CPU %.1f ms/call", cpuMs), "p50 ≤ " + (int) target + " ms",
                Stats.median(ms) <= target);
    }

    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** Largest relative error of latency p50/p95/p99 and TTFT p50/p95 from the summary against exact nearest rank. */
    private Row percentileError(Database db, String range, String work) throws Exception {
        JsonNode s = Json.MAPPER.readTree(get("/usage/summary?" + range));
        double worst = 0;
        for (String col : new String[] {"latency_ms", "ttft_ms"}) {
            double[] v = db.read(h -> h.createQuery("SELECT " + col + " FROM usage_events WHERE " + col
                    + " IS NOT NULL AND source_kind <> 'warmup'").mapTo(double.class).list())
                    .stream().mapToDouble(Double::doubleValue).toArray();
            Arrays.sort(v);
            for (int p : new int[] {50, 95, 99}) {
                double exact = v[Math.max(0, (int) Math.ceil(p / 100.0 * v.length) - 1)];
                double got = s.path(col).path("p" + p).asDouble();
                worst = Math.max(worst, Math.abs(got - exact) / exact * 100);
            }
        }
        return new Row("percentiles vs exact nearest rank (max error)", work, worst, worst, "%", "", "≤ 1 %", worst <= 1);
    }

    /** CSV export of the newest ~1,000,000 rows, timed to the last byte; heap growth sampled meanwhile. */
    private Row export(Database db, long to, String work) throws Exception {
        long total = db.read(h -> h.createQuery("SELECT count(*) FROM usage_events").mapTo(long.class).one());
        long want = Math.min(1_000_000, total);
        long from = db.read(h -> h.createQuery("SELECT ts_ms FROM usage_events ORDER BY ts_ms DESC LIMIT 1 OFFSET ?")
                .bind(0, want - 1).mapTo(long.class).one());
        MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
        double[] ms = new double[3];
        long rows = 0;
        long peak = 0;
        long cpu0 = cpuNanos();
        for (int i = 0; i < ms.length; i++) {
            System.gc();
            long before = mem.getHeapMemoryUsage().getUsed();
            long s = System.nanoTime();
            long[] lines = {0};
            long[] heap = {peak};
            // read on this thread as the bytes arrive, as curl would: java.net.http's client moved the 200 MB through
            // its own threads and buffers, on the same two cores as the server
            int status = LoadClient.get(URI.create(base + "/usage/export.csv?from=" + from + "&to=" + to), token, in -> {
                byte[] buf = new byte[1 << 16];
                int k;
                for (int reads = 0; (k = in.read(buf)) > 0; reads++) {
                    for (int j = 0; j < k; j++) {
                        if (buf[j] == '\n') {
                            lines[0]++;
                        }
                    }
                    if (reads % 64 == 0) {
                        heap[0] = Math.max(heap[0], mem.getHeapMemoryUsage().getUsed() - before);
                    }
                }
            });
            if (status != 200) {
                throw new IllegalStateException("the export answered " + status);
            }
            ms[i] = ms(s);
            peak = heap[0];
            rows = lines[0] - 1;
        }
        double cpuMs = (cpuNanos() - cpu0) / 1e6 / ms.length;
        return new Row("GET /usage/export.csv", String.format(Locale.ROOT, "%,d rows, heap +%d MB", rows, peak >> 20),
                Stats.median(ms), Stats.percentile(ms, 95), "ms",
                String.format(Locale.ROOT, "%,.0f rows/s, CPU %.0f ms", rows / (Stats.median(ms) / 1000), cpuMs), "≤ 4000 ms",
                Stats.median(ms) <= 4000);
    }

    private Row bytesPerRow(Database db, int n, double genSeconds) {
        long bytes = db.read(h -> h.createQuery("SELECT (page_count - freelist_count) * page_size FROM pragma_page_count(), "
                + "pragma_freelist_count(), pragma_page_size()").mapTo(long.class).one());
        double perRow = bytes / (double) n;
        return new Row("bytes on disk per usage row (rollups incl.)",
                String.format(Locale.ROOT, "%,d MB%s", bytes >> 20, genSeconds < 0 ? ", cached"
                        : String.format(Locale.ROOT, ", generated in %.0f s", genSeconds)),
                perRow, perRow, "B", "", "≤ 250 B", perRow <= 250);
    }

    /** N gateway-like rows over the last 30 days through UsageStore.insertNow, in time order, 5,000 per transaction. */
    static double generate(TestServer server, int n) {
        long userId = server.running().db().read(h -> h.createQuery("SELECT id FROM users WHERE name = 'owner'")
                .mapTo(long.class).one());
        UsageStore store = server.running().parts().devices().usage();
        Random r = new Random(11);
        long end = System.currentTimeMillis();
        long start = end - 30 * DAY;
        double step = (end - start) / (double) n;
        HexFormat hex = HexFormat.of();
        long t0 = System.nanoTime();
        List<UsageStore.Row> batch = new ArrayList<>(5000);
        for (int i = 0; i < n; i++) {
            long ts = start + (long) (i * step);
            boolean ok = r.nextInt(50) != 0;
            double latency = Math.exp(7 + 0.6 * r.nextGaussian());
            double ttft = Math.min(latency, Math.exp(5 + 0.5 * r.nextGaussian()));
            int ct = ok ? 50 + r.nextInt(400) : 0;
            batch.add(new UsageStore.Row(userId, null, ts, "gateway", "req_" + hex.toHexDigits(r.nextLong()),
                    DEVICES[r.nextInt(3)], MODELS[r.nextInt(4)], TAGS[r.nextInt(2)], ok ? 20 + r.nextInt(300) : null,
                    ok ? ct : null, latency, ok ? ttft : null, ok ? ct / (latency / 1000) : null, ok,
                    ok ? null : "upstream_error", ok ? null : "device answered 500", null, null, null));
            if (batch.size() == 5000) {
                store.insertNow(batch);
                batch.clear();
            }
        }
        if (!batch.isEmpty()) {
            store.insertNow(batch);
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    private String post(String path, String body) throws Exception {
        return exchange(path, body.getBytes(StandardCharsets.UTF_8));
    }

    private String get(String path) throws Exception {
        return exchange(path, null);
    }

    /**
     * A POST (a GET when {@code body} is null) through the benchmarks' light HTTP/1.1 client, so that the clients leave
     * the CPU to the server: the JDK's HttpClient took 10-25 ms more than curl to read a month's hourly series by
     * model (824 KB), CPU it took from the server it measured in the same process.
     */
    private String exchange(String path, byte[] body) throws Exception {
        LoadClient.Answer r = LoadClient.exchange(URI.create(base + path), body, token);
        if (r.status() / 100 != 2) {
            throw new IllegalStateException((body == null ? "GET " : "POST ") + path + " answered " + r.status() + ": "
                    + r.body());
        }
        return r.body();
    }

    /** CPU time of this process (server and clients: the bench runs both), ns. */
    private static double loadAverage() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    private static double ms(long t0) {
        return (System.nanoTime() - t0) / 1e6;
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
