package scorebook.backup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import scorebook.store.Database;

/**
 * Consistent copies of the live database. {@code VACUUM INTO} runs on a pooled read-only connection: it reads
 * one WAL snapshot (every transaction committed before it began, none after), and in WAL mode a reader never
 * blocks the writer, so the server keeps serving while it copies. The copy is written beside its target under a
 * temporary name and moved into place when complete, so a file at the target's name is always a whole backup.
 */
public final class Backups {
    /** The UTC time in backup and set-aside file names: 20261130T031500Z. */
    static final java.time.format.DateTimeFormatter STAMP = java.time.format.DateTimeFormatter
            .ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(java.time.ZoneOffset.UTC);
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
            db.read(h -> h.createUpdate("VACUUM INTO :file").bind("file", partial.toString()).execute());
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
            } catch (IOException e) {
                // a leftover .partial is never mistaken for a backup
            }
        }
    }
}
