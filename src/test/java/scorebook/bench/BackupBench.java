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
 * An online backup (POST /api/admin/backup, VACUUM INTO) of a large database while gateway calls keep coming:
 * how long the backup takes, and the gateway's p95 during it against its p95 without one. The database is built
 * once (raw usage rows of about 1 KB) and kept under target/bench-backup-SIZE/; -Dbench.backup.mb=N picks another
 * size (default 1024).
 */
public final class BackupBench implements Benchmark {
    private static final int MB = Integer.getInteger("bench.backup.mb", 1024);
    private static final int CLIENTS = 8;
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

            AtomicBoolean stop = new AtomicBoolean();
            double[][] during = new double[1][];
            Thread callers = Thread.ofPlatform().start(() -> {
                try {
                    during[0] = load(gateway, t.apiKey(), stop, Integer.MAX_VALUE);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            long t0 = System.nanoTime();
            Client.Response r = server.owner().post("/api/admin/backup", "{\"name\":\"bench.db\"}");
            double backupMs = (System.nanoTime() - t0) / 1e6;
            stop.set(true);
            callers.join();
            if (r.status() != 201) {
                throw new IllegalStateException("backup failed: " + r.text());
            }
            long backupBytes = r.json().path("size").asLong();
            TestServer.deleteTree(backups);
            double p95Quiet = Stats.percentile(quiet, 95);
            double p95During = Stats.percentile(during[0], 95);
            String work = String.format(Locale.ROOT, "%,d MB db", dbBytes >> 20);
            List<Row> rows = new ArrayList<>();
            rows.add(new Row("backup (VACUUM INTO) while serving", work, backupMs, backupMs, "ms",
                    String.format(Locale.ROOT, "%.0f MB/s", (backupBytes >> 20) / (backupMs / 1000)),
                    "≤ 10000 ms", backupMs <= 10_000));
            rows.add(new Row("gateway latency, no backup", CLIENTS + " clients, " + quiet.length + " calls",
                    Stats.median(quiet), p95Quiet, "ms", "", "", true));
            rows.add(new Row("gateway latency during the backup", CLIENTS + " clients, " + during[0].length + " calls",
                    Stats.median(during[0]), p95During, "ms", String.format(Locale.ROOT, "p95 ×%.2f", p95During / p95Quiet),
                    "p95 ≤ 2× quiet", p95During <= 2 * p95Quiet));
            return rows;
        } finally {
            TestServer.deleteTree(dir);
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
