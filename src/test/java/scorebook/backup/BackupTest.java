package scorebook.backup;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;
import scorebook.testing.Client;
import scorebook.testing.Console;
import scorebook.testing.DbChecksum;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;
import scorebook.testing.Wait;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Online backups under write load, the backup endpoint's rules, and restore's refusals and its swap. */
class BackupTest {

    /** Writers create API keys as fast as they can; every key acknowledged before the backup began must be in it. */
    @Test
    void backupUnderWriteLoadOpensPassesIntegrityCheckAndHoldsEveryAcknowledgedWrite() throws Exception {
        try (TestServer server = TestServer.start()) {
            Tenant t = Tenant.create(server);
            Set<String> acknowledged = ConcurrentHashMap.newKeySet();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger seq = new AtomicInteger();
            List<Thread> writers = new ArrayList<>();
            for (int w = 0; w < 3; w++) {
                writers.add(Thread.ofPlatform().start(() -> {
                    while (!stop.get()) {
                        String name = "load-" + seq.incrementAndGet();
                        Client.Response r = t.user().post("/api/keys", Json.text(Map.of("name", name)));
                        if (r.status() == 201) {
                            acknowledged.add(name);
                        }
                    }
                }));
            }
            Wait.until("writes under way", () -> acknowledged.size() >= 50);
            Set<String> before = new HashSet<>(acknowledged);
            Client.Response b = server.owner().post("/api/admin/backup", "{\"name\":\"under-load.db\"}");
            Wait.until("writes after the backup", () -> acknowledged.size() >= before.size() + 50);
            stop.set(true);
            for (Thread w : writers) {
                w.join();
            }
            assertEquals(201, b.status(), b.text());
            Path file = Path.of(b.json().path("path").asText());
            assertEquals(server.dataDir().resolve("backups").resolve("under-load.db"), file);
            assertEquals(Files.size(file), b.json().path("size").asLong());
            assertEquals("ok", integrity(file));
            Set<String> inBackup = keyNames(file);
            before.removeAll(inBackup);
            assertTrue(before.isEmpty(), "acknowledged before the backup but missing from it: " + before);
        }
    }

    @Test
    void commandLineBackupBesideARunningServerAndDefaultNames() throws Exception {
        try (TestServer server = TestServer.start()) {
            Tenant t = Tenant.create(server);
            Path file = TestServer.tempDir().resolve("cli.db");
            int code = Console.quietly(() -> BackupCommands.run("backup",
                    List.of(file.toString(), "--data", server.dataDir().toString())));
            assertEquals(0, code);
            assertEquals("ok", integrity(file));
            assertTrue(userNames(file).contains(t.name()));
            // never overwrites
            assertEquals(1, Console.quietly(() -> BackupCommands.run("backup",
                    List.of(file.toString(), "--data", server.dataDir().toString()))));

            Client.Response r = server.owner().post("/api/admin/backup", "");
            assertEquals(201, r.status(), r.text());
            assertTrue(Path.of(r.json().path("path").asText()).getFileName().toString().matches("scorebook-\\d{8}T\\d{6}Z\\.db"));
        }
    }

    @Test
    void onlyTheOwnerBacksUpAndBadNamesChangeNothing() {
        try (TestServer server = TestServer.start()) {
            Tenant t = Tenant.create(server);
            assertEquals(403, t.user().post("/api/admin/backup", "{}").status());
            assertEquals(401, server.client(null).post("/api/admin/backup", "{}").status());
            assertEquals(201, server.owner().post("/api/admin/backup", "{\"name\":\"a.db\"}").status());
            Map<String, String> sums = DbChecksum.of(server.dataDir());
            for (String bad : List.of("{\"name\":\"../escape.db\"}", "{\"name\":\"/tmp/x.db\"}", "{\"name\":\".hidden\"}",
                    "{\"name\":7}", "{\"name\":\"\"}", "{\"name\":\"x.db.partial\"}")) {
                Client.Response r = server.owner().post("/api/admin/backup", bad);
                assertEquals(422, r.status(), bad + " -> " + r.text());
                assertTrue(r.json().path("detail").asText().contains("'name'"), r.text());
            }
            assertEquals(400, server.owner().post("/api/admin/backup", "{nope").status());
            Client.Response again = server.owner().post("/api/admin/backup", "{\"name\":\"a.db\"}");
            assertEquals(409, again.status(), again.text());
            assertEquals(sums, DbChecksum.of(server.dataDir()));
            assertFalse(Files.exists(server.dataDir().resolve("escape.db")));
        }
    }

