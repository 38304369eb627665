package scorebook.server;

import java.nio.file.Path;
import java.time.Clock;

/**
 * What {@code serve} needs to start.
 *
 * @param host         interface to bind
 * @param port         port, 0 for any free one
 * @param dataDir      holds scorebook.db and the owner token
 * @param evalPath     the eval path (suites)
 * @param webDir       dashboard folder on disk, or null for the copy in the jar
 * @param maxBodyBytes largest request body accepted (413 above)
 * @param ownerToken   token for the owner when the data directory is new (SCOREBOOK_TOKEN), or null
 * @param clock        the one source of time for the server's features (tests pass a clock they move)
 * @param allowPrivateCallbacks job callbacks may target loopback, link-local and private addresses
 */
public record ServerConfig(String host, int port, Path dataDir, Path evalPath, Path webDir, long maxBodyBytes,
                           String ownerToken, Clock clock, boolean allowPrivateCallbacks) {
    public static final long DEFAULT_MAX_BODY = 32L * 1024 * 1024;

    /**
     * A local server on a free port over {@code dataDir}, as the tests and the AOT training run use;
     * its eval path is {@code dataDir/evals} (absent until a test writes suites there).
     */
    public static ServerConfig local(Path dataDir, String ownerToken) {
        return new ServerConfig("127.0.0.1", 0, dataDir, dataDir.resolve("evals"), null, DEFAULT_MAX_BODY, ownerToken,
                Clock.systemUTC(), false);
    }

    public ServerConfig withEvalPath(Path path) {
        return new ServerConfig(host, port, dataDir, path, webDir, maxBodyBytes, ownerToken, clock, allowPrivateCallbacks);
    }

    public ServerConfig withMaxBodyBytes(long bytes) {
        return new ServerConfig(host, port, dataDir, evalPath, webDir, bytes, ownerToken, clock, allowPrivateCallbacks);
    }

    public ServerConfig withClock(Clock c) {
        return new ServerConfig(host, port, dataDir, evalPath, webDir, maxBodyBytes, ownerToken, c, allowPrivateCallbacks);
    }

    public ServerConfig withAllowPrivateCallbacks(boolean allow) {
        return new ServerConfig(host, port, dataDir, evalPath, webDir, maxBodyBytes, ownerToken, clock, allow);
    }
}
