package scorebook.server;

import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
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
                    LOG.log(Level.SEVERE, "unexpected error on " + req.prologue().method().text() + " " + req.path().rawPath(), e);
                    send(res, Status.INTERNAL_SERVER_ERROR_500, "internal", "internal error; the server log has details");
                });
    }

    /** A handler for a known path reached with a method it does not take. */
    public static Handler allow(String methods) {
        return (req, res) -> {
            res.header(HeaderNames.ALLOW, methods);
            send(res, Status.METHOD_NOT_ALLOWED_405, "method_not_allowed",
                    req.prologue().method().text() + " is not allowed on " + req.path().rawPath() + "; allowed: " + methods);
        };
    }

    /** Errors Helidon answers before routing (body too large, unparsable request line) are JSON too. */
    public static DirectHandlers directHandlers() {
        DirectHandler json = (request, eventType, status, headers, message) -> {
            String text = status.code() == 413 ? "request body is larger than the server's limit" : safe(message, status);
            return DirectHandler.TransportResponse.builder()
                    .status(status)
                    .headers(headers)
                    .header(HeaderNames.CONTENT_TYPE, "application/json")
                    .entity(Json.bytes(envelope(codeFor(status), text)))
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

    public static Map<String, Object> envelope(String code, String message) {
        return Json.fields("ok", false, "detail", message, "error", Json.fields("code", code, "message", message));
    }

    private static String messageOf(HttpException e) {
        return safe(e.getMessage(), e.status());
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
            default -> status.code() >= 500 ? "internal" : "error";
        };
    }
}
