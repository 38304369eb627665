package scorebook.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Copies the WAL back into the database file from a thread of its own, so that no commit pays for it. With
 * SQLite's automatic checkpoint the commit that fills the WAL past 1,000 pages copies them and syncs the file
 * while holding the write lock: about two thirds of an enqueue's time in the database, 64 of 84 µs a job in
 * batches of 64. Here a PASSIVE checkpoint (it takes no lock that writers or readers wait for) runs when the WAL
 * file is past {@link #PASSIVE_BYTES}.
 * <p>
 * Under writes that never pause, a PASSIVE checkpoint never catches up: frames come in while it copies, so no write
 * ever begins on a fully copied WAL, which is when SQLite starts the WAL again from its beginning. The WAL then grew
 * to 256 MB, where a RESTART checkpoint held every writer in SQLite's busy handler (sleeps of 1 ms and more) while it
 * copied the rest: enqueueing 100,000 jobs spent more time in BEGIN IMMEDIATE than in its inserts. So once the WAL
 * holds {@link #CATCH_UP_BYTES}, the next write, still holding the writer lock after its commit, copies the frames
 * this thread's checkpoint left ({@link #catchUpIfWanted}; skipped while this thread's own checkpoint runs, so no
 * writer waits for that): the write after it starts the WAL from its beginning (not always after the first such
 * copy: 74-132 MB of WAL were seen under writes that never pause).
 * (This thread taking the writer lock itself starved behind writers that retake it at once.) The copy ends with a
 * sync of the database file, about 10 ms on this machine's disk, that every writer waits for: every 4 MB it cost
 * the jobs flow a fifth of its rate, every 64 MB it is lost in the noise. A WAL that still
 * grows past {@link #RESTART_BYTES} (a long read kept its frames from being copied) gets a RESTART checkpoint.
 */
final class Checkpointer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Checkpointer.class.getName());
    static final long PASSIVE_BYTES = 4L << 20;
    static final long CATCH_UP_BYTES = 64L << 20;
    static final long RESTART_BYTES = 256L << 20;
    private static final long TICK_MS = 100;

    private final Connection connection;
    private final Path wal;
    private volatile boolean catchUpWanted;
    private volatile long lastWalBytes;
    /** Held while a checkpoint runs on {@link #connection}. */
    private final ReentrantLock using = new ReentrantLock();
    private final Thread thread;
    private volatile boolean running = true;
    private final AtomicLong done = new AtomicLong();
    private final AtomicLong caughtUp = new AtomicLong();
    private final long pageSize;

    Checkpointer(Connection connection, Path databaseFile) throws SQLException {
        this.connection = connection;
        try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery("PRAGMA page_size")) {
            this.pageSize = rs.next() ? rs.getLong(1) : 4096;
        }
        this.wal = databaseFile.resolveSibling(databaseFile.getFileName() + "-wal");
        this.thread = Thread.ofPlatform().daemon().name("wal-checkpoint").start(this::loop);
    }

    private void loop() {
        while (running) {
            try {
                Thread.sleep(TICK_MS);
                if (walSize() < PASSIVE_BYTES) {
                    continue;
                }
                long walBytes = checkpoint("PASSIVE");
                lastWalBytes = walBytes;
                if (walBytes >= RESTART_BYTES) {
                    checkpoint("RESTART");
                } else if (walBytes >= CATCH_UP_BYTES) {
                    catchUpWanted = true;
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

    /** Runs a checkpoint; answers the bytes of the frames the WAL holds (since its last start from the beginning). */
    private long checkpoint(String mode) throws SQLException {
        using.lock();
        try {
            return checkpointHeld(mode);
        } finally {
            using.unlock();
        }
    }

    private long checkpointHeld(String mode) throws SQLException {
        long frames;
        try (Statement st = connection.createStatement();
             ResultSet rs = st.executeQuery("PRAGMA wal_checkpoint(" + mode + ")")) {
            frames = rs.next() ? Math.max(0, rs.getLong(2)) : 0;
        }
        done.incrementAndGet();
        return frames * pageSize;
    }

    /**
     * Called by a write after its commit, holding the writer lock: when this thread found the WAL long, copies the
     * frames its checkpoint left (a few ms of writes), so that the next write starts the WAL from its beginning.
     */
    void catchUpIfWanted() {
        // while this thread's checkpoint runs, the next write tries again: writers do not wait for its copy
        if (!catchUpWanted || !using.tryLock()) {
            return;
        }
        try {
            catchUpWanted = false;
            checkpointHeld("PASSIVE");
            caughtUp.incrementAndGet();
        } catch (SQLException e) {
            LOG.log(Level.WARNING, "WAL checkpoint failed (retried): " + e.getMessage());
        } finally {
            using.unlock();
        }
    }

    /** How many checkpoints have run so far. */
    long checkpoints() {
        return done.get();
    }

    /** The bytes of frames the WAL held at this thread's last checkpoint. */
    long walBytes() {
        return lastWalBytes;
    }

    /** How many times a write copied the frames left (see {@link #catchUpIfWanted}). */
    long catchUps() {
        return caughtUp.get();
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
        using.lock();
        try {
            connection.close();
        } finally {
            using.unlock();
        }
    }
}
