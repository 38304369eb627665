package scorebook.bench;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

import scorebook.auth.Tokens;
import scorebook.devices.LoadClient;
import scorebook.store.Database;
import scorebook.testing.Client;
import scorebook.testing.FakeModelServer;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;

/**
 * An online backup (POST /api/admin/backup: the backup API in one step) of a large database while gateway calls keep
 * coming: how long the backup takes (against VACUUM INTO, what it used before, and cp of the file, the disk's
 * ceiling), and the gateway's p95 during it against its p95 without one. -Dbench.backup.reps=N (default 3) and
 * -Dbench.backup.vacuumReps=N (default 1) set the runs; each backup is quick_checked after it is timed. The database is built
 * once (raw usage rows of about 1 KB) and kept under target/bench-backup-SIZE/; -Dbench.backup.mb=N picks another
 * size (default 1024).
 */
public final class BackupBench implements Benchmark {
    private static final int MB = Integer.getInteger("bench.backup.mb", 1024);
    private static final int CLIENTS = 8;
    private static final int REPS = Integer.getInteger("bench.backup.reps", 3);
    private static final int VACUUM_REPS = Integer.getInteger("bench.backup.vacuumReps", 1);
    private static final boolean CHECK = !Boolean.getBoolean("bench.backup.nocheck");
    private static final String BODY = "{\"model\":\"bench\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"Say hi\"}]}";

    @Override
    public String name() {
        return "backup";
    }

    @Override
    public List<Row> run() throws Exception {
        Path cached = Path.of("target", "bench-backup-" + MB).toAbsolutePath();
        build(cached);
        // served from a copy in the temp folder: the cached file stays as built, and test data folders stay out of the tree
        Path dir = TestServer.tempDir();
        Files.copy(cached.resolve(Database.FILE_NAME), dir.resolve(Database.FILE_NAME));
        Path backups = dir.resolve("backups");
        long dbBytes = Files.size(dir.resolve(Database.FILE_NAME));
        try (FakeModelServer fake = FakeModelServer.openai("bench"); TestServer server = TestServer.startOn(dir)) {
            Tenant t = Tenant.create(server);
            t.device("bench", fake, "[\"bench\"]", "\"max_concurrency\": 256");
            URI gateway = URI.create(server.base() + "/v1/chat/completions");
            load(gateway, t.apiKey(), new AtomicBoolean(), 200); // warm-up
            double[] quiet = load(gateway, t.apiKey(), new AtomicBoolean(), 1_500);

            // the backup API (what the endpoint does), VACUUM INTO (what it did), and cp of the file (not a
            // consistent backup: the disk's ceiling), each while the gateway keeps serving
            List<Double> apiMs = new ArrayList<>();
            List<Double> during = new ArrayList<>();
            long backupBytes = 0;
            for (int i = 0; i < REPS; i++) {
                String name = "bench-" + i + ".db";
                Timed t2 = whileServing(gateway, t.apiKey(), () -> {
                    Client.Response r = server.owner().post("/api/admin/backup", "{\"name\":\"" + name + "\"}");
                    if (r.status() != 201) {
                        throw new IllegalStateException("backup failed: " + r.text());
                    }
                });
                apiMs.add(t2.ms());
                during.addAll(t2.latencies());
                check(backups.resolve(name));
                backupBytes = Files.size(backups.resolve(name));
                TestServer.deleteTree(backups);
            }
            Path db = dir.resolve(Database.FILE_NAME);
            List<Double> vacuumMs = new ArrayList<>();
            for (int i = 0; i < VACUUM_REPS; i++) {
                Path copy = dir.resolve("vacuum-" + i + ".db");
                vacuumMs.add(whileServing(gateway, t.apiKey(), () -> {
                    org.sqlite.SQLiteConfig ro = new org.sqlite.SQLiteConfig();
                    ro.setReadOnly(true);
                    try (Connection c = ro.createConnection("jdbc:sqlite:" + db);
                         Statement s = c.createStatement()) {
                        s.execute("VACUUM INTO '" + copy + "'");
                    }
                }).ms());
                Files.delete(copy);
            }
            List<Double> cpMs = new ArrayList<>();
            for (int i = 0; i < REPS; i++) {
                Path copy = dir.resolve("cp-" + i + ".db");
                cpMs.add(whileServing(gateway, t.apiKey(), () -> {
                    Process p = new ProcessBuilder("cp", db.toString(), copy.toString()).inheritIO().start();
                    if (p.waitFor() != 0) {
                        throw new IllegalStateException("cp failed");
                    }
                }).ms());
                Files.delete(copy);
            }
            double[] duringAll = during.stream().mapToDouble(Double::doubleValue).toArray();
            double p95Quiet = Stats.percentile(quiet, 95);
            double p95During = Stats.percentile(duringAll, 95);
            String work = String.format(Locale.ROOT, "%,d MB db", dbBytes >> 20);
            List<Row> rows = new ArrayList<>();
            rows.add(row("backup API, all pages in one step (the endpoint), while serving", work + ", " + REPS + " runs",
                    apiMs, backupBytes, "≤ 10000 ms", true));
            rows.add(row("VACUUM INTO (before), while serving", work + ", " + VACUUM_REPS + " runs", vacuumMs, dbBytes, "", false));
            rows.add(row("cp of the file (the disk's ceiling, not consistent), while serving", work + ", " + REPS + " runs",
                    cpMs, dbBytes, "", false));
            rows.add(new Row("gateway latency, no backup", CLIENTS + " clients, " + quiet.length + " calls",
                    Stats.median(quiet), p95Quiet, "ms", "", "", true));
            rows.add(new Row("gateway latency during the backups (API)", CLIENTS + " clients, " + duringAll.length + " calls",
                    Stats.median(duringAll), p95During, "ms", String.format(Locale.ROOT, "p95 ×%.2f", p95During / p95Quiet),
                    "p95 ≤ 2× quiet", p95During <= 2 * p95Quiet));
            return rows;
        } finally {
            TestServer.deleteTree(dir);
        }
    }

