package scorebook.server;

import io.helidon.http.Status;

/**
 * A request that cannot be served, carrying the status, a stable code and a message that names
 * the field and what was wrong. {@link Errors} turns it into the JSON error envelope.
 */
public class ApiException extends RuntimeException {
    private final Status status;
    private final String code;

    public ApiException(Status status, String code, String message) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
    }

    public Status status() {
        return status;
    }

    public String code() {
        return code;
    }

    public static ApiException badRequest(String message) {
        return new ApiException(Status.BAD_REQUEST_400, "bad_request", message);
    }

    public static ApiException invalid(String message) {
        return new ApiException(Status.UNPROCESSABLE_CONTENT_422, "invalid", message);
    }

    public static ApiException notFound(String message) {
        return new ApiException(Status.NOT_FOUND_404, "not_found", message);
    }

    public static ApiException conflict(String message) {
        return new ApiException(Status.CONFLICT_409, "conflict", message);
    }

    public static ApiException unauthorized(String message) {
        return new ApiException(Status.UNAUTHORIZED_401, "unauthorized", message);
    }

    public static ApiException forbidden(String message) {
        return new ApiException(Status.FORBIDDEN_403, "forbidden", message);
    }
}
