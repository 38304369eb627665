package scorebook.server;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Locale;

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
 * @param publicUrl    the address users reach the server at behind a reverse proxy (scheme://host[:port]),
 *                     or null; the dashboard's Origin check accepts it and the login link uses it
 * @param allowPrivateCallbacks job callbacks may target loopback, link-local and private addresses
 * @param metricsToken a token that may read /metrics and nothing else ({@code --metrics-token}), or null
 */
public record ServerConfig(String host, int port, Path dataDir, Path evalPath, Path webDir, long maxBodyBytes,
                           String ownerToken, Clock clock, String publicUrl, boolean allowPrivateCallbacks,
                           String metricsToken) {
    public static final long DEFAULT_MAX_BODY = 32L * 1024 * 1024;

    /**
     * A local server on a free port over {@code dataDir}, as the tests and the AOT training run use;
     * its eval path is {@code dataDir/evals} (absent until a test writes suites there).
     */
    public static ServerConfig local(Path dataDir, String ownerToken) {
        return new ServerConfig("127.0.0.1", 0, dataDir, dataDir.resolve("evals"), null, DEFAULT_MAX_BODY, ownerToken,
                Clock.systemUTC(), null, false, null);
    }

    public ServerConfig withEvalPath(Path path) {
        return new ServerConfig(host, port, dataDir, path, webDir, maxBodyBytes, ownerToken, clock, publicUrl, allowPrivateCallbacks, metricsToken);
    }

    public ServerConfig withMaxBodyBytes(long bytes) {
        return new ServerConfig(host, port, dataDir, evalPath, webDir, bytes, ownerToken, clock, publicUrl, allowPrivateCallbacks, metricsToken);
    }

    public ServerConfig withClock(Clock c) {
        return new ServerConfig(host, port, dataDir, evalPath, webDir, maxBodyBytes, ownerToken, c, publicUrl, allowPrivateCallbacks, metricsToken);
    }

    public ServerConfig withPublicUrl(String url) {
        return new ServerConfig(host, port, dataDir, evalPath, webDir, maxBodyBytes, ownerToken, clock, url, allowPrivateCallbacks, metricsToken);
    }

    public ServerConfig withAllowPrivateCallbacks(boolean allow) {
        return new ServerConfig(host, port, dataDir, evalPath, webDir, maxBodyBytes, ownerToken, clock, publicUrl, allow, metricsToken);
    }

    public ServerConfig withMetricsToken(String token) {
        return new ServerConfig(host, port, dataDir, evalPath, webDir, maxBodyBytes, ownerToken, clock, publicUrl,
                allowPrivateCallbacks, token == null ? null : checkMetricsToken(token));
    }

    /** {@code --metrics-token}: 16 to 4096 visible ASCII characters (it travels in a header), no spaces. */
    public static String checkMetricsToken(String token) {
        if (token.length() < 16 || token.length() > 4096 || !token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new IllegalArgumentException("--metrics-token must be 16 to 4096 visible ASCII characters without "
                    + "spaces (e.g. the output of: openssl rand -hex 24)");
        }
        return token;
    }

    /** The origin of {@link #publicUrl} (scheme://host[:port], no path), or null. */
    public String publicOrigin() {
        if (publicUrl == null) {
            return null;
        }
        URI u = URI.create(publicUrl);
        return u.getScheme().toLowerCase(Locale.ROOT) + "://" + u.getRawAuthority();
    }

    /** {@code --public-url}: http(s)://host[:port], served at its root; returned without a trailing slash. */
    public static String checkPublicUrl(String raw) {
        String url = raw.strip().replaceAll("/+$", "");
        URI u;
        try {
            u = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("--public-url is not a URL: '" + raw + "'");
        }
        boolean web = "http".equalsIgnoreCase(u.getScheme()) || "https".equalsIgnoreCase(u.getScheme());
        if (!web || u.getHost() == null || !u.getRawPath().isEmpty() || u.getRawQuery() != null || u.getRawFragment() != null) {
            throw new IllegalArgumentException("--public-url must be http(s)://host[:port] (Scorebook is served at the root "
                    + "of its address), not '" + raw + "'");
        }
        return url;
    }
}
