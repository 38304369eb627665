package scorebook.usage;

import java.io.IOException;
import java.io.OutputStream;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import scorebook.store.Database;

/**
 * Writes a long read in time slices made on worker threads and written in their order: a 1,000,000-row export was
 * one thread's work (SQLite, a JNI read a column, the CSV bytes) with the other core idle. At most {@value #AHEAD}
 * slices are made ahead of the one being written, so memory stays bounded whatever the range holds. Their buffers are
 * used again once written: a slice is megabytes, and a new array for each (grown by doubling) was old-generation
 * garbage that kept G1's concurrent marking busy on the cores the export runs on.
 */
final class Slices {
    /** Rows an export's slice holds at most (more only when more rows share one millisecond). */
    static final int ROWS = 20_000;
    static final int AHEAD = 4;
    private static final int THREADS = Math.max(2, Math.min(4, Runtime.getRuntime().availableProcessors()));

    /**
     * Makes one slice's bytes, from {@code fromMs} (inclusive) to {@code toMs} (exclusive), into {@code buffer} (an
     * earlier slice's, or null) or a larger one.
     */
    @FunctionalInterface
    interface Maker {
        Slice make(long fromMs, long toMs, byte[] buffer);
    }

    /** A slice's bytes (the first {@code length} of {@code bytes}) and the rows they hold. */
    record Slice(byte[] bytes, int length, long rows) {
    }

    private Slices() {
    }

    /**
     * Where slices of at most {@code rows} of the user's rows begin (more only when more share one millisecond), from
     * {@code fromMs} up to {@code toMs}: the first is {@code fromMs}, the last slice ends at {@code toMs}. Read from
     * the (user_id, ts_ms, …) index alone.
     */
    static List<Long> starts(Database db, long userId, long fromMs, long toMs, int rows) {
        return db.read(h -> {
            List<Long> starts = new ArrayList<>(List.of(fromMs));
            try (PreparedStatement ps = h.getConnection().prepareStatement("""
                    SELECT ts_ms FROM usage_events WHERE user_id = ? AND ts_ms >= ? AND ts_ms < ?
                    ORDER BY ts_ms LIMIT 1 OFFSET ?""")) {
                while (true) {
                    long last = starts.getLast();
                    ps.setLong(1, userId);
                    ps.setLong(2, last);
                    ps.setLong(3, toMs);
                    ps.setInt(4, rows);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            return starts;
                        }
                        // rows of one millisecond stay in one slice
                        starts.add(Math.max(rs.getLong(1), last + 1));
                    }
                }
            } catch (SQLException e) {
                throw new IllegalStateException("usage export failed: " + e.getMessage(), e);
            }
        });
    }

    /** Makes the slices beginning at {@code starts} (the last ending at {@code toMs}) and writes them in order. */
    static long write(List<Long> starts, long toMs, Maker maker, OutputStream out) throws IOException {
        ExecutorService workers = Executors.newFixedThreadPool(THREADS,
                Thread.ofPlatform().daemon().name("usage-export-", 0).factory());
        ArrayDeque<Future<Slice>> made = new ArrayDeque<>();
        java.util.concurrent.BlockingQueue<byte[]> written = new java.util.concurrent.LinkedBlockingQueue<>();
        try {
            int next = 0;
            long rows = 0;
            while (next < starts.size() || !made.isEmpty()) {
                while (next < starts.size() && made.size() < AHEAD) {
                    long from = starts.get(next);
                    long to = next + 1 < starts.size() ? starts.get(next + 1) : toMs;
                    made.add(workers.submit(() -> maker.make(from, to, written.poll())));
                    next++;
                }
                Slice s = made.poll().get();
                out.write(s.bytes(), 0, s.length());
                written.add(s.bytes());
                rows += s.rows();
            }
            return rows;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("the export was interrupted", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } finally {
            made.forEach(f -> f.cancel(true));
            workers.shutdownNow();
        }
    }
}
