package scorebook.server;

import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.HttpException;
import io.helidon.http.Status;
import io.helidon.webserver.http.DirectHandlers;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerResponse;

/**
 * Makes every error, from a handler or from Helidon itself, the JSON envelope
 * {@code {"ok": false, "detail": M, "error": {"code": C, "message": M}}}.
 */
public final class Errors {
    private static final Logger LOG = Logger.getLogger(Errors.class.getName());

    private Errors() {
    }

    /** Error handlers for the routing: our exceptions, Helidon's HTTP exceptions, and the unexpected. */
    public static void register(HttpRouting.Builder routing) {
        routing.error(ApiException.class, (req, res, e) -> send(res, e.status(), e.code(), e.getMessage()))
                .error(HttpException.class, (req, res, e) -> send(res, e.status(), codeFor(e.status()),
                        e.status().code() == 404 ? "no such endpoint: " + req.prologue().method().text() + " "
                                + req.path().rawPath() : messageOf(e)))
                .error(Throwable.class, (req, res, e) -> {
                    if (isFraming(e)) {
                        // the body's chunked framing broke while a handler read it: what follows cannot be trusted
                        res.header(HeaderValues.CONNECTION_CLOSE);
                        send(res, Status.BAD_REQUEST_400, "bad_request", "the chunked request body is malformed"
                                + " (a chunk size must be a hex number below 2^31); the connection is closed");
                        return;
                    }
                    LOG.log(Level.SEVERE, "unexpected error on " + req.prologue().method().text() + " " + req.path().rawPath(), e);
                    send(res, Status.INTERNAL_SERVER_ERROR_500, "internal", "internal error; the server log has details");
                });
    }

    /** A handler for a known path reached with a method it does not take; HEAD is allowed wherever GET is. */
    public static Handler allow(String listed) {
        String methods = listed.contains("GET") && !listed.contains("HEAD") ? listed.replace("GET", "GET, HEAD") : listed;
        return (req, res) -> {
            res.header(HeaderNames.ALLOW, methods);
            send(res, Status.METHOD_NOT_ALLOWED_405, "method_not_allowed",
                    req.prologue().method().text() + " is not allowed on " + req.path().rawPath() + "; allowed: " + methods);
        };
    }

    /**
     * Errors Helidon answers before routing (body too large, broken framing, unparsable request line, HTTP/1.0)
     * are JSON too, with the same security headers; Helidon closes the connection after them.
     */
    public static DirectHandlers directHandlers() {
        DirectHandler json = (request, eventType, status, headers, message) -> {
            // a transfer coding other than chunked alone is a framing the server does not read: 400 as for any other
            Status answer = status.code() == 501 ? Status.BAD_REQUEST_400 : status;
            return DirectHandler.TransportResponse.builder()
                    .status(answer)
                    .headers(headers)
                    .header(HeaderNames.CONTENT_TYPE, "application/json")
                    .header(HeaderNames.CACHE_CONTROL, "no-store")
                    .header(HeaderNames.create("X-Content-Type-Options"), "nosniff")
                    .header(HeaderNames.create("Referrer-Policy"), "no-referrer")
                    .header(HeaderNames.create("X-Frame-Options"), "DENY")
                    .entity(Json.bytes(envelope(codeFor(answer), directMessage(status, message))))
                    .build();
        };
        DirectHandlers.Builder builder = DirectHandlers.builder();
        for (DirectHandler.EventType type : DirectHandler.EventType.values()) {
            builder.addHandler(type, json);
        }
        return builder.build();
    }

    public static void send(ServerResponse res, Status status, String code, String message) {
        if (res.isSent()) {
            return;
        }
        Json.send(res, status, envelope(code, message));
    }

    /** The envelope; a message is never longer than {@link Clip#MAX_MESSAGE} characters, whatever it quotes. */
    public static Map<String, Object> envelope(String code, String message) {
        String text = Clip.message(message);
        return Json.fields("ok", false, "detail", text, "error", Json.fields("code", code, "message", text));
    }

    private static String messageOf(HttpException e) {
        return safe(e.getMessage(), e.status());
    }

    private static String directMessage(Status status, String message) {
        return switch (status.code()) {
            case 413 -> "request body is larger than the server's limit";
            case 501 -> "unsupported Transfer-Encoding: only 'chunked' alone is accepted; the connection is closed";
            case 505 -> "HTTP/1.0 is not supported: send HTTP/1.1";
            case 400 -> message == null || message.isBlank() || message.startsWith("Bad request, see server log")
                    ? "the request is malformed (its request line, percent-encoding, headers or framing); the connection is closed"
                    : "the request is malformed: " + message + "; the connection is closed";
            default -> safe(message, status);
        };
    }

    /** An exception thrown while Helidon's HTTP/1 connection read the request body, i.e. the client's framing. */
    private static boolean isFraming(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof NumberFormatException || t instanceof IllegalArgumentException) {
                for (StackTraceElement frame : t.getStackTrace()) {
                    if (frame.getClassName().equals("io.helidon.webserver.http1.Http1Connection")
                            && frame.getMethodName().equals("readNextChunk")) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private static String safe(String message, Status status) {
        return message == null || message.isBlank() ? status.reasonPhrase() : message;
    }

    static String codeFor(Status status) {
        return switch (status.code()) {
            case 400 -> "bad_request";
            case 401 -> "unauthorized";
            case 403 -> "forbidden";
            case 404 -> "not_found";
            case 405 -> "method_not_allowed";
            case 409 -> "conflict";
            case 413 -> "too_large";
            case 415 -> "unsupported_media_type";
            case 422 -> "invalid";
            case 502 -> "bad_gateway";
            case 503 -> "unavailable";
            case 505 -> "http_version_not_supported";
            default -> status.code() >= 500 ? "internal" : "error";
        };
    }
}
