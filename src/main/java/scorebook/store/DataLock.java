package scorebook.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The one server of a data folder: an OS lock on {@code DATA/server.lock}, which holds the pid of the
 * process holding it. A second server on the same folder would mark the first one's running results as
 * interrupted, so it refuses to start instead; the command line's writes (user, key, device, run) do not
 * take this lock and keep working beside a server. The OS drops the lock when the process ends, even
 * after {@code kill -9}, so a stale file never blocks a start.
 */
public final class DataLock implements AutoCloseable {
    static final String FILE = "server.lock";

    private final FileChannel channel;
    private final FileLock lock;

    private DataLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** Takes the folder's lock (creating the folder), or fails naming the process that holds it. */
    public static DataLock acquire(Path dataDir) {
        Path file = dataDir.resolve(FILE);
        FileChannel channel = null;
        try {
            Files.createDirectories(dataDir);
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                // a server in this very process has it (reading the file here could release that lock)
                throw inUse(dataDir, ProcessHandle.current().pid());
            }
            if (lock == null) {
                String holder = holder(channel);
                throw inUse(dataDir, holder);
            }
            channel.truncate(0);
            channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
            channel.force(false);
            return new DataLock(channel, lock);
        } catch (IOException e) {
            closeQuietly(channel);
            throw new IllegalStateException("cannot lock the data folder " + dataDir + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    private static String holder(FileChannel channel) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(64);
        channel.read(buf, 0);
        String pid = new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII).strip();
        return pid.matches("\\d+") ? pid : "unknown";
    }

    private static IllegalStateException inUse(Path dataDir, Object pid) {
        return new IllegalStateException("the data folder " + dataDir + " is in use by another Scorebook server (pid " + pid
                + "); stop that one first, or serve another folder with --data DIR");
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel == null) {
            return;
        }
        try {
            channel.close();
        } catch (IOException e) {
            // nothing held yet
        }
    }

    /** Releases the lock; the file stays (the next server rewrites it). */
    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            // the process is ending anyway; the OS frees the lock with it
        }
    }
}
