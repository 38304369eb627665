package scorebook.devices;

import io.helidon.http.Status;

import scorebook.server.ApiException;

/**
 * A model server call that failed: unreachable, too slow, an error status, or an answer that is
 * malformed or too large. The type is what usage rows record; {@link #toApi} is what clients see
 * (502, or 504 for a timeout).
 */
public final class UpstreamException extends Exception {
    /** Could not connect or the connection broke. */
    public static final String CONNECT = "connect_failed";
    /** No answer within the time limit. */
    public static final String TIMEOUT = "upstream_timeout";
    /** The server answered with an error status. */
    public static final String ERROR = "upstream_error";
    /** The answer was malformed or larger than the cap. */
    public static final String BAD = "bad_upstream";

    private final String type;
    private final int upstreamStatus;

    public UpstreamException(String type, int upstreamStatus, String message) {
        super(message, null, false, false);
        this.type = type;
        this.upstreamStatus = upstreamStatus;
    }

    public String type() {
        return type;
    }

    /** The status the model server answered with, or 0. */
    public int upstreamStatus() {
        return upstreamStatus;
    }

    /** Whether this failure says something about the device's health (a 4xx answer does not). */
    public boolean countsAgainstDevice() {
        return !ERROR.equals(type) || upstreamStatus >= 500 || upstreamStatus == 429;
    }

    /** The client-facing error for a call on device {@code serial}. */
    public ApiException toApi(String serial) {
        String message = "device '" + serial + "': " + getMessage();
        return TIMEOUT.equals(type)
                ? new ApiException(Status.GATEWAY_TIMEOUT_504, TIMEOUT, message)
                : new ApiException(Status.BAD_GATEWAY_502, type, message);
    }
}
