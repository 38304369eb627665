package scorebook.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.CRC32;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * The dashboard's files: {@code web/} from the jar (or from disk with {@code --web-dir}, so edits
 * show without a rebuild) and third-party scripts from WebJars under {@code /vendor/}.
 * <pre>
 * GET /                 web/index.html
 * GET /static/{path}    web/{path} (also under /static/_vXXXX/, this start's version, cached for good)
 * GET /vendor/{path}    META-INF/resources/webjars/{path}, e.g. /vendor/chart.js/4.5.1/dist/chart.umd.js
 * </pre>
 * Every answer carries an ETag, so a browser with a warm cache revalidates with a 304 instead of
 * downloading again; pages, scripts and styles carry the dashboard's Content-Security-Policy (no inline
 * script or style, nothing from another origin).
 */
public final class StaticFiles implements HttpService {
    private static final Map<String, String> TYPES = Map.of(
            "html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8",
            "mjs", "text/javascript; charset=utf-8",
            "css", "text/css; charset=utf-8",
            "json", "application/json",
            "svg", "image/svg+xml",
            "png", "image/png",
            "ico", "image/x-icon",
            "txt", "text/plain; charset=utf-8");

    /** What the dashboard may load: only its own files, and images it draws itself (PNG export). */
    public static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
            + "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
    private static final Set<String> WITH_CSP = Set.of("html", "js", "mjs", "css");

    private static final String IMMUTABLE = "public, max-age=31536000, immutable";
    private static final String VERSION_MARK = "_v";

    private final Path webDir;
    private final Map<String, Optional<byte[]>> classpathCache = new ConcurrentHashMap<>();
    /**
     * With the dashboard inside the jar, its files cannot change while the server runs: the page names
     * them under {@code /static/_vXXXX/} (new at each start), a browser keeps them without asking again,
     * and the modules' relative imports inherit the prefix. From disk ({@code --web-dir}) there is no
     * prefix, so edits show at the next reload (ETag revalidation).
     */
    private final String version;

    /** @param webDir the dashboard folder on disk, or null to serve the copy inside the jar */
    public StaticFiles(Path webDir) {
        this.webDir = webDir;
        this.version = webDir == null ? VERSION_MARK + Long.toString(new SecureRandom().nextLong() >>> 1, 36) : null;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", this::page)
                .get("/index.html", this::page)
                .get("/static/{+path}", this::file)
                .get("/vendor/{+path}", (req, res) -> serve(req, res, classpath("META-INF/resources/webjars/" + rest(req))))
                .any("/", Errors.allow("GET"))
                .any("/index.html", Errors.allow("GET"))
                .any("/static/{+path}", Errors.allow("GET"))
                .any("/vendor/{+path}", Errors.allow("GET"));
    }

    /** The page, its file links under this start's version prefix when the files come from the jar. */
    private void page(ServerRequest req, ServerResponse res) {
        Optional<Resource> page = web("index.html");
        if (version != null) {
            page = page.map(r -> new Resource(r.path(), new String(r.bytes(), StandardCharsets.UTF_8)
                    .replace("\"/static/", "\"/static/" + version + "/").getBytes(StandardCharsets.UTF_8)));
        }
        serve(req, res, page);
    }

    /** A dashboard file; under a version prefix (this start's, or an older page's) it is the current file. */
    private void file(ServerRequest req, ServerResponse res) {
        String path = rest(req);
        boolean current = false;
        if (path.startsWith(VERSION_MARK) && path.indexOf('/') > 0) {
            current = path.substring(0, path.indexOf('/')).equals(version);
            path = path.substring(path.indexOf('/') + 1);
        }
        Optional<Resource> found = web(path);
        if (current && found.isPresent()) {
            res.header(HeaderNames.CACHE_CONTROL, IMMUTABLE);
        }
        serve(req, res, found);
    }

    private static String rest(ServerRequest req) {
        String path = req.path().pathParameters().get("path");
        if (path.contains("..") || path.contains("\\") || path.startsWith("/")) {
            throw ApiException.notFound("no such file: " + path);
        }
        return path;
    }

    private Optional<Resource> web(String path) {
        if (webDir == null) {
            return classpath("web/" + path);
        }
        Path file = webDir.resolve(path).normalize();
        if (!file.startsWith(webDir) || !Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(new Resource(path, Files.readAllBytes(file)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Optional<Resource> classpath(String path) {
        return classpathCache.computeIfAbsent(path, StaticFiles::load).map(b -> new Resource(path, b));
    }

    private static Optional<byte[]> load(String path) {
        try (InputStream in = StaticFiles.class.getClassLoader().getResourceAsStream(path)) {
            return in == null ? Optional.empty() : Optional.of(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void serve(ServerRequest req, ServerResponse res, Optional<Resource> resource) {
        Resource r = resource.orElseThrow(() -> ApiException.notFound("no such file"));
        String ext = r.path().substring(r.path().lastIndexOf('.') + 1);
        res.header(HeaderNames.CONTENT_TYPE, TYPES.getOrDefault(ext, "application/octet-stream"));
        // HttpGuard made every answer no-store; a versioned file has said immutable already
        if (!res.headers().first(HeaderNames.CACHE_CONTROL).map(IMMUTABLE::equals).orElse(false)) {
            res.header(HeaderNames.CACHE_CONTROL, r.path().startsWith("META-INF/") ? "max-age=86400" : "no-cache");
        }
        res.header("X-Content-Type-Options", "nosniff");
        if (ext.equals("html")) {
            // not no-referrer on the page: with it the browser sends "Origin: null" on the page's own writes,
            // which the cookie's Origin check refuses; same-origin still sends no referrer to other sites
            res.header("Referrer-Policy", "same-origin");
        }
        if (WITH_CSP.contains(ext)) {
            res.header("Content-Security-Policy", CSP);
        }
        String etag = etag(r.bytes());
        res.header(HeaderNames.ETAG, etag);
        if (req.headers().first(HeaderNames.IF_NONE_MATCH).map(v -> v.contains(etag)).orElse(false)) {
            res.status(Status.NOT_MODIFIED_304).send();
            return;
        }
        res.send(r.bytes());
    }

    /** A strong validator from the content (files are small; a CRC and the length are enough to tell versions apart). */
    private static String etag(byte[] bytes) {
        CRC32 crc = new CRC32();
        crc.update(bytes);
        return "\"" + Long.toHexString(crc.getValue()) + "-" + Integer.toHexString(bytes.length) + "\"";
    }

    private record Resource(String path, byte[] bytes) {
    }
}
