package scorebook.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One TCP connection to a server, written and read byte by byte, for requests no HTTP client would send
 * (broken framing, HEAD, HTTP/1.0) and to see exactly what comes back: every header, the body bytes as
 * framed, and whether the server closed the connection.
 */
public final class RawHttp implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;

    public RawHttp(int port) {
        try {
            socket = new Socket("127.0.0.1", port);
            socket.setSoTimeout(10_000);
            in = socket.getInputStream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One answer: status, headers (lower-case names) and the body as its framing delimits it. */
    public record Answer(int status, Map<String, String> headers, String body) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /** Writes raw bytes (the server may already have closed: that is then seen when reading). */
    public RawHttp send(String text) {
        return send(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    public RawHttp send(byte[] bytes) {
        try {
            socket.getOutputStream().write(bytes);
            socket.getOutputStream().flush();
        } catch (IOException closedEarly) {
            // the server answered and closed before taking everything: the answer is still there to read
        }
        return this;
    }

    /** Reads one answer; {@code head} says it answers a HEAD request, so no body follows whatever the headers say. */
    public Answer read(boolean head) {
        String statusLine = line();
        if (statusLine == null) {
            throw new AssertionError("the server closed the connection without an answer");
        }
        int status = Integer.parseInt(statusLine.split(" ")[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (String l = line(); l != null && !l.isEmpty(); l = line()) {
            int colon = l.indexOf(':');
            headers.put(l.substring(0, colon).trim().toLowerCase(Locale.ROOT), l.substring(colon + 1).trim());
        }
        String body = "";
        if (!head && status >= 200 && status != 204 && status != 304) {
            if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
                body = chunked();
            } else if (headers.containsKey("content-length")) {
                body = new String(bytes(Integer.parseInt(headers.get("content-length"))), StandardCharsets.UTF_8);
            }
        }
        return new Answer(status, headers, body);
    }

    public Answer read() {
        return read(false);
    }

    /** True when the server closed the connection (end of stream) within the socket timeout, false when it stays open. */
    public boolean closedByServer() {
        try {
            return in.read() == -1;
        } catch (SocketTimeoutException stillOpen) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    /** Whatever the server sends until it closes or goes quiet for {@code millis}. */
    public String rest(int millis) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            socket.setSoTimeout(millis);
            for (int b = in.read(); b != -1; b = in.read()) {
                out.write(b);
            }
        } catch (IOException quietOrReset) {
            // what came so far is the answer
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private String chunked() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (true) {
            int size = Integer.parseInt(line().trim(), 16);
            if (size == 0) {
                line();
                return out.toString(StandardCharsets.UTF_8);
            }
            out.writeBytes(bytes(size));
            line();
        }
    }

    private byte[] bytes(int n) {
        try {
            byte[] b = in.readNBytes(n);
            if (b.length < n) {
                throw new AssertionError("the body ended after " + b.length + " of " + n + " bytes");
            }
            return b;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String line() {
        StringBuilder sb = new StringBuilder();
        try {
            for (int b = in.read(); ; b = in.read()) {
                if (b == -1) {
                    return sb.isEmpty() ? null : sb.toString();
                }
                if (b == '\n') {
                    int len = sb.length();
                    return len > 0 && sb.charAt(len - 1) == '\r' ? sb.substring(0, len - 1) : sb.toString();
                }
                sb.append((char) b);
            }
        } catch (IOException e) {
            if (sb.isEmpty()) {
                return null;
            }
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }
}
