package scorebook.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Copies the WAL back into the database file from a thread of its own, so that no commit pays for it. With
 * SQLite's automatic checkpoint the commit that fills the WAL past 1,000 pages copies them and syncs the file
 * while holding the write lock: about two thirds of an enqueue's time in the database, 64 of 84 µs a job in
 * batches of 64. Here a PASSIVE checkpoint (it takes no lock that writers or readers wait for) runs when the WAL
 * has grown past {@link #PASSIVE_BYTES}; a WAL that still grows past {@link #RESTART_BYTES} (readers kept it from
 * being reused) gets a RESTART checkpoint, which makes the next writer start the WAL from its beginning.
 */
final class Checkpointer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Checkpointer.class.getName());
    static final long PASSIVE_BYTES = 4L << 20;
    static final long RESTART_BYTES = 256L << 20;
    private static final long TICK_MS = 100;

    private final Connection connection;
    private final Path wal;
    private final Thread thread;
    private volatile boolean running = true;
    private final java.util.concurrent.atomic.AtomicLong done = new java.util.concurrent.atomic.AtomicLong();

    Checkpointer(Connection connection, Path databaseFile) {
        this.connection = connection;
        this.wal = databaseFile.resolveSibling(databaseFile.getFileName() + "-wal");
        this.thread = Thread.ofPlatform().daemon().name("wal-checkpoint").start(this::loop);
    }

    private void loop() {
        while (running) {
            try {
                Thread.sleep(TICK_MS);
                long size = walSize();
                if (size >= PASSIVE_BYTES) {
                    checkpoint(size >= RESTART_BYTES ? "RESTART" : "PASSIVE");
                }
            } catch (InterruptedException e) {
                return;
            } catch (java.io.IOException | SQLException | RuntimeException e) {
                if (running) {
                    LOG.log(Level.WARNING, "WAL checkpoint failed (retried): " + e.getMessage());
                }
            }
        }
    }

    /** The WAL's size in bytes, 0 when there is none (no connection open, or just checkpointed away). */
    private long walSize() throws java.io.IOException {
        try {
            return Files.size(wal);
        } catch (java.nio.file.NoSuchFileException e) {
            return 0;
        }
    }

    private void checkpoint(String mode) throws SQLException {
        synchronized (connection) {
            try (Statement st = connection.createStatement()) {
                st.execute("PRAGMA wal_checkpoint(" + mode + ")");
            }
        }
        done.incrementAndGet();
    }

    /** How many checkpoints have run so far. */
    long checkpoints() {
        return done.get();
    }

    @Override
    public void close() throws SQLException {
        running = false;
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (connection) {
            connection.close();
        }
    }
}
