package scorebook.backup;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import org.sqlite.SQLiteConfig;
import scorebook.server.Options;
import scorebook.store.DataLock;
import scorebook.store.Database;

/**
 * {@code scorebook backup FILE} (beside a running server: a consistent snapshot) and {@code scorebook restore FILE}
 * (only on a data folder no server holds; the replaced database is kept aside).
 */
public final class BackupCommands {
    public static final String USAGE = """
            usage: scorebook backup FILE [--data DIR]    a consistent copy of DIR/scorebook.db, safe while a server runs
                   scorebook restore FILE [--data DIR]   replaces DIR/scorebook.db with FILE (the server must be stopped);
                                                          the old database is kept as scorebook.db.before-restore-TIME
            """;
    private static final byte[] SQLITE_HEADER = "SQLite format 3\0".getBytes(StandardCharsets.US_ASCII);

    private BackupCommands() {
    }

    /** Runs {@code backup} or {@code restore} and returns the exit code. */
    public static int run(String command, List<String> args) {
        Options o = Options.parse(args, Set.of("data"));
        List<String> words = o.positionals();
        if (words.size() != 1) {
            System.err.print(USAGE);
            return 2;
        }
        Path data = Path.of(o.get("data", "data")).toAbsolutePath().normalize();
        Path file = Path.of(words.getFirst()).toAbsolutePath().normalize();
        try {
            if (command.equals("backup")) {
                long size;
                try (Database db = Database.open(data)) {
                    size = new Backups(db).backupTo(file);
                }
                System.out.println("backup written: " + file + " (" + size + " bytes)");
            } else {
                Path aside = restore(file, data, Clock.systemUTC());
                System.out.println("restored " + file + " into " + data.resolve(Database.FILE_NAME)
                        + (aside == null ? "" : "; the previous database is kept as " + aside));
            }
            return 0;
        } catch (IllegalStateException | IllegalArgumentException | java.io.UncheckedIOException e) {
            System.err.println("scorebook: " + e.getMessage());
            return 1;
        }
    }

    /**
     * Replaces the data folder's database with {@code file} after checking it; returns where the old database went
     * (null when there was none). Holds the folder's server lock throughout, so no server starts on it meanwhile.
     */
    static Path restore(Path file, Path data, Clock clock) {
        check(file);
        try (DataLock lock = acquire(data)) {
            Path db = data.resolve(Database.FILE_NAME);
            Path incoming = data.resolve(Database.FILE_NAME + ".restoring");
            Files.copy(file, incoming, StandardCopyOption.REPLACE_EXISTING);
            Path aside = null;
            if (Files.exists(db)) {
                aside = data.resolve(Database.FILE_NAME + ".before-restore-" + Backups.STAMP.format(clock.instant()));
                Files.move(db, aside);
                // a WAL left by a crashed server belongs to the old file: applied to the new one it would corrupt it
                for (String suffix : List.of("-wal", "-shm")) {
                    Path side = data.resolve(Database.FILE_NAME + suffix);
                    if (Files.exists(side)) {
                        Files.move(side, aside.resolveSibling(aside.getFileName() + suffix));
                    }
                }
            }
            Files.move(incoming, db, StandardCopyOption.ATOMIC_MOVE);
            return aside;
        } catch (IOException e) {
            throw new IllegalStateException("restoring " + file + " into " + data + ": " + e.getMessage(), e);
        }
    }

    private static DataLock acquire(Path data) {
        try {
            return DataLock.acquire(data);
        } catch (IllegalStateException e) {
            throw new IllegalStateException("refusing to restore: " + e.getMessage());
        }
    }

    /** The file is a SQLite database, passes {@code PRAGMA integrity_check} and holds a Scorebook schema. */
    static void check(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("refusing to restore: " + file + " is not a file");
        }
        try (InputStream in = Files.newInputStream(file)) {
            if (!Arrays.equals(in.readNBytes(SQLITE_HEADER.length), SQLITE_HEADER)) {
                throw new IllegalArgumentException("refusing to restore: " + file + " is not a SQLite database");
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("refusing to restore: cannot read " + file + ": " + e.getMessage());
        }
        SQLiteConfig config = new SQLiteConfig();
        config.setReadOnly(true);
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file, config.toProperties());
             Statement s = c.createStatement()) {
            try (ResultSet r = s.executeQuery("PRAGMA integrity_check")) {
                String first = r.next() ? r.getString(1) : "no answer";
                if (!"ok".equals(first)) {
                    throw new IllegalArgumentException("refusing to restore: " + file + " fails integrity_check: " + first);
                }
            }
            try (ResultSet r = s.executeQuery(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")) {
                if (!r.next() || r.getInt(1) == 0) {
                    throw new IllegalArgumentException("refusing to restore: " + file + " is not a Scorebook database");
                }
            }
        } catch (SQLException e) {
            throw new IllegalArgumentException("refusing to restore: " + file + " cannot be read as SQLite: " + e.getMessage());
        }
    }
}
