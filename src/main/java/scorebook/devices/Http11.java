package scorebook.devices;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Deque;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;

import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * A small blocking HTTP/1.1 client for model servers, made for virtual threads: one request per
 * pooled keep-alive connection at a time, the caller's thread does the I/O (no selector thread, no
 * hand-offs), every read bounded by the call's deadline. It knows Content-Length, chunked and
 * read-to-close bodies, and retries once on a fresh connection when a pooled one turns out to be
 * closed before any answer arrived. The JDK's {@code java.net.http.HttpClient} did the same job at
 * about twice the CPU per call, which the gateway's overhead budget could not afford.
 */
final class Http11 {
    private static final int MAX_HEAD = 64 * 1024;
    private static final int MAX_IDLE_PER_HOST = 256;
    private static final long IDLE_MAX_NS = 30_000_000_000L;
    private static final int CONNECT_TIMEOUT_MS = 5_000;
    private static final Map<String, Deque<Conn>> IDLE = new ConcurrentHashMap<>();

    private Http11() {
    }

    /** An answer whose body is read from {@link #body}; closing it early discards the connection. */
    record Response(int status, Map<String, String> headers, InputStream body) {
    }

    /** Sends one request and reads the answer's head. */
    static Response exchange(String method, URI uri, byte[] body, long deadlineNs) throws UpstreamException {
        return exchange(method, uri, body, null, deadlineNs);
    }

    /** The same with an Authorization header value (or null). */
    static Response exchange(String method, URI uri, byte[] body, String authorization, long deadlineNs) throws UpstreamException {
        boolean tls = "https".equalsIgnoreCase(uri.getScheme());
        String host = uri.getHost();
        int port = uri.getPort() > 0 ? uri.getPort() : tls ? 443 : 80;
        String key = (tls ? "s:" : "p:") + host + ":" + port;
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        if (uri.getRawQuery() != null) {
            path += "?" + uri.getRawQuery();
        }
        byte[] head = head(method, path, host, port, tls, body, authorization);
        for (int attempt = 0; ; attempt++) {
            Conn c = idle(key);
            boolean reused = c != null;
            if (c == null) {
                c = connect(uri, host, port, tls, deadlineNs);
            }
            boolean sent = false;
            try {
                c.timeout(timeoutMs(deadlineNs, uri));
                c.out.write(head);
                if (body != null) {
                    c.out.write(body);
                }
                c.out.flush();
                sent = true;
                return readHead(c, key, method, deadlineNs, uri);
            } catch (StaleConnection e) {
                // closed by the server while idle: it never saw this request
                c.close();
                if (!reused || attempt > 0) {
                    throw new UpstreamException(UpstreamException.CONNECT, 0, "the connection to " + uri + " closed before an answer");
                }
            } catch (SocketTimeoutException e) {
                c.close();
                throw new UpstreamException(UpstreamException.TIMEOUT, 0, "no answer in time from " + uri);
            } catch (IOException e) {
                c.close();
                // a request that may have reached the server is not sent twice
                if (!reused || attempt > 0 || sent) {
                    throw new UpstreamException(UpstreamException.CONNECT, 0, "connection to " + uri + " failed" + message(e));
                }
            }
        }
    }

