package scorebook.devices;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;

/**
 * The one HTTP client for model servers (HTTP/1.1, kept-alive connections) and the rules for
 * reading their answers: a time limit over the whole call, at most {@link #MAX_BODY} bytes, lines
 * of at most {@link #MAX_LINE} bytes, JSON checked. Anything else is an {@link UpstreamException}.
 */
final class UpstreamHttp {
    static final int MAX_BODY = 16 * 1024 * 1024;
    static final int MAX_LINE = 1024 * 1024;
    private static final int MAX_ERROR_BODY = 64 * 1024;

    static final HttpClient CLIENT = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER)
            .executor(Executors.newVirtualThreadPerTaskExecutor())
            .build();

    private UpstreamHttp() {
    }

    /** POSTs JSON and returns the open body; a non-2xx answer becomes an {@link UpstreamException}. */
    static Body post(URI uri, JsonNode body, long deadlineNs) throws UpstreamException {
        HttpRequest req = HttpRequest.newBuilder(uri)
                .timeout(remaining(deadlineNs))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(Json.bytes(body)))
                .build();
        return open(req, deadlineNs);
    }

    static Body get(URI uri, long deadlineNs) throws UpstreamException {
        return open(HttpRequest.newBuilder(uri).timeout(remaining(deadlineNs)).GET().build(), deadlineNs);
    }

    /** GETs a JSON document. */
    static JsonNode getJson(URI uri, Duration timeout) throws UpstreamException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Body b = get(uri, deadline)) {
            return b.json();
        }
    }

    private static Body open(HttpRequest req, long deadlineNs) throws UpstreamException {
        HttpResponse<Flow.Publisher<List<ByteBuffer>>> res;
        try {
            res = CLIENT.send(req, HttpResponse.BodyHandlers.ofPublisher());
        } catch (HttpTimeoutException e) {
            throw new UpstreamException(UpstreamException.TIMEOUT, 0, "no answer within " + seconds(req) + " from " + req.uri());
        } catch (ConnectException e) {
            throw new UpstreamException(UpstreamException.CONNECT, 0, "cannot connect to " + req.uri() + message(e));
        } catch (IOException e) {
            throw new UpstreamException(UpstreamException.CONNECT, 0, "connection to " + req.uri() + " failed" + message(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UpstreamException(UpstreamException.CONNECT, 0, "interrupted");
        }
        Body body = new Body(res.body(), deadlineNs, req.uri());
        int status = res.statusCode();
        if (status < 200 || status > 299) {
            String text;
            try {
                text = body.text(MAX_ERROR_BODY);
            } catch (UpstreamException e) {
                text = "";
            } finally {
                body.close();
            }
            throw new UpstreamException(UpstreamException.ERROR, status, "model server answered " + status + errorText(text));
        }
        return body;
    }

    private static String errorText(String text) {
        if (text.isBlank()) {
            return "";
        }
        try {
            JsonNode j = Json.MAPPER.readTree(text);
            JsonNode e = j.path("error");
            String m = e.isTextual() ? e.asText() : e.path("message").asText(j.path("detail").asText(""));
            if (!m.isBlank()) {
                return ": " + clip(m);
            }
        } catch (IOException e) {
            // not JSON: show the text
        }
        return ": " + clip(text.strip());
    }

    static String clip(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "…" : s;
    }

    private static String message(Exception e) {
        return e.getMessage() == null || e.getMessage().isBlank() ? "" : " (" + e.getMessage() + ")";
    }

    private static String seconds(HttpRequest req) {
        return req.timeout().map(d -> d.toMillis() / 1000.0 + " s").orElse("the time limit");
    }

    static Duration remaining(long deadlineNs) {
        return Duration.ofNanos(Math.max(1_000_000, deadlineNs - System.nanoTime()));
    }

    /**
     * A response body read as it arrives, under the call's deadline and the size caps. Not
     * thread-safe: one reader.
     */
    static final class Body implements Flow.Subscriber<List<ByteBuffer>>, AutoCloseable {
        private static final Object END = new Object();
        private final LinkedBlockingQueue<Object> arrived = new LinkedBlockingQueue<>();
        private final long deadlineNs;
        private final URI uri;
        private volatile Flow.Subscription subscription;
        private List<ByteBuffer> current = List.of();
        private int index;
        private boolean ended;
        private long total;
        private byte[] line = new byte[1024];

        Body(Flow.Publisher<List<ByteBuffer>> publisher, long deadlineNs, URI uri) {
            this.deadlineNs = deadlineNs;
            this.uri = uri;
            publisher.subscribe(this);
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> item) {
            arrived.add(item);
        }

        @Override
        public void onError(Throwable t) {
            arrived.add(t);
        }

        @Override
        public void onComplete() {
            arrived.add(END);
        }

        /** The next buffer with bytes left, or null at the end of the body. */
        private ByteBuffer buffer() throws UpstreamException {
            while (true) {
                while (index < current.size()) {
                    ByteBuffer b = current.get(index);
                    if (b.hasRemaining()) {
                        return b;
                    }
                    index++;
                }
                if (ended) {
                    return null;
                }
                Object next;
                try {
                    next = arrived.poll(Math.max(0, deadlineNs - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    close();
                    throw new UpstreamException(UpstreamException.CONNECT, 0, "interrupted");
                }
                if (next == null) {
                    close();
                    throw new UpstreamException(UpstreamException.TIMEOUT, 0, "the answer from " + uri + " did not finish in time");
                }
                if (next == END) {
                    ended = true;
                    continue;
                }
                if (next instanceof Throwable t) {
                    ended = true;
                    throw new UpstreamException(t instanceof InterruptedIOException ? UpstreamException.TIMEOUT : UpstreamException.CONNECT,
                            0, "reading the answer from " + uri + " failed" + (t.getMessage() == null ? "" : " (" + t.getMessage() + ")"));
                }
                @SuppressWarnings("unchecked")
                List<ByteBuffer> list = (List<ByteBuffer>) next;
                current = list;
                index = 0;
                for (ByteBuffer b : list) {
                    total += b.remaining();
                }
                if (total > MAX_BODY) {
                    close();
                    throw new UpstreamException(UpstreamException.BAD, 0, "the answer from " + uri + " is larger than "
                            + MAX_BODY / (1024 * 1024) + " MiB");
                }
                subscription.request(1);
            }
        }

        /** The next line (without its end), or null at the end of the body. */
        String line() throws UpstreamException {
            int n = 0;
            while (true) {
                ByteBuffer b = buffer();
                if (b == null) {
                    return n == 0 ? null : new String(line, 0, n, StandardCharsets.UTF_8);
                }
                while (b.hasRemaining()) {
                    byte c = b.get();
                    if (c == '\n') {
                        if (n > 0 && line[n - 1] == '\r') {
                            n--;
                        }
                        return new String(line, 0, n, StandardCharsets.UTF_8);
                    }
                    if (n == line.length) {
                        if (n >= MAX_LINE) {
                            close();
                            throw new UpstreamException(UpstreamException.BAD, 0, "the answer from " + uri
                                    + " has a line longer than " + MAX_LINE / 1024 + " KiB");
                        }
                        line = java.util.Arrays.copyOf(line, Math.min(MAX_LINE, n * 2));
                    }
                    line[n++] = c;
                }
            }
        }

        /** The whole remaining body (at most {@code max} bytes, else 502). */
        byte[] bytes(int max) throws UpstreamException {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            ByteBuffer b;
            while ((b = buffer()) != null) {
                int len = b.remaining();
                if (out.size() + len > max) {
                    close();
                    throw new UpstreamException(UpstreamException.BAD, 0, "the answer from " + uri + " is larger than "
                            + (max >= 1024 * 1024 ? max / (1024 * 1024) + " MiB" : max + " bytes"));
                }
                byte[] chunk = new byte[len];
                b.get(chunk);
                out.write(chunk, 0, len);
            }
            return out.toByteArray();
        }

        String text(int max) throws UpstreamException {
            return new String(bytes(max), StandardCharsets.UTF_8);
        }

        /** The whole body as JSON. */
        JsonNode json() throws UpstreamException {
            return parse(bytes(MAX_BODY), uri);
        }

        @Override
        public void close() {
            Flow.Subscription s = subscription;
            if (s != null && !ended) {
                ended = true;
                s.cancel();
            }
        }
    }

    /** Parses JSON from a model server: anything but a JSON object is malformed. */
    static JsonNode parse(byte[] bytes, URI uri) throws UpstreamException {
        try {
            JsonNode n = Json.MAPPER.readTree(bytes);
            if (n == null || !n.isObject()) {
                throw new UpstreamException(UpstreamException.BAD, 0, "the answer from " + uri + " is not a JSON object");
            }
            return n;
        } catch (IOException e) {
            throw new UpstreamException(UpstreamException.BAD, 0, "the answer from " + uri + " is malformed JSON");
        }
    }

    static JsonNode parse(String text, URI uri) throws UpstreamException {
        return parse(text.getBytes(StandardCharsets.UTF_8), uri);
    }
}