    @Test
    void restoreRefusesAHeldFolderAndFilesThatAreNotHealthyScorebookDatabases() throws Exception {
        Path dir = TestServer.tempDir();
        Path backup = TestServer.tempDir().resolve("b.db");
        String userName;
        try (TestServer server = TestServer.startOn(dir)) {
            userName = Tenant.create(server).name();
            assertEquals(0, Console.quietly(() -> BackupCommands.run("backup", List.of(backup.toString(), "--data", dir.toString()))));
            Map<String, String> sums = DbChecksum.of(dir);
            IllegalStateException held = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> BackupCommands.restore(backup, dir, java.time.Clock.systemUTC()));
            assertTrue(held.getMessage().contains("refusing to restore") && held.getMessage().contains("in use"),
                    held.getMessage());
            assertEquals(1, Console.quietly(() -> BackupCommands.run("restore", List.of(backup.toString(), "--data", dir.toString()))));
            assertEquals(sums, DbChecksum.of(dir));
        }
        Path notSqlite = Files.writeString(TestServer.tempDir().resolve("x.db"), "hello, not a database");
        Path corrupt = TestServer.tempDir().resolve("corrupt.db");
        byte[] bytes = Files.readAllBytes(backup);
        for (int i = bytes.length / 2; i < bytes.length; i += 97) {
            bytes[i] ^= 0x5a;
        }
        Files.write(corrupt, bytes);
        Path emptySqlite = TestServer.tempDir().resolve("other.db");
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + emptySqlite); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t (x)");
        }
        for (Path bad : List.of(notSqlite, corrupt, emptySqlite, dir.resolve("missing.db"))) {
            Map<String, String> sums = DbChecksum.of(dir);
            assertEquals(1, Console.quietly(() -> BackupCommands.run("restore", List.of(bad.toString(), "--data", dir.toString()))),
                    bad.toString());
            assertEquals(sums, DbChecksum.of(dir));
        }

        // a stopped server's folder: the backup replaces the database, the old one is kept aside
        try (TestServer server = TestServer.startOn(dir)) {
            Tenant.create(server);
        }
        Set<String> after = userNames(dir.resolve("scorebook.db"));
        assertEquals(0, Console.quietly(() -> BackupCommands.run("restore", List.of(backup.toString(), "--data", dir.toString()))));
        try (var files = Files.list(dir)) {
            assertTrue(files.anyMatch(p -> p.getFileName().toString().startsWith("scorebook.db.before-restore-")));
        }
        try (TestServer server = TestServer.startOn(dir)) {
            JsonNode users = server.owner().get("/api/users").json().path("users");
            Set<String> names = new HashSet<>();
            users.forEach(u -> names.add(u.path("name").asText()));
            assertTrue(names.contains(userName));
            assertNotEquals(after, names);
            assertEquals(after.size() - 1, names.size());
        } finally {
            TestServer.deleteTree(dir);
        }
    }

    static String integrity(Path file) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("PRAGMA integrity_check")) {
            r.next();
            return r.getString(1);
        }
    }

    private static Set<String> keyNames(Path file) throws SQLException {
        return column(file, "SELECT name FROM api_keys");
    }

    private static Set<String> userNames(Path file) throws SQLException {
        return column(file, "SELECT name FROM users");
    }

    private static Set<String> column(Path file, String sql) throws SQLException {
        Set<String> out = new HashSet<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement();
             ResultSet r = s.executeQuery(sql)) {
            while (r.next()) {
                out.add(r.getString(1));
            }
        }
        return out;
    }
}
