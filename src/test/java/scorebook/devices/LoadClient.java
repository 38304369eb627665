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
    private static final long CALL_NS = 60_000_000_000L;
    /** A streamed answer may run long: a 1,000,000-row export. */
    private static final long STREAM_NS = 600_000_000_000L;

    private LoadClient() {
    }

    /** What reads an answer's body as it arrives. */
    public interface BodyReader {
        void read(InputStream body) throws IOException;
    }

    /** A status and the answer's text. */
    public record Answer(int status, String body) {
    }

    /** GETs, reads the whole answer, returns the status. */
    public static int get(URI uri, String bearer) throws IOException {
        return post(uri, null, bearer);
    }

    /** GETs and hands the body to {@code reader} as it streams in, on the calling thread; returns the status. */
    public static int get(URI uri, String bearer, BodyReader reader) throws IOException {
        int[] status = new int[1];
        exchange("GET", uri, null, bearer, STREAM_NS, (s, in) -> {
            status[0] = s;
            reader.read(in);
        });
        return status[0];
    }

    /** POSTs JSON (GETs when {@code json} is null), reads the whole answer, returns the status. */
    public static int post(URI uri, byte[] json, String bearer) throws IOException {
        int[] status = new int[1];
        exchange(json == null ? "GET" : "POST", uri, json, bearer, CALL_NS, (s, in) -> {
            status[0] = s;
            in.transferTo(DISCARD);
        });
        return status[0];
    }

    /** POSTs JSON (GETs when {@code json} is null) and returns the status and the whole answer. */
    public static Answer exchange(URI uri, byte[] json, String bearer) throws IOException {
        Answer[] answer = new Answer[1];
        exchange(json == null ? "GET" : "POST", uri, json, bearer, CALL_NS, (s, in) ->
                answer[0] = new Answer(s, new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)));
        return answer[0];
    }

    private interface Reply {
        void read(int status, InputStream body) throws IOException;
    }

    /** One exchange on the gateway's client (a pooled connection, I/O on this thread); the body is closed after. */
    private static void exchange(String method, URI uri, byte[] json, String bearer, long deadlineNs, Reply reply)
            throws IOException {
        try {
            Http11.Response r = Http11.exchange(method, uri, json, bearer == null ? null : "Bearer " + bearer,
                    System.nanoTime() + deadlineNs);
            try (InputStream in = r.body()) {
                reply.read(r.status(), in);
            }
        } catch (UpstreamException e) {
            throw new IOException(e.getMessage(), e);
        }
    }
}
