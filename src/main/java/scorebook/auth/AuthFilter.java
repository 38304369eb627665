package scorebook.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;
import java.util.Set;

import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.helidon.webserver.http.ServerRequest;

import scorebook.server.ApiException;
import scorebook.server.Errors;
import scorebook.share.ShareService;

/**
 * Puts a {@link Principal} on every request that needs one, or answers 401/403. User endpoints take
 * a user token (X-User-Token or Bearer) or the dashboard cookie (with an Origin check on writes);
 * the gateway takes API keys (X-Api-Key or Bearer) and, for the dashboard's playground and warm-up, the
 * dashboard cookie under the same Origin check (never a user token: programs use keys).
 */
public final class AuthFilter implements Filter {
    static final String COOKIE = "scorebook_session";
    private static final HeaderName USER_TOKEN = HeaderNames.create("X-User-Token");
    private static final HeaderName API_KEY = HeaderNames.create("X-Api-Key");
    private static final Set<String> GATEWAY = Set.of("/ask", "/ask_stream", "/ask_batch", "/ask_trace", "/warmup");
    private static final Set<Method> SAFE = Set.of(Method.GET, Method.HEAD, Method.OPTIONS);

    /** Marks a request that showed the metrics token ({@code serve --metrics-token}): it may read /metrics only. */
    public record MetricsScrape() {
        /** Whether the auth filter let this request in with the metrics token. */
        public static boolean of(ServerRequest req) {
            return req.context().get(MetricsScrape.class, MetricsScrape.class).isPresent();
        }
    }

    private final AuthStore store;
    /** The bytes of the metrics token, or null when none was given. */
    private final byte[] metricsToken;
    /** The origin users reach the server at behind a reverse proxy (--public-url), or null. */
    private final String publicOrigin;

    /**
     * {@code publicOrigin}: the origin of {@code --public-url}, which the Origin check accepts besides the Host the
     * request names; {@code metricsToken}: the token a Prometheus scraper sends for /metrics (Authorization: Bearer).
     * Either may be null.
     */
    public AuthFilter(AuthStore store, String publicOrigin, String metricsToken) {
        this.store = store;
        this.publicOrigin = publicOrigin;
        this.metricsToken = metricsToken == null ? null : metricsToken.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        String path = req.path().path();
        try {
            // a share link's reads carry their token in the path (the share feature checks it) and are rerouted to
            // the features' endpoints with the link's user already attached
            boolean shared = isSharedRead(path, req.prologue().method())
                    || req.context().get(ShareService.SharedRead.class, ShareService.SharedRead.class).isPresent();
            if (isMetrics(path) && showsMetricsToken(req)) {
                req.context().register(MetricsScrape.class, new MetricsScrape());
            } else if (!isPublic(path) && !isDevice(path) && !shared) {
                Principal p = isGateway(path) ? apiKey(req) : user(req);
                req.context().register(Principal.class, p);
            }
        } catch (ApiException e) {
            if (e.status().code() == 401) {
                res.header(HeaderNames.WWW_AUTHENTICATE, "Bearer");
            }
            Errors.send(res, e.status(), e.code(), e.getMessage());
            return;
        }
        chain.proceed();
    }

    /**
     * The health check, the API's OpenAPI document, and the dashboard's static shell (it holds no data; its API
     * calls need a login). Any method: these routes take GET only and answer 405 to the others, credential or not.
     */
    static boolean isPublic(String path) {
        return path.equals("/health") || path.equals("/openapi.json") || path.equals("/") || path.equals("/index.html")
                || path.equals("/favicon.ico") || path.startsWith("/static/") || path.startsWith("/vendor/");
    }

    /** Agents' calls: the jobs feature checks their device token (X-Device-Token) itself. */
    static boolean isDevice(String path) {
        return path.startsWith("/worker/") || path.startsWith("/devices/") && path.endsWith("/heartbeat")
                && path.indexOf('/', "/devices/".length()) == path.length() - "/heartbeat".length();
    }

    /**
     * Under /share/{token} the token is the credential (the share feature checks it; its reads are GET only and
     * anything else is 405), except revoking a link, DELETE /share/{token}, which takes its user; so is /s/{token},
     * a link's short form.
     */
    static boolean isSharedRead(String path, Method method) {
        return path.startsWith("/share/") && !(method == Method.DELETE && path.indexOf('/', "/share/".length()) < 0)
                || path.startsWith("/s/");
    }

    /** Metrics: the owner's credentials or the metrics token. */
    static boolean isMetrics(String path) {
        return path.equals("/metrics") || path.equals("/metrics/summary");
    }

    private boolean showsMetricsToken(RoutingRequest req) {
        return metricsToken != null && bearer(req)
                .map(t -> MessageDigest.isEqual(t.getBytes(StandardCharsets.UTF_8), metricsToken))
                .orElse(false);
    }

    static boolean isGateway(String path) {
        return GATEWAY.contains(path) || path.equals("/v1") || path.startsWith("/v1/");
    }

    private Principal apiKey(RoutingRequest req) {
        Optional<String> key = header(req, API_KEY).or(() -> bearer(req));
        if (key.isEmpty() && req.headers().cookies().contains(COOKIE)) {
            return session(req);
        }
        return store.byApiKey(key.orElseThrow(() -> ApiException.unauthorized("an API key is required (X-Api-Key or Authorization: Bearer)")))
                .orElseThrow(() -> ApiException.unauthorized("unknown or revoked API key"));
    }

    private Principal user(RoutingRequest req) {
        Optional<String> token = header(req, USER_TOKEN).or(() -> bearer(req));
        if (token.isPresent()) {
            return store.byUserToken(token.get()).orElseThrow(() -> ApiException.unauthorized("unknown user token"));
        }
        if (!req.headers().cookies().contains(COOKIE)) {
            throw ApiException.unauthorized("a user token is required (X-User-Token or Authorization: Bearer), "
                    + "or log in to the dashboard with /?token=YOUR_TOKEN");
        }
        return session(req);
    }

    /** The dashboard's login cookie; a write must also carry this server's Origin. */
    private Principal session(RoutingRequest req) {
        Principal p = store.bySession(req.headers().cookies().first(COOKIE).get())
                .orElseThrow(() -> ApiException.unauthorized("the login session has expired; log in again with /?token=YOUR_TOKEN"));
        if (!SAFE.contains(req.prologue().method())) {
            checkOrigin(req);
        }
        return p;
    }

    /** A cookie rides along on cross-site requests too; a write must come from the dashboard's own origin. */
    private void checkOrigin(RoutingRequest req) {
        String origin = header(req, HeaderNames.ORIGIN)
                .orElseThrow(() -> ApiException.forbidden("cookie-authenticated writes need an Origin header"));
        String host = header(req, HeaderNames.HOST).orElse("");
        // behind a proxy that rewrites Host, the browser's origin is the public address, not the Host that arrives
        if (!origin.equals("http://" + host) && !origin.equals("https://" + host) && !origin.equalsIgnoreCase(publicOrigin)) {
            throw ApiException.forbidden("cross-origin request refused: Origin " + origin + " is not this server");
        }
    }

    private static Optional<String> header(RoutingRequest req, HeaderName name) {
        return req.headers().first(name).map(String::trim).filter(v -> !v.isEmpty());
    }

    private static Optional<String> bearer(RoutingRequest req) {
        return header(req, HeaderNames.AUTHORIZATION)
                .filter(v -> v.regionMatches(true, 0, "Bearer ", 0, 7))
                .map(v -> v.substring(7).trim())
                .filter(v -> !v.isEmpty());
    }
}
