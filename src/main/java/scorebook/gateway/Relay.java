package scorebook.gateway;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.http.ServerResponse;

/**
 * A streamed response opened on its first event, so that a call failing before it sends anything
 * still gets a plain JSON error with the right status. Every event is flushed as it is written.
 */
final class Relay {
    private final ServerResponse res;
    private final String contentType;
    private OutputStream out;

    Relay(ServerResponse res, String contentType) {
        this.res = res;
        this.contentType = contentType;
    }

    boolean started() {
        return out != null;
    }

    void write(String text) throws IOException {
        write(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Writes and flushes; a client that went away is an IOException, whichever way the server reports it. */
    void write(byte[] bytes) throws IOException {
        try {
            if (out == null) {
                res.status(Status.OK_200);
                res.header(HeaderNames.CONTENT_TYPE, contentType);
                res.header(HeaderNames.CACHE_CONTROL, "no-cache");
                res.header("X-Accel-Buffering", "no");
                out = res.outputStream();
            }
            out.write(bytes);
            out.flush();
        } catch (UncheckedIOException | CloseConnectionException e) {
            throw new IOException("the client went away", e);
        }
    }

    /** Ends the response (the client may be gone: then there is nothing left to do). */
    void finish() {
        if (out != null) {
            try {
                out.close();
            } catch (IOException | RuntimeException e) {
                // the client went away
            }
        }
    }
}
