package scorebook.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.locks.ReentrantLock;

import org.jdbi.v3.core.ConnectionFactory;
import org.jdbi.v3.core.HandleCallback;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.mapper.RowMapperFactory;
import org.jdbi.v3.core.mapper.reflect.ConstructorMapper;
import org.jdbi.v3.sqlobject.SqlObjectPlugin;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteOpenMode;

/**
 * The SQLite file: one writer connection behind a lock (so no client ever sees SQLITE_BUSY) and
 * a small pool of read-only connections that read the WAL snapshot in parallel.
 */
public final class Database implements AutoCloseable {
    // idle read connections kept; more are opened under load and closed after use. Every gateway call
    // reads its API key, so at 32 concurrent calls a pool of 8 opened and closed a connection per call.
    private static final int READERS = 32;
    private static final int BUSY_TIMEOUT_MS = 10_000;
    /** The writer connection's page cache, at most (SQLite allocates it as pages are used). */
    private static final int WRITER_CACHE_KIB = 64 * 1024;

    private final Path file;
    private final Connection writerConnection;
    private final Checkpointer checkpointer;
    private final Jdbi writer;
    private final Jdbi reader;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final BlockingQueue<Connection> idleReaders = new ArrayBlockingQueue<>(READERS);
    /** Bumped after every write transaction (committed or not), so readers can tell cached results are stale. */
    private final java.util.concurrent.atomic.AtomicLong writes = new java.util.concurrent.atomic.AtomicLong();
    private volatile long lastBulkWriteNs = System.nanoTime() - java.util.concurrent.TimeUnit.DAYS.toNanos(1);
    /** A read connection kept only to ask SQLite whether any other connection (or process) committed. */
    private final Connection watch;

    private Database(Path file) throws SQLException {
        this.file = file;
        this.writerConnection = connect(false);
        try (var st = writerConnection.createStatement()) {
            st.execute("PRAGMA wal_autocheckpoint = 0"); // the Checkpointer's thread does it, not a commit
            // a bulk write's pages stay in the writer's cache until its commit: at the default 2 MB, a 10,000-row
            // import spilled dirty pages to the WAL mid-transaction, and its insert took 120-137 ms instead of 69-90
            st.execute("PRAGMA cache_size = -" + WRITER_CACHE_KIB);
        }
        this.checkpointer = new Checkpointer(connect(false), file);
        this.watch = connect(true);
        this.writer = configure(Jdbi.create(new ConnectionFactory() {
            @Override
            public Connection openConnection() {
                return writerConnection;
            }

            @Override
            public void closeConnection(Connection conn) {
                // the writer connection lives as long as the database
            }
        }));
        this.reader = configure(Jdbi.create(new ConnectionFactory() {
            @Override
            public Connection openConnection() throws SQLException {
                Connection idle = idleReaders.poll();
                return idle != null ? idle : connect(true);
            }

            @Override
            public void closeConnection(Connection conn) throws SQLException {
                if (conn.isClosed() || !conn.getAutoCommit() || !idleReaders.offer(conn)) {
                    conn.close();
                }
            }
        }));
    }

    /** The database file's name in a data folder. */
    public static final String FILE_NAME = "scorebook.db";

    /** Opens (creating if needed) {@code dir/scorebook.db} and brings its schema up to date. */
    public static Database open(Path dir) {
        return open(dir, Migrations.packaged());
    }

    /** Opens the database bringing it up to the given migrations (the tests: a file as an older version left it). */
    static Database open(Path dir, java.util.List<Migrations.Migration> migrations) {
        try {
            Files.createDirectories(dir);
            Database db = new Database(dir.resolve(FILE_NAME));
            try {
                Migrations.apply(db, migrations);
            } catch (RuntimeException e) {
                db.close();
                throw e;
            }
            return db;
        } catch (java.io.IOException | SQLException e) {
            throw new IllegalStateException("cannot open the database in " + dir + ": " + e.getMessage(), e);
        }
    }

    public Path file() {
        return file;
    }

    Checkpointer checkpointer() {
        return checkpointer;
    }

    /** Runs a read on a pooled read-only connection. */
    public <R, X extends Exception> R read(HandleCallback<R, X> callback) throws X {
        return reader.withHandle(callback);
    }

    /** Runs a write in one transaction on the single writer connection; all or nothing. */
    public <R, X extends Exception> R write(HandleCallback<R, X> callback) throws X {
        return write(callback, true);
    }

    /**
     * Runs a write like {@link #write}, with SQLite's foreign key checks off: for bulk inserts whose callback checks
     * once, inside the transaction, that the parents its rows point at exist. Row by row that check is a parent
     * lookup for every row. Only for inserts, and deletes of rows no foreign key points at (a staged import's line):
     * any other delete in the callback would not cascade.
     */
    public <R, X extends Exception> R writeParentsChecked(HandleCallback<R, X> callback) throws X {
        return write(callback, false);
    }

