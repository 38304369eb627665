package scorebook.devices;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;

/**
 * Calls to model servers (through {@link Http11}: HTTP/1.1, kept-alive connections) and the rules for
 * reading their answers: a time limit over the whole call, at most {@link #MAX_BODY} bytes, lines
 * of at most {@link #MAX_LINE} bytes, JSON checked. Anything else is an {@link UpstreamException}.
 */
final class UpstreamHttp {
    static final int MAX_BODY = 16 * 1024 * 1024;
    static final int MAX_LINE = 1024 * 1024;
    private static final int MAX_ERROR_BODY = 64 * 1024;

    private UpstreamHttp() {
    }

    /** POSTs JSON and returns the open body; a non-2xx answer becomes an {@link UpstreamException}. */
    static Body post(URI uri, JsonNode body, long deadlineNs) throws UpstreamException {
        return open("POST", uri, Json.bytes(body), deadlineNs);
    }

    static Body get(URI uri, long deadlineNs) throws UpstreamException {
        return open("GET", uri, null, deadlineNs);
    }

    /** GETs a JSON document. */
    static JsonNode getJson(URI uri, Duration timeout) throws UpstreamException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Body b = get(uri, deadline)) {
            return b.json();
        }
    }

    private static Body open(String method, URI uri, byte[] payload, long deadlineNs) throws UpstreamException {
        Http11.Response res = Http11.exchange(method, uri, payload, deadlineNs);
        Body body = new Body(res.body(), uri);
        int status = res.status();
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

    static Duration remaining(long deadlineNs) {
        return Duration.ofNanos(Math.max(1_000_000, deadlineNs - System.nanoTime()));
    }

    /**
     * A response body read as it arrives, under the call's deadline (enforced by the connection)
     * and the size caps. Not thread-safe: one reader.
     */
    static final class Body implements AutoCloseable {
        private final InputStream in;
        private final URI uri;
        private final byte[] buf = new byte[4 * 1024];
        private int pos;
        private int end;
        private boolean ended;
        private long total;
        private byte[] line = new byte[1024];
        /** Handed to {@link #finishInBackground}: closing no longer applies. */
        private boolean released;

        Body(InputStream in, URI uri) {
            this.in = in;
            this.uri = uri;
        }

        /** Makes bytes available in the buffer; false at the end of the body. */
        private boolean fill() throws UpstreamException {
            if (pos < end) {
                return true;
            }
            if (ended) {
                return false;
            }
            int n;
            try {
                n = in.read(buf, 0, buf.length);
            } catch (SocketTimeoutException e) {
                close();
                throw new UpstreamException(UpstreamException.TIMEOUT, 0, "the answer from " + uri + " did not finish in time");
            } catch (IOException e) {
                close();
                throw new UpstreamException(UpstreamException.CONNECT, 0, "reading the answer from " + uri + " failed"
                        + (e.getMessage() == null ? "" : " (" + e.getMessage() + ")"));
            }
            if (n < 0) {
                ended = true;
                return false;
            }
            pos = 0;
            end = n;
            total += n;
            if (total > MAX_BODY) {
                close();
                throw new UpstreamException(UpstreamException.BAD, 0, "the answer from " + uri + " is larger than "
                        + MAX_BODY / (1024 * 1024) + " MiB");
            }
            return true;
        }

        /** The next line (without its end), or null at the end of the body. */
        String line() throws UpstreamException {
            int n = 0;
            while (true) {
                if (!fill()) {
                    return n == 0 ? null : new String(line, 0, n, StandardCharsets.UTF_8);
                }
                while (pos < end) {
                    byte c = buf[pos++];
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
                        line = Arrays.copyOf(line, Math.min(MAX_LINE, n * 2));
                    }
                    line[n++] = c;
                }
            }
        }

        /** The whole remaining body (at most {@code max} bytes, else 502). */
        byte[] bytes(int max) throws UpstreamException {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            while (fill()) {
                int len = end - pos;
                if (out.size() + len > max) {
                    close();
                    throw new UpstreamException(UpstreamException.BAD, 0, "the answer from " + uri + " is larger than "
                            + (max >= 1024 * 1024 ? max / (1024 * 1024) + " MiB" : max + " bytes"));
                }
                out.write(buf, pos, len);
                pos = end;
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

        /**
         * The caller has what it needs (the stream's end marker arrived): the rest of the body, normally only its
         * closing framing, is read in the background, so that the connection goes back to the pool instead of
         * being closed, without making the caller wait for it. A rest over 64 KiB costs the connection.
         */
        void finishInBackground() {
            if (ended) {
                return;
            }
            ended = true;
            released = true;
            Thread.ofVirtual().name("upstream-drain").start(() -> {
                byte[] scrap = new byte[8192];
                long read = 0;
                try {
                    int n;
                    while ((n = in.read(scrap, 0, scrap.length)) >= 0) {
                        read += n;
                        if (read > 64 * 1024) {
                            in.close();
                            return;
                        }
                    }
                } catch (IOException e) {
                    try {
                        in.close();
                    } catch (IOException ignored) {
                        // the connection is gone either way
                    }
                }
            });
        }

        /** Stops reading: a body not read to its end costs its connection. */
        @Override
        public void close() {
            if (released) {
                return;
            }
            ended = true;
            try {
                in.close();
            } catch (IOException e) {
                // nothing to do
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
