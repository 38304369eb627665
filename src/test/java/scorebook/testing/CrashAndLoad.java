package scorebook.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import org.sqlite.SQLiteConfig;

/**
 * The jar under mixed load, killed with SIGKILL at random moments and started again over the same data, and the
 * jar under 32 concurrent clients: the work of CrashIT (a few cycles, seconds of load) and CrashBench (20 cycles,
 * a minute of load).
 */
public final class CrashAndLoad {
    private static final String TOKEN = "crash-owner-token";
    private static final String HEAP = "512m";

    private CrashAndLoad() {
    }

    /**
     * What the crash cycles found.
     *
     * @param cycles        kills done
     * @param acknowledged  result rows whose append was answered 200 before the kill
     * @param missing       acknowledged rows not found after the restart
     * @param gatewayCalls  gateway calls answered 200 meanwhile
     * @param leftRunning   eval rows still pending or running after a restart
     * @param integrity     PRAGMA integrity_check answers that were not "ok"
     */
    public record CrashFigures(int cycles, int acknowledged, int missing, int gatewayCalls, int leftRunning, List<String> integrity) {
    }

    /**
     * What the load found.
     *
     * @param requests   requests answered
     * @param serverErrors answers with status 5xx
     * @param busy       answers mentioning SQLITE_BUSY or a locked database
     * @param failures   requests that got no answer
     * @param heapBeforeMb used heap after a full GC, after a warm-up
     * @param heapAfterMb  used heap after a full GC, after the load
     * @param seconds      how long the load ran
     */
    public record LoadFigures(long requests, long serverErrors, long busy, long failures, double heapBeforeMb, double heapAfterMb,
                              double seconds) {
    }

    /**
     * {@code cycles} times: start, put load on, kill -9 at a random moment up to {@code maxLoad} into the load, then
     * check what the restart finds.
     */
    public static CrashFigures crashCycles(int cycles, long seed, Duration maxLoad) throws Exception {
        Random random = new Random(seed);
        Path data = TestServer.tempDir();
        Path evals = slowSuite();
        Set<String> acked = ConcurrentHashMap.newKeySet();
        AtomicInteger gateway = new AtomicInteger();
        List<String> integrity = new ArrayList<>();
        int leftRunning = 0;
        int missing = 0;
        try (FakeModelServer fake = FakeModelServer.ollama("m")) {
            String runId = null;
            String apiKey = null;
            for (int cycle = 0; cycle <= cycles; cycle++) {
                try (JarServer s = JarServer.start(data, evals, TOKEN, HEAP)) {
                    Client owner = s.client("X-User-Token", TOKEN);
                    if (cycle > 0) {
                        // what the restart found of the cycle before
                        leftRunning += count(data, "SELECT count(*) FROM eval_results WHERE status IN ('pending', 'running')");
                        String ok = integrity(data);
                        if (!ok.equals("ok")) {
                            integrity.add(ok);
                        }
                        Set<String> stored = functions(data);
                        missing += (int) acked.stream().filter(m -> !stored.contains(m)).count();
                    }
                    if (cycle == cycles) {
                        break;
                    }
                    if (runId == null) {
                        runId = owner.post("/api/runs", "{\"session_name\": \"crash\"}").json().path("run_id").asText();
                        owner.post("/devices/register", "{\"serial\": \"fake\", \"kind\": \"ollama\", \"base_url\": \"" + fake.url()
                                + "\", \"models\": [\"m\"]}");
                        apiKey = owner.post("/api/keys", "{\"name\": \"crash\"}").json().path("secret").asText();
                    }
                    // a suite run in progress, so that rows are running when the kill comes
                    owner.post("/api/runs/new", "{}");
                    AtomicBoolean stop = new AtomicBoolean();
                    List<Thread> workers = new ArrayList<>();
                    for (int w = 0; w < 4; w++) {
                        String prefix = "c" + cycle + "-w" + w + "-";
                        String target = "/api/runs/" + runId + "/results";
                        workers.add(Thread.ofVirtual().start(() -> appendUntil(stop, owner, target, prefix, acked)));
                    }
                    Client gw = s.client("X-Api-Key", apiKey);
                    for (int g = 0; g < 2; g++) {
                        workers.add(Thread.ofVirtual().start(() -> askUntil(stop, gw, gateway)));
                    }
                    // Both kinds of write are under way before the random moment of the kill, however slow the machine.
                    int ackedBefore = acked.size();
                    int gatewayBefore = gateway.get();
                    Wait.until("this cycle's first acknowledged append and gateway call",
                            () -> acked.size() > ackedBefore && gateway.get() > gatewayBefore);
                    Thread.sleep(random.nextLong(maxLoad.toMillis())); // the random moment of the kill
                    s.kill9();
                    stop.set(true);
                    for (Thread t : workers) {
                        t.join();
                    }
                }
            }
        } finally {
            TestServer.deleteTree(data);
            TestServer.deleteTree(evals);
        }
        return new CrashFigures(cycles, acked.size(), missing, gateway.get(), leftRunning, integrity);
    }

    private static void appendUntil(AtomicBoolean stop, Client c, String target, String prefix, Set<String> acked) {
        for (int i = 0; !stop.get(); i++) {
            String marker = prefix + i;
            try {
                Client.Response r = c.post(target, "{\"results\": [{\"function\": \"" + marker
                        + "\", \"result\": {\"output\": \"x\", \"scores\": [{\"key\": \"k\", \"passed\": true}]}}]}");
                if (r.status() == 200) {
                    acked.add(marker);
                }
            } catch (IllegalStateException killed) {
                return;
            }
        }
    }

