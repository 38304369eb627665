package scorebook.server;

import java.io.OutputStream;

import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.HttpPrologue;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.helidon.webserver.http.ServerResponse;

/**
 * The HTTP rules Helidon's connection leaves to the application, applied in front of every route
 * (docs/hardening.md has the why):
 * <ul>
 * <li>every answer carries {@code X-Content-Type-Options: nosniff}, {@code Referrer-Policy: no-referrer} (the
 * dashboard's pages say same-origin: see StaticFiles) and {@code X-Frame-Options: DENY}; answers are {@code Cache-Control: no-store} unless a route says otherwise
 * (static files do), so a token, key or run never sits in a shared cache;</li>
 * <li>a path or query whose %XX bytes are not UTF-8 is a 400 (Helidon would decode them to U+FFFD);</li>
 * <li>{@code HEAD} is served wherever {@code GET} is, by the GET route, without its body;</li>
 * <li>{@code Connection: close} from the client, or on an answer (a broken chunked body), closes the connection
 * once the answer is out.</li>
 * </ul>
 */
public final class HttpGuard implements Filter {
    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        securityHeaders(res);
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        HttpPrologue prologue = req.prologue();
        if (!Utf8.percentDecodesToText(prologue.uriPath().rawPath()) || !Utf8.percentDecodesToText(prologue.query().rawValue())) {
            // Helidon decodes such bytes to U+FFFD: a name looked up or deleted would not be the one sent
            Errors.send(res, Status.BAD_REQUEST_400, "bad_request",
                    "the URL's percent-encoding does not decode to UTF-8 text (e.g. %C0%AF or a cut sequence)");
            return;
        }
        if (prologue.method() == Method.HEAD) {
            req.prologue(HttpPrologue.create(prologue.rawProtocol(), prologue.protocol(), prologue.protocolVersion(),
                    Method.GET, prologue.uriPath(), prologue.query(), prologue.fragment()));
            res.streamFilter(body -> OutputStream.nullOutputStream());
        }
        chain.proceed();
        if (req.headers().containsToken(HeaderValues.CONNECTION_CLOSE)
                || res.headers().containsToken(HeaderValues.CONNECTION_CLOSE)) {
            // Helidon answers "Connection: close" but would then wait for a next request on the connection
            throw new CloseConnectionException("the client or the answer asked to close the connection");
        }
    }

    /** The headers every answer carries, errors answered before routing included. */
    static void securityHeaders(ServerResponse res) {
        res.header("X-Content-Type-Options", "nosniff");
        res.header("Referrer-Policy", "no-referrer");
        res.header("X-Frame-Options", "DENY");
    }
}
