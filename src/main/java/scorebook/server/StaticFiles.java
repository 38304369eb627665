package scorebook.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * The dashboard's files: {@code web/} from the jar (or from disk with {@code --web-dir}, so edits
 * show without a rebuild) and third-party scripts from WebJars under {@code /vendor/}.
 * <pre>
 * GET /                 web/index.html
 * GET /static/{path}    web/{path}
 * GET /vendor/{path}    META-INF/resources/webjars/{path}, e.g. /vendor/chart.js/4.5.1/dist/chart.js
 * </pre>
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

    private final Path webDir;
    private final Map<String, Optional<byte[]>> classpathCache = new ConcurrentHashMap<>();

    /** @param webDir the dashboard folder on disk, or null to serve the copy inside the jar */
    public StaticFiles(Path webDir) {
        this.webDir = webDir;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", (req, res) -> serve(res, web("index.html")))
                .get("/index.html", (req, res) -> serve(res, web("index.html")))
                .get("/static/{+path}", (req, res) -> serve(res, web(rest(req))))
                .get("/vendor/{+path}", (req, res) -> serve(res, classpath("META-INF/resources/webjars/" + rest(req))))
                .any("/", Errors.allow("GET"))
                .any("/index.html", Errors.allow("GET"))
                .any("/static/{+path}", Errors.allow("GET"))
                .any("/vendor/{+path}", Errors.allow("GET"));
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

    private static void serve(ServerResponse res, Optional<Resource> resource) {
        Resource r = resource.orElseThrow(() -> ApiException.notFound("no such file"));
        String ext = r.path().substring(r.path().lastIndexOf('.') + 1);
        res.header(HeaderNames.CONTENT_TYPE, TYPES.getOrDefault(ext, "application/octet-stream"));
        res.header(HeaderNames.CACHE_CONTROL, r.path().startsWith("META-INF/") ? "max-age=86400" : "no-cache");
        res.header("X-Content-Type-Options", "nosniff");
        if (ext.equals("html")) {
            // not no-referrer on the page: with it the browser sends "Origin: null" on the page's own writes,
            // which the cookie's Origin check refuses; same-origin still sends no referrer to other sites
            res.header("Referrer-Policy", "same-origin");
        }
        res.send(r.bytes());
    }

    private record Resource(String path, byte[] bytes) {
    }
}