    private <R, X extends Exception> R write(HandleCallback<R, X> callback, boolean checkForeignKeys) throws X {
        writeLock.lock();
        try {
            if (checkForeignKeys) {
                return writer.inTransaction(callback);
            }
            foreignKeys(false); // a no-op inside a transaction: before it begins
            try {
                return writer.inTransaction(callback);
            } finally {
                foreignKeys(true);
            }
        } finally {
            writes.incrementAndGet();
            checkpointer.catchUpIfWanted();
            writeLock.unlock();
        }
    }

    private void foreignKeys(boolean on) {
        try (var st = writerConnection.createStatement()) {
            st.execute("PRAGMA foreign_keys = " + (on ? "ON" : "OFF"));
        } catch (SQLException e) {
            throw new IllegalStateException("cannot set foreign key checks: " + e.getMessage(), e);
        }
    }

    /**
     * Marks that a bulk write (an import, a dataset append) just committed, so that background work which can wait
     * (the usage rollups' fold) waits until a burst of them ends instead of taking turns at the writer lock with it.
     */
    public void bulkWritten() {
        lastBulkWriteNs = System.nanoTime();
    }

    /** Nanoseconds since the last {@link #bulkWritten()}; very large when there was none. */
    public long nanosSinceBulkWrite() {
        return System.nanoTime() - lastBulkWriteNs;
    }

    /**
     * How many write transactions have ended so far. A result computed from reads that began after this
     * returned {@code n} is still current while it returns {@code n}: a cache's validity check.
     */
    public long writeCount() {
        return writes.get();
    }

    /**
     * A number that changes whenever any connection, in this process or another (the command line), commits to
     * the file: SQLite's {@code PRAGMA data_version} on a connection that never writes. With {@link #writeCount}
     * it tells a cache that no write at all happened since, without an age limit.
     */
    public long dataVersion() {
        synchronized (watch) {
            try (var st = watch.createStatement(); var rs = st.executeQuery("PRAGMA data_version")) {
                return rs.next() ? rs.getLong(1) : -1;
            } catch (SQLException e) {
                throw new IllegalStateException("cannot read the database's version: " + e.getMessage(), e);
            }
        }
    }

    /** For the rare write that must manage its own transactions (migrations). */
    <R, X extends Exception> R writeWithoutTransaction(HandleCallback<R, X> callback) throws X {
        writeLock.lock();
        try {
            return writer.withHandle(callback);
        } finally {
            writeLock.unlock();
        }
    }

    private Connection connect(boolean readOnly) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        // NORMAL in WAL mode: a committed write survives a crash of the process (kill -9);
        // only a power loss can take the last transactions, which FULL would add an fsync for.
        config.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
        config.enforceForeignKeys(true);
        config.setBusyTimeout(BUSY_TIMEOUT_MS);
        config.setTempStore(SQLiteConfig.TempStore.MEMORY);
        // SQLite's own mutex around every call is redundant: sqlite-jdbc already serialises every call on a connection
        // (its native methods are synchronized; sqlite3_interrupt, the one that is not, is safe from any thread),
        // which is all SQLite's multi-thread mode asks. It cost 6 % of a 10,000-row import's insert (a probe: 6.3
        // against 5.9 ms per 1,000 rows).
        config.setOpenMode(SQLiteOpenMode.NOMUTEX);
        if (readOnly) {
            config.setReadOnly(true);
            // reads map the file instead of copying pages through read(): a filter or search over a large run
            // scans every row's pages, more than a connection's page cache holds; the OS's cache is shared. The
            // whole file: with 1 GB mapped, 10 M usage rows (1.7 GB) put the rollups past the mapping and an hourly
            // month read them through read() into a 2 MB page cache (SQLite lowers this to its own limit, 2 GB)
            config.setPragma(SQLiteConfig.Pragma.MMAP_SIZE, String.valueOf(1L << 40));
        } else {
            // take the write lock at BEGIN: another process writing the same file then makes us wait
            // (busy_timeout) instead of failing a read-then-write transaction with SQLITE_BUSY
            config.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
        }
        return config.createConnection("jdbc:sqlite:" + file);
    }

    /** Records map from rows by their constructor, snake_case columns to camelCase components. */
    private static Jdbi configure(Jdbi jdbi) {
        return jdbi.installPlugin(new SqlObjectPlugin())
                .registerRowMapper((RowMapperFactory) (type, config) -> type instanceof Class<?> c && c.isRecord()
                        ? Optional.of(ConstructorMapper.of(c))
                        : Optional.empty());
    }

    @Override
    public void close() {
        writeLock.lock();
        try {
            checkpointer.close();
            Connection c;
            while ((c = idleReaders.poll()) != null) {
                c.close();
            }
            synchronized (watch) {
                watch.close();
            }
            writerConnection.close();
        } catch (SQLException e) {
            throw new IllegalStateException("closing the database: " + e.getMessage(), e);
        } finally {
            writeLock.unlock();
        }
    }
}
