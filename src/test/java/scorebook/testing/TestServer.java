package scorebook.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

import scorebook.Main;
import scorebook.server.ServerConfig;

/** A real Scorebook on a free port over a real SQLite file in a temporary directory. */
public final class TestServer implements AutoCloseable {
    public static final String OWNER_TOKEN = "owner-test-token";

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

    public static Path tempDir() {
        try {
            return Files.createTempDirectory("scorebook-test");
        } catch (IOException e) {
            throw new IllegalStateException(e);
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