    private static byte[] head(String method, String path, String host, int port, boolean tls, byte[] body, String authorization) {
        StringBuilder h = new StringBuilder(160);
        h.append(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: ").append(host);
        if (port != (tls ? 443 : 80)) {
            h.append(':').append(port);
        }
        h.append("\r\nUser-Agent: scorebook\r\nAccept: application/json, text/event-stream, application/x-ndjson\r\n");
        if (authorization != null) {
            h.append("Authorization: ").append(authorization).append("\r\n");
        }
        if (body != null) {
            h.append("Content-Type: application/json\r\nContent-Length: ").append(body.length).append("\r\n");
        }
        h.append("\r\n");
        return h.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    private static Conn idle(String key) {
        Deque<Conn> q = IDLE.get(key);
        if (q == null) {
            return null;
        }
        Conn c;
        while ((c = q.pollFirst()) != null) {
            if (System.nanoTime() - c.idleSince < IDLE_MAX_NS && !c.socket.isClosed()) {
                return c;
            }
            c.close();
        }
        return null;
    }

    private static void release(String key, Conn c) {
        Deque<Conn> q = IDLE.computeIfAbsent(key, k -> new ConcurrentLinkedDeque<>());
        if (q.size() >= MAX_IDLE_PER_HOST) {
            c.close();
            return;
        }
        c.idleSince = System.nanoTime();
        q.addFirst(c);
    }

    private static Conn connect(URI uri, String host, int port, boolean tls, long deadlineNs) throws UpstreamException {
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.connect(new InetSocketAddress(host, port), Math.min(CONNECT_TIMEOUT_MS, timeoutMs(deadlineNs, uri)));
            if (tls) {
                SSLSocket ssl = (SSLSocket) ((SSLSocketFactory) SSLSocketFactory.getDefault()).createSocket(s, host, port, true);
                SSLParameters p = ssl.getSSLParameters();
                p.setEndpointIdentificationAlgorithm("HTTPS");
                ssl.setSSLParameters(p);
                ssl.setSoTimeout(timeoutMs(deadlineNs, uri));
                ssl.startHandshake();
                s = ssl;
            }
            return new Conn(s);
        } catch (ConnectException e) {
            close(s);
            throw new UpstreamException(UpstreamException.CONNECT, 0, "cannot connect to " + uri + message(e));
        } catch (SocketTimeoutException e) {
            close(s);
            throw new UpstreamException(UpstreamException.CONNECT, 0, "cannot connect to " + uri + " (timed out)");
        } catch (IOException e) {
            close(s);
            throw new UpstreamException(UpstreamException.CONNECT, 0, "cannot connect to " + uri + message(e));
        }
    }

    private static Response readHead(Conn c, String key, String method, long deadlineNs, URI uri) throws IOException, UpstreamException {
        while (true) {
            int[] used = {0};
            String status = line(c.in, used, true);
            if (!status.startsWith("HTTP/1.")) {
                throw new UpstreamException(UpstreamException.BAD, 0, uri + " did not answer HTTP/1.x");
            }
            int code;
            try {
                code = Integer.parseInt(status.substring(9, 12));
            } catch (RuntimeException e) {
                throw new UpstreamException(UpstreamException.BAD, 0, uri + " sent a malformed status line");
            }
            boolean http10 = status.startsWith("HTTP/1.0");
            Map<String, String> headers = new HashMap<>();
            String h;
            while (!(h = line(c.in, used, false)).isEmpty()) {
                int colon = h.indexOf(':');
                if (colon > 0) {
                    headers.merge(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim(),
                            (a, b) -> a + ", " + b);
                }
            }
            if (code >= 100 && code < 200) {
                continue; // 100 Continue and friends come before the real answer
            }
            String connection = headers.getOrDefault("connection", "").toLowerCase(Locale.ROOT);
            boolean keepAlive = http10 ? connection.contains("keep-alive") : !connection.contains("close");
            InputStream body;
            String te = headers.getOrDefault("transfer-encoding", "").toLowerCase(Locale.ROOT);
            if ("HEAD".equals(method) || code == 204 || code == 304) {
                body = new Framed(c, key, keepAlive, deadlineNs, uri, 0);
            } else if (te.contains("chunked")) {
                body = new Chunked(c, key, keepAlive, deadlineNs, uri);
            } else if (headers.containsKey("content-length")) {
                long len;
                try {
                    len = Long.parseLong(headers.get("content-length"));
                } catch (NumberFormatException e) {
                    throw new UpstreamException(UpstreamException.BAD, 0, uri + " sent a malformed Content-Length");
                }
                body = new Framed(c, key, keepAlive, deadlineNs, uri, len);
            } else {
                body = new Framed(c, key, false, deadlineNs, uri, -1);
            }
            return new Response(code, headers, body);
        }
    }

    /** A head line in ISO-8859-1 without its CRLF; EOF before the first byte means the pooled connection was stale. */
    private static String line(InputStream in, int[] used, boolean first) throws IOException, UpstreamException {
        StringBuilder b = new StringBuilder(64);
        while (true) {
            int ch = in.read();
            if (ch < 0) {
                if (first && used[0] == 0) {
                    throw new StaleConnection();
                }
                throw new EOFException("the answer's head ended early");
            }
            if (++used[0] > MAX_HEAD) {
                throw new UpstreamException(UpstreamException.BAD, 0, "the answer's head is larger than " + MAX_HEAD / 1024 + " KiB");
            }
            if (ch == '\n') {
                int n = b.length();
                if (n > 0 && b.charAt(n - 1) == '\r') {
                    b.setLength(n - 1);
                }
                return b.toString();
            }
            b.append((char) ch);
        }
    }

    static int timeoutMs(long deadlineNs, URI uri) throws SocketTimeoutException {
        long left = (deadlineNs - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
            throw new SocketTimeoutException("deadline passed");
        }
        return (int) Math.min(Integer.MAX_VALUE, left);
    }

    private static String message(Exception e) {
        return e.getMessage() == null || e.getMessage().isBlank() ? "" : " (" + e.getMessage() + ")";
    }

    private static void close(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // nothing to do
        }
    }

