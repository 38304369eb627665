package scorebook.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import scorebook.Main;
import scorebook.server.ServerConfig;

/** A real Scorebook on a free port over a real SQLite file in a temporary directory. */
public final class TestServer implements AutoCloseable {
    public static final String OWNER_TOKEN = "owner-test-token";

    private static final List<Path> TEMP_DIRS = new ArrayList<>();

    private final Path dir;
    private final boolean ownsDir;
    private final Main.Running running;
    private final Client owner;

    private TestServer(Path dir, boolean ownsDir, ServerConfig config) {
        if (dir.toAbsolutePath().normalize().startsWith(Path.of("").toAbsolutePath())) {
            // a data folder in the working tree is one commit away from a committed owner token
            throw new IllegalArgumentException("a test's data folder belongs in the temp folder, not in the repository: " + dir);
        }
        this.dir = dir;
        this.ownsDir = ownsDir;
        this.running = Main.start(config);
        this.owner = client(OWNER_TOKEN);
    }

    public static TestServer start() {
        Path dir = tempDir();
        return new TestServer(dir, true, ServerConfig.local(dir, OWNER_TOKEN));
    }

    /** A server over an existing data directory, which the caller cleans up. */
    public static TestServer startOn(Path dir) {
        return new TestServer(dir, false, ServerConfig.local(dir, OWNER_TOKEN));
    }

    public static TestServer start(ServerConfig config) {
        return new TestServer(config.dataDir(), false, config);
    }

    /**
     * A new temporary folder, deleted when the test JVM exits (most tests close their server and leave the folder
     * to the caller; a suite run left hundreds of them behind).
     */
    public static Path tempDir() {
        try {
            Path dir = Files.createTempDirectory("scorebook-test");
            synchronized (TEMP_DIRS) {
                if (TEMP_DIRS.isEmpty()) {
                    Runtime.getRuntime().addShutdownHook(new Thread(TestServer::deleteTempDirs, "delete-test-dirs"));
                }
                TEMP_DIRS.add(dir);
            }
            return dir;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTempDirs() {
        synchronized (TEMP_DIRS) {
            TEMP_DIRS.forEach(TestServer::deleteTree);
        }
    }

    public String base() {
        return "http://127.0.0.1:" + running.port();
    }

    public int port() {
        return running.port();
    }

    public Path dataDir() {
        return dir;
    }

    public Main.Running running() {
        return running;
    }

    /** A client that sends the owner's token. */
    public Client owner() {
        return owner;
    }

    /** A client that sends {@code token} as X-User-Token (null: no credential). */
    public Client client(String token) {
        return Client.forToken(base(), token);
    }

    /** A client that sends the given headers with every request. */
    public Client withHeaders(String... headers) {
        return new Client(base(), headers);
    }

    @Override
    public void close() {
        running.close();
        if (ownsDir) {
            deleteTree(dir);
        }
    }

    public static void deleteTree(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // leave it to the OS's temp cleaning
        }
    }
}
