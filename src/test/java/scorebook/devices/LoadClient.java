package scorebook.devices;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;

/**
 * For the benchmarks: a light client (the gateway's own blocking HTTP/1.1 client) so that the load
 * generator takes as little of the machine's CPU as possible, for direct and gateway calls alike.
 */
public final class LoadClient {
    private static final OutputStream DISCARD = OutputStream.nullOutputStream();

    private LoadClient() {
    }

    /** GETs, reads the whole answer, returns the status. */
    public static int get(URI uri, String bearer) throws IOException {
        return post(uri, null, bearer);
    }

    /** POSTs JSON (GETs when {@code json} is null), reads the whole answer, returns the status. */
    public static int post(URI uri, byte[] json, String bearer) throws IOException {
        try {
            Http11.Response r = Http11.exchange(json == null ? "GET" : "POST", uri, json, bearer == null ? null : "Bearer " + bearer,
                    System.nanoTime() + 60_000_000_000L);
            try (InputStream in = r.body()) {
                in.transferTo(DISCARD);
            }
            return r.status();
        } catch (UpstreamException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** What reads an answer's body as it arrives. */
    public interface BodyReader {
        void read(InputStream body) throws IOException;
    }

    /** GETs and hands the body to {@code reader} as it streams in, on the calling thread; returns the status. */
    public static int get(URI uri, String bearer, BodyReader reader) throws IOException {
        try {
            Http11.Response r = Http11.exchange("GET", uri, null, bearer == null ? null : "Bearer " + bearer,
                    System.nanoTime() + 600_000_000_000L);
            try (InputStream in = r.body()) {
                reader.read(in);
            }
            return r.status();
        } catch (UpstreamException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** A status and the answer's text. */
    public record Answer(int status, String body) {
    }

    /** POSTs JSON and returns the status and the whole answer. */
    public static Answer exchange(URI uri, byte[] json, String bearer) throws IOException {
        try {
            Http11.Response r = Http11.exchange("POST", uri, json, bearer == null ? null : "Bearer " + bearer,
                    System.nanoTime() + 60_000_000_000L);
            try (InputStream in = r.body()) {
                return new Answer(r.status(), new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            }
        } catch (UpstreamException e) {
            throw new IOException(e.getMessage(), e);
        }
    }
}