    private static void askUntil(AtomicBoolean stop, Client c, AtomicInteger ok) {
        while (!stop.get()) {
            try {
                if (c.post("/ask", "{\"prompt\": \"hi\", \"model\": \"m\"}").status() == 200) {
                    ok.incrementAndGet();
                }
            } catch (IllegalStateException killed) {
                return;
            }
        }
    }

    /** 32 clients over read and write endpoints for {@code length}; heap measured after a warm-up and after. */
    public static LoadFigures load(int clients, Duration warmUp, Duration length) throws Exception {
        Path data = TestServer.tempDir();
        Path evals = slowSuite();
        try (FakeModelServer fake = FakeModelServer.ollama("m"); JarServer s = JarServer.start(data, evals, TOKEN, HEAP)) {
            Client owner = s.client("X-User-Token", TOKEN);
            String runId = owner.post("/api/runs", "{\"session_name\": \"load\"}").json().path("run_id").asText();
            String readRun = owner.post("/api/runs", "{\"session_name\": \"load-read\"}").json().path("run_id").asText();
            owner.post("/api/runs/" + readRun + "/results", "{\"results\": [" + "{\"function\": \"f\", \"result\": {\"output\": \"o\"}},"
                    .repeat(49) + "{\"function\": \"f\", \"result\": {\"output\": \"o\"}}]}");
            owner.post("/devices/register", "{\"serial\": \"fake\", \"kind\": \"ollama\", \"base_url\": \"" + fake.url()
                    + "\", \"models\": [\"m\"]}");
            String apiKey = owner.post("/api/keys", "{\"name\": \"load\"}").json().path("secret").asText();
            Client gw = s.client("X-Api-Key", apiKey);
            LoadFigures warm = drive(clients, warmUp, owner, gw, runId, readRun);
            double before = s.heapAfterFullGcMb();
            LoadFigures main = drive(clients, length, owner, gw, runId, readRun);
            double after = s.heapAfterFullGcMb();
            return new LoadFigures(main.requests(), main.serverErrors() + warm.serverErrors(), main.busy() + warm.busy(),
                    main.failures() + warm.failures(), before, after, main.seconds());
        } finally {
            TestServer.deleteTree(data);
            TestServer.deleteTree(evals);
        }
    }

    private static LoadFigures drive(int clients, Duration length, Client owner, Client gw, String runId, String readRun)
            throws InterruptedException {
        LongAdder requests = new LongAdder();
        LongAdder errors = new LongAdder();
        LongAdder busy = new LongAdder();
        LongAdder failures = new LongAdder();
        long end = System.nanoTime() + length.toNanos();
        long t0 = System.nanoTime();
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            int me = c;
            threads.add(Thread.ofVirtual().start(() -> {
                for (int i = 0; System.nanoTime() < end; i++) {
                    try {
                        Client.Response r = switch ((me + i) % 10) {
                            case 0 -> owner.post("/api/runs/" + runId + "/results",
                                    "{\"results\": [{\"function\": \"l" + me + "-" + i + "\", \"result\": {\"output\": \"x\"}}]}");
                            case 1 -> gw.post("/ask", "{\"prompt\": \"hi\", \"model\": \"m\"}");
                            case 2 -> owner.get("/api/runs/" + readRun + "/data");
                            case 3 -> owner.get("/api/sessions");
                            case 4 -> owner.get("/devices");
                            case 5 -> gw.get("/v1/models");
                            case 6 -> owner.put("/api/config", "{\"concurrency\": " + (1 + i % 4) + "}");
                            case 7 -> owner.get("/api/runs/" + readRun + "/export/csv");
                            case 8 -> owner.get("/api/keys");
                            default -> owner.get("/health");
                        };
                        requests.increment();
                        if (r.status() >= 500) {
                            errors.increment();
                        }
                        if (r.text().contains("SQLITE_BUSY") || r.text().contains("database is locked")) {
                            busy.increment();
                        }
                    } catch (IllegalStateException e) {
                        failures.increment();
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        return new LoadFigures(requests.sum(), errors.sum(), busy.sum(), failures.sum(), 0, 0, (System.nanoTime() - t0) / 1e9);
    }

    /** An eval path with a suite whose cases take a while, so a run is in progress when the kill comes. */
    private static Path slowSuite() throws IOException {
        Path dir = TestServer.tempDir();
        StringBuilder cases = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            cases.append("  - {name: c").append(i).append(", input: \"").append(i).append("\"}\n");
        }
        Files.writeString(dir.resolve("slow.yaml"), """
                dataset: slow
                target:
                  command: |
                    read -r case
                    sleep 0.2
                    printf '{"output": "done"}'
                scorers:
                  - {type: contains, value: "done"}
                cases:
                """ + cases);
        return dir;
    }

    private static Connection readOnly(Path data) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setReadOnly(true);
        config.setBusyTimeout(10_000);
        return DriverManager.getConnection("jdbc:sqlite:" + data.resolve("scorebook.db"), config.toProperties());
    }

    private static int count(Path data, String sql) throws SQLException {
        try (Connection c = readOnly(data); Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
            return r.next() ? r.getInt(1) : 0;
        }
    }

    private static String integrity(Path data) throws SQLException {
        try (Connection c = readOnly(data); Statement s = c.createStatement(); ResultSet r = s.executeQuery("PRAGMA integrity_check")) {
            StringBuilder sb = new StringBuilder();
            while (r.next()) {
                sb.append(sb.isEmpty() ? "" : "; ").append(r.getString(1));
            }
            return sb.toString();
        }
    }

    private static Set<String> functions(Path data) throws SQLException {
        Set<String> out = new HashSet<>();
        try (Connection c = readOnly(data); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT function FROM eval_results")) {
            while (r.next()) {
                out.add(r.getString(1));
            }
        }
        return out;
    }
}
