package scorebook.backup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.SQLException;

import org.sqlite.SQLiteConnection;
import org.sqlite.SQLiteErrorCode;
import scorebook.store.Database;

/**
 * Consistent copies of the live database: SQLite's online backup API, on a pooled read-only connection, copying
 * every page in one step. One step is one read transaction, so the copy is one WAL snapshot (every transaction
 * committed before it began, none after); in WAL mode a reader never blocks the writer, so the server keeps
 * serving while it copies, and a write meanwhile cannot make the copy start over (the API restarts only between
 * steps). Pages are copied as they are, several times faster than {@code VACUUM INTO}, which re-inserts every row
 * and rebuilds every index (see docs/operations.md). The copy is written beside its target under a temporary
 * name and moved into place when complete, so a file at the target's name is always a whole backup.
 */
public final class Backups {
    /** The UTC time in backup and set-aside file names: 20261130T031500Z. */
    static final java.time.format.DateTimeFormatter STAMP = java.time.format.DateTimeFormatter
            .ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(java.time.ZoneOffset.UTC);
    /** sqlite3_backup_step's page count for "all of them": the whole copy in one read transaction. */
    private static final int ALL_PAGES = -1;
    /** A busy source or target (another process holding a lock) is waited for this often, this long apart. */
    private static final int BUSY_TRIES = 50;
    private static final int BUSY_SLEEP_MS = 100;
    private final Database db;

    public Backups(Database db) {
        this.db = db;
    }

    /** Writes a copy of the database to {@code target} (which must not exist yet) and returns its size in bytes. */
    public long backupTo(Path target) {
        Path absolute = target.toAbsolutePath().normalize();
        if (Files.exists(absolute)) {
            throw new IllegalStateException(absolute + " already exists; backups never overwrite a file");
        }
        Path partial = absolute.resolveSibling(absolute.getFileName() + ".partial");
        try {
            Files.createDirectories(absolute.getParent());
            Files.deleteIfExists(partial);
            copyPages(partial);
            try {
                Files.move(partial, absolute, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(partial, absolute);
            }
            return Files.size(absolute);
        } catch (IOException e) {
            throw new UncheckedIOException("writing the backup " + absolute + ": " + e.getMessage(), e);
        } finally {
            try {
                Files.deleteIfExists(partial);
                Files.deleteIfExists(partial.resolveSibling(partial.getFileName() + "-journal"));
            } catch (IOException e) {
                // a leftover .partial is never mistaken for a backup
            }
        }
    }

    /** Every page of the database into {@code file} (new), in one backup step on a read connection. */
    private void copyPages(Path file) {
        int rc;
        try {
            rc = db.read(h -> h.getConnection().unwrap(SQLiteConnection.class).getDatabase()
                    .backup("main", file.toString(), null, BUSY_SLEEP_MS, BUSY_TRIES, ALL_PAGES));
        } catch (SQLException e) {
            throw new IllegalStateException("the backup to " + file + " failed: " + e.getMessage(), e);
        }
        if (rc != SQLiteErrorCode.SQLITE_OK.code) {
            throw new IllegalStateException("the backup to " + file + " failed: " + SQLiteErrorCode.getErrorCode(rc));
        }
    }
}