    private static final class StaleConnection extends IOException {
        StaleConnection() {
            super("closed", null);
        }
    }

    /** A pooled connection. */
    private static final class Conn {
        final Socket socket;
        final InputStream in;
        final OutputStream out;
        long idleSince;
        /** The socket's read timeout as last set. */
        int soTimeoutMs;

        Conn(Socket socket) throws IOException {
            this.socket = socket;
            this.in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
            this.out = new BufferedOutputStream(socket.getOutputStream(), 8 * 1024);
        }

        void timeout(int ms) throws IOException {
            socket.setSoTimeout(ms);
            soTimeoutMs = ms;
        }

        /**
         * Keeps a read from blocking much past the deadline. The timeout set when the request went out only ever
         * makes a read late, by the time since; it is set again once that passes a tenth of it or a second (setting
         * it before every read was 4 % of a small exchange's CPU).
         */
        void timeoutBefore(long deadlineNs, URI uri) throws IOException {
            int left = timeoutMs(deadlineNs, uri);
            if (soTimeoutMs == 0 || soTimeoutMs - left > Math.min(1_000, soTimeoutMs / 10)) {
                timeout(left);
            }
        }

        void close() {
            Http11.close(socket);
        }
    }

    /** A Content-Length body (or read-to-close when the length is -1); the connection goes back to the pool at its end. */
    private static class Framed extends InputStream {
        final Conn conn;
        final String key;
        final boolean keepAlive;
        final long deadlineNs;
        final URI uri;
        long left;
        boolean done;

        Framed(Conn conn, String key, boolean keepAlive, long deadlineNs, URI uri, long length) {
            this.conn = conn;
            this.key = key;
            this.keepAlive = keepAlive;
            this.deadlineNs = deadlineNs;
            this.uri = uri;
            this.left = length;
            if (length == 0) {
                finish();
            }
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (done) {
                return -1;
            }
            conn.timeoutBefore(deadlineNs, uri);
            int want = left < 0 ? len : (int) Math.min(len, left);
            int n = conn.in.read(b, off, want);
            if (n < 0) {
                if (left < 0) {
                    done = true;
                    conn.close();
                    return -1;
                }
                throw new EOFException("the answer ended before its Content-Length");
            }
            if (left > 0) {
                left -= n;
                if (left == 0) {
                    finish();
                }
            }
            return n;
        }

        final void finish() {
            if (!done) {
                done = true;
                if (keepAlive) {
                    release(key, conn);
                } else {
                    conn.close();
                }
            }
        }

        @Override
        public void close() {
            if (!done) {
                done = true;
                conn.close();
            }
        }
    }

    /** A chunked body. */
    private static final class Chunked extends Framed {
        private long chunkLeft;

        Chunked(Conn conn, String key, boolean keepAlive, long deadlineNs, URI uri) {
            super(conn, key, keepAlive, deadlineNs, uri, -2);
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (done) {
                return -1;
            }
            conn.timeoutBefore(deadlineNs, uri);
            if (chunkLeft == 0) {
                String size = chunkLine();
                int semi = size.indexOf(';');
                try {
                    chunkLeft = Long.parseLong((semi >= 0 ? size.substring(0, semi) : size).trim(), 16);
                } catch (NumberFormatException e) {
                    throw new IOException("malformed chunk size");
                }
                if (chunkLeft == 0) {
                    while (!chunkLine().isEmpty()) {
                        // trailers
                    }
                    finish();
                    return -1;
                }
            }
            int n = conn.in.read(b, off, (int) Math.min(len, chunkLeft));
            if (n < 0) {
                throw new EOFException("the answer ended inside a chunk");
            }
            chunkLeft -= n;
            if (chunkLeft == 0) {
                chunkLine(); // the CRLF after the chunk
            }
            return n;
        }

        private String chunkLine() throws IOException {
            StringBuilder s = new StringBuilder(8);
            while (true) {
                int ch = conn.in.read();
                if (ch < 0) {
                    throw new EOFException("the answer ended inside its chunk framing");
                }
                if (ch == '\n') {
                    int n = s.length();
                    return n > 0 && s.charAt(n - 1) == '\r' ? s.substring(0, n - 1) : s.toString();
                }
                if (s.length() > 1024) {
                    throw new IOException("malformed chunk framing");
                }
                s.append((char) ch);
            }
        }
    }
}
