package scorebook.store;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MigrationsTest {
    private final Path dir = TestServer.tempDir();

    @AfterEach
    void clean() {
        TestServer.deleteTree(dir);
    }

    @Test
    void packagedMigrationsAreNumberedFromOneWithoutGaps() {
        List<Migrations.Migration> all = Migrations.packaged();
        assertFalse(all.isEmpty());
        for (int i = 0; i < all.size(); i++) {
            assertEquals(i + 1, all.get(i).version(), "migration " + all.get(i).name());
        }
    }

    @Test
    void aFreshDatabaseGetsEveryMigrationRecordedAndWalMode() {
        try (Database db = Database.open(dir)) {
            List<Integer> versions = db.read(h -> h.createQuery("SELECT version FROM schema_migrations ORDER BY version")
                    .mapTo(int.class).list());
            assertEquals(Migrations.packaged().stream().map(Migrations.Migration::version).toList(), versions);
            assertEquals("wal", db.read(h -> h.createQuery("PRAGMA journal_mode").mapTo(String.class).one()));
            assertEquals(1, (int) db.read(h -> h.createQuery("PRAGMA foreign_keys").mapTo(int.class).one()));
            assertEquals(1, (int) db.read(h -> h.createQuery("SELECT count(*) FROM sqlite_master WHERE name = 'users'").mapTo(int.class).one()));
        }
    }

    @Test
    void anExistingFileIsRebuiltOnceWithIncrementalAutoVacuumKeepingItsData() throws Exception {
        // a file as the version before migration 009 left it: no auto_vacuum
        try (Database db = OlderSchema.openBefore(dir, 9)) {
            db.write(h -> h.execute("INSERT INTO users (name, token_hash, created_at) VALUES ('kept', 'h', 'now')"));
            assertEquals(0, (int) db.read(h -> h.createQuery("PRAGMA auto_vacuum").mapTo(int.class).one()));
        }
        try (Database db = Database.open(dir)) {
            assertEquals(2, (int) db.read(h -> h.createQuery("PRAGMA auto_vacuum").mapTo(int.class).one()));
            assertEquals(1, (int) db.read(h -> h.createQuery("SELECT count(*) FROM users WHERE name = 'kept'").mapTo(int.class).one()));
            assertEquals(Migrations.packaged().size(),
                    (int) db.read(h -> h.createQuery("SELECT count(*) FROM schema_migrations").mapTo(int.class).one()));
        }
    }

    @Test
    void usageRowsKeepEveryStoredValueWhenTheVirtualTsColumnGoes() throws Exception {
        String row = "SELECT user_id || '|' || ts_ms || '|' || event_key || '|' || model || '|' || latency_ms FROM usage_events";
        String before;
        try (Database db = OlderSchema.openBefore(dir, 23)) {
            db.write(h -> h.execute("INSERT INTO users (name, token_hash, created_at) VALUES ('u', 'h', 'now')"));
            db.write(h -> h.execute("""
                    INSERT INTO usage_events (user_id, ts_ms, event_key, source_kind, model, latency_ms, ok)
                    VALUES (1, 1764547200123, 7, 'import', 'm', 12.5, 1)"""));
            assertEquals("2025-12-01T00:00:00.123Z", db.read(h -> h.createQuery("SELECT ts FROM usage_events")
                    .mapTo(String.class).one()));
            before = db.read(h -> h.createQuery(row).mapTo(String.class).one());
        }
        try (Database db = Database.open(dir)) {
            assertEquals(before, db.read(h -> h.createQuery(row).mapTo(String.class).one()));
            assertEquals(0, (int) db.read(h -> h.createQuery(
                    "SELECT count(*) FROM pragma_table_xinfo('usage_events') WHERE name = 'ts'").mapTo(int.class).one()));
        }
    }

    @Test
    void aRepeatedStartAppliesNothingTwiceAndKeepsData() {
        try (Database db = Database.open(dir)) {
            db.write(h -> h.execute("INSERT INTO users (name, token_hash, created_at) VALUES ('kept', 'h', 'now')"));
        }
        try (Database db = Database.open(dir)) {
            assertEquals(Migrations.packaged().size(),
                    (int) db.read(h -> h.createQuery("SELECT count(*) FROM schema_migrations").mapTo(int.class).one()));
            assertEquals(1, (int) db.read(h -> h.createQuery("SELECT count(*) FROM users WHERE name = 'kept'").mapTo(int.class).one()));
        }
    }

    @Test
    void aDatabaseFromANewerScorebookIsRefusedWithAClearMessage() {
        try (Database db = Database.open(dir)) {
            db.write(h -> h.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 'now')"));
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Database.open(dir));
        assertTrue(e.getMessage().contains("newer Scorebook"), e.getMessage());
        assertTrue(e.getMessage().contains("999"), e.getMessage());
    }

    @Test
    void aServerRefusesToStartOnANewerDatabase() {
        try (Database db = Database.open(dir)) {
            db.write(h -> h.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 'now')"));
        }
        assertThrows(IllegalStateException.class, () -> TestServer.startOn(dir));
    }

    @Test
    void aFailedWriteLeavesNothingBehind() {
        try (Database db = Database.open(dir)) {
            assertThrows(RuntimeException.class, () -> db.write(h -> {
                h.execute("INSERT INTO users (name, token_hash, created_at) VALUES ('half', 'h1', 'now')");
                return h.execute("INSERT INTO users (name, token_hash, created_at) VALUES ('half', 'h2', 'now')");
            }));
            assertEquals(0, (int) db.read(h -> h.createQuery("SELECT count(*) FROM users WHERE name = 'half'").mapTo(int.class).one()));
        }
    }
}