    /** How long an action took, and the gateway calls' latencies meanwhile. */
    private record Timed(double ms, List<Double> latencies) {
    }

    private interface Action {
        void run() throws Exception;
    }

    private static Timed whileServing(URI gateway, String key, Action action) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        double[][] during = new double[1][];
        Thread callers = Thread.ofPlatform().start(() -> {
            try {
                during[0] = load(gateway, key, stop, Integer.MAX_VALUE);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        long t0 = System.nanoTime();
        try {
            action.run();
        } finally {
            stop.set(true);
            callers.join();
        }
        double ms = (System.nanoTime() - t0) / 1e6;
        List<Double> latencies = new ArrayList<>();
        for (double d : during[0]) {
            latencies.add(d);
        }
        return new Timed(ms, latencies);
    }

    /** A median over the runs, with the copy rate; {@code hasTarget} for the row the figure is about. */
    private static Row row(String name, String work, List<Double> ms, long bytes, String target, boolean hasTarget) {
        double[] a = ms.stream().mapToDouble(Double::doubleValue).toArray();
        double median = Stats.median(a);
        return new Row(name, work, median, Stats.percentile(a, 95), "ms",
                String.format(Locale.ROOT, "%.0f MB/s", (bytes >> 20) / (median / 1000)), target,
                !hasTarget || median <= 10_000);
    }

    /** The backup opens and passes integrity_check (a full read of a gigabyte: the check the test makes, once here). */
    private static void check(Path file) throws Exception {
        if (!CHECK) {
            return;
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement();
             var r = s.executeQuery("PRAGMA quick_check")) {
            r.next();
            if (!"ok".equals(r.getString(1))) {
                throw new IllegalStateException(file + " fails quick_check: " + r.getString(1));
            }
        }
    }

    /** Latencies of gateway calls by {@link #CLIENTS} clients until {@code total} calls are made or {@code stop}. */
    private static double[] load(URI uri, String key, AtomicBoolean stop, int total) throws Exception {
        byte[] body = BODY.getBytes(StandardCharsets.UTF_8);
        List<Double> all = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<List<Double>>> futures = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                futures.add(pool.submit(() -> {
                    List<Double> ms = new ArrayList<>();
                    for (int i = 0; i < total / CLIENTS && !stop.get(); i++) {
                        long s = System.nanoTime();
                        int status = LoadClient.post(uri, body, key);
                        ms.add((System.nanoTime() - s) / 1e6);
                        if (status != 200) {
                            throw new IllegalStateException(uri + " answered " + status);
                        }
                    }
                    return ms;
                }));
            }
            for (Future<List<Double>> f : futures) {
                all.addAll(f.get());
            }
        }
        return all.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** A data folder whose database holds about {@link #MB} MB of usage rows, made once. */
    private static void build(Path dir) throws Exception {
        Path done = dir.resolve("built");
        if (Files.exists(done)) {
            return;
        }
        TestServer.deleteTree(dir);
        try (Database db = Database.open(dir)) {
            // the schema and migrations; the rows go in below through a plain connection, in big transactions
        }
        long rows = MB * 1024L; // about 1 KB a row
        long t0 = System.nanoTime();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(Database.FILE_NAME));
             Statement s = c.createStatement()) {
            s.execute("PRAGMA journal_mode = WAL");
            s.execute("PRAGMA synchronous = OFF");
            // the rows' user is the owner, with the test servers' owner token
            s.execute("INSERT INTO users (name, token_hash, is_owner, created_at) VALUES ('bulk', '"
                    + Tokens.hash(TestServer.OWNER_TOKEN) + "', 1, '2026-01-01T00:00:00.000Z')");
            for (long done2 = 0; done2 < rows; done2 += 100_000) {
                s.execute("BEGIN");
                s.execute("""
                        WITH RECURSIVE n(i) AS (SELECT %d UNION ALL SELECT i + 1 FROM n WHERE i < %d)
                        INSERT INTO usage_events (user_id, ts_ms, event_key, source_kind, model, device, ok, latency_ms, prompt_preview)
                        SELECT (SELECT id FROM users WHERE name = 'bulk'), 1767225600000 + i * 1000, i, 'import', 'm' || (i %% 7),
                               'd' || (i %% 5), 1, 100 + i %% 900, hex(randomblob(480))
                        FROM n""".formatted(done2, Math.min(rows, done2 + 100_000) - 1));
                s.execute("COMMIT");
            }
            s.execute("PRAGMA wal_checkpoint(TRUNCATE)");
        }
        System.err.printf(Locale.ROOT, "bench: built a %d MB database in %.0f s%n",
                Files.size(dir.resolve(Database.FILE_NAME)) >> 20, (System.nanoTime() - t0) / 1e9);
        Files.writeString(done, "ok\n");
    }
}
