package scorebook.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import org.junit.jupiter.api.Test;

import scorebook.testing.TestServer;
import scorebook.testing.Wait;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Commits do not checkpoint (the writer's wal_autocheckpoint is 0); the Checkpointer's thread does, so the WAL is
 * reused from its start instead of growing with every write, and nothing written is lost on the way.
 */
class CheckpointerTest {
    private static final int BLOB = 100_000;
    private static final int PER_PHASE = 60; // 6 MB a phase, past the 4 MB at which the thread checkpoints

    @Test
    void theWalIsCheckpointedOffTheCommitAndReusedFromItsStart() throws Exception {
        Path dir = TestServer.tempDir();
        try (Database db = Database.open(dir)) {
            assertEquals(0, (int) db.write(h -> h.createQuery("PRAGMA wal_autocheckpoint").mapTo(int.class).one()),
                    "a commit never checkpoints");
            db.write(h -> h.execute("CREATE TABLE probe (id INTEGER PRIMARY KEY, b BLOB)"));
            Path wal = dir.resolve(Database.FILE_NAME + "-wal");
            write(db, 1);
            long firstPhase = Files.size(wal);
            // (the thread may have checkpointed once the WAL passed 4 MB, and the WAL restarted from there)
            assertTrue(firstPhase >= Checkpointer.PASSIVE_BYTES, "the WAL grew past 4 MB: " + firstPhase);
            // two more checkpoints: the second began after the first phase had been written, so it copied all of it
            long seen = db.checkpointer().checkpoints();
            Wait.until("two checkpoints by the thread", () -> db.checkpointer().checkpoints() >= seen + 2);
            write(db, 2);
            long secondPhase = Files.size(wal);
            assertTrue(secondPhase < firstPhase + PER_PHASE * BLOB / 2,
                    "the second phase reused the checkpointed WAL from its start: " + firstPhase + " then " + secondPhase);
            assertEquals(2 * PER_PHASE, (int) db.read(h -> h.createQuery("SELECT count(*) FROM probe WHERE length(b) = "
                    + BLOB).mapTo(int.class).one()));
        }
        try (Database again = Database.open(dir)) {
            assertEquals(2 * PER_PHASE, (int) again.read(h -> h.createQuery("SELECT count(*) FROM probe").mapTo(int.class).one()),
                    "every row is there after closing and opening again");
        }
    }

    /**
     * Writes that never pause: a PASSIVE checkpoint alone never finds the WAL fully copied at the start of a write, so
     * the WAL grew until 256 MB. Past {@link Checkpointer#CATCH_UP_BYTES} (64 MB) a write copies the frames left,
     * after its commit, and the WAL starts again from its beginning: the thread sees it holding 64 MB and later far
     * less, before 240 MB are written (without the copy it starts again only at the RESTART past 256 MB). Measured:
     * 74-132 MB, often after the second copy (the first does not always lead to a new start).
     */
    @Test
    void writesThatNeverPauseStillReuseTheWal() throws Exception {
        Path dir = TestServer.tempDir();
        try (Database db = Database.open(dir)) {
            db.write(h -> h.execute("CREATE TABLE probe (id INTEGER PRIMARY KEY, b BLOB)"));
            Random r = new Random(3);
            byte[] b = new byte[1 << 20];
            int written = 0;
            long peak = 0;
            boolean startedAgain = false;
            for (; written < 240 && !startedAgain; written++) {
                r.nextBytes(b);
                db.write(h -> h.execute("INSERT INTO probe (b) VALUES (?)", (Object) b));
                long held = db.checkpointer().walBytes();
                peak = Math.max(peak, held);
                startedAgain = peak >= Checkpointer.CATCH_UP_BYTES && held < Checkpointer.CATCH_UP_BYTES / 2;
            }
            assertTrue(startedAgain, "the WAL held " + (peak >> 20) + " MB at most and was not started again within "
                    + written + " MB of writes");
            assertTrue(db.checkpointer().catchUps() > 0, "writes copied the frames the thread left");
            int rows = written;
            assertEquals(rows, (int) db.read(h -> h.createQuery("SELECT count(*) FROM probe").mapTo(int.class).one()));
        }
    }

    private static void write(Database db, int seed) {
        Random r = new Random(seed);
        for (int i = 0; i < PER_PHASE; i++) {
            byte[] b = new byte[BLOB];
            r.nextBytes(b);
            db.write(h -> h.execute("INSERT INTO probe (b) VALUES (?)", (Object) b));
        }
    }
}
