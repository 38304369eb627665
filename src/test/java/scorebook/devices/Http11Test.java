package scorebook.devices;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import org.junit.jupiter.api.Test;

import scorebook.testing.Wait;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The upstream HTTP client against a raw socket server that frames answers in every way HTTP/1.1 allows. */
class Http11Test {

    /** Serves each connection with {@code answer(requestNumber)} for every request on it, then maybe closes. */
    private static final class RawServer implements AutoCloseable {
        final ServerSocket socket;
        final AtomicInteger requests = new AtomicInteger();
        final AtomicInteger connections = new AtomicInteger();

        RawServer(Function<Integer, String> answer, boolean closeAfterEach) throws IOException {
            socket = new ServerSocket(0);
            Thread.ofVirtual().start(() -> {
                while (!socket.isClosed()) {
                    try {
                        Socket s = socket.accept();
                        connections.incrementAndGet();
                        Thread.ofVirtual().start(() -> serve(s, answer, closeAfterEach));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        private void serve(Socket s, Function<Integer, String> answer, boolean closeAfterEach) {
            try (s) {
                BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
                OutputStream out = s.getOutputStream();
                while (true) {
                    String line = in.readLine();
                    if (line == null) {
                        return;
                    }
                    int length = 0;
                    while (!(line = in.readLine()).isEmpty()) {
                        if (line.toLowerCase().startsWith("content-length:")) {
                            length = Integer.parseInt(line.substring(15).trim());
                        }
                    }
                    in.skip(length);
                    out.write(answer.apply(requests.incrementAndGet()).getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                    if (closeAfterEach) {
                        return;
                    }
                }
            } catch (IOException e) {
                // the client went away
            }
        }

        URI uri() {
            return URI.create("http://127.0.0.1:" + socket.getLocalPort() + "/x");
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static long deadline() {
        return System.nanoTime() + Wait.DEADLINE.toNanos();
    }

    private static String call(URI uri) throws UpstreamException {
        try (UpstreamHttp.Body b = UpstreamHttp.post(uri, scorebook.server.Json.MAPPER.createObjectNode(), deadline())) {
            return b.text(1 << 20);
        }
    }

    @Test
    void chunkedWithExtensionsAndTrailersThenKeepAlive() throws Exception {
        String chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5;name=x\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: 1\r\n\r\n";
        try (RawServer s = new RawServer(n -> chunked, false)) {
            assertEquals("hello world", call(s.uri()));
            assertEquals("hello world", call(s.uri()));
            assertEquals(1, s.connections.get(), "the connection was reused");
        }
    }

    @Test
    void aContinueBeforeTheAnswerAndAReadToCloseBody() throws Exception {
        try (RawServer s = new RawServer(n -> "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\nuntil close", true)) {
            assertEquals("until close", call(s.uri()));
            assertEquals("until close", call(s.uri()));
            assertEquals(2, s.connections.get());
        }
    }

    @Test
    void aPooledConnectionTheServerClosedIsReplacedOnce() throws Exception {
        // keep-alive is announced but the server closes after every answer: the next call finds a dead pooled connection
        try (RawServer s = new RawServer(n -> "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", true)) {
            for (int i = 0; i < 3; i++) {
                assertEquals("ok", call(s.uri()));
            }
            assertEquals(3, s.requests.get(), "no request was sent twice");
        }
    }

    @Test
    void errorsAndLinesAreReadWithinTheirCaps() throws Exception {
        try (RawServer s = new RawServer(n -> "HTTP/1.1 503 Busy\r\nContent-Length: 19\r\n\r\n{\"error\":\"loading\"}", false)) {
            UpstreamException e = assertThrows(UpstreamException.class, () -> call(s.uri()));
            assertEquals(503, e.upstreamStatus());
            assertTrue(e.getMessage().contains("answered 503: loading"), e.getMessage());
            assertTrue(e.countsAgainstDevice());
        }
        try (RawServer s = new RawServer(n -> "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\na\r\nb\nc", false)) {
            try (UpstreamHttp.Body b = UpstreamHttp.post(s.uri(), scorebook.server.Json.MAPPER.createObjectNode(), deadline())) {
                assertEquals(List.of("a", "b"), List.of(b.line(), b.line()));
                assertEquals("c", b.line());
                assertNull(b.line());
            }
        }
    }

    @Test
    void garbageIsABadUpstream() throws Exception {
        try (RawServer s = new RawServer(n -> "SSH-2.0-OpenSSH\r\n\r\n", true)) {
            UpstreamException e = assertThrows(UpstreamException.class, () -> call(s.uri()));
            assertEquals(UpstreamException.BAD, e.type());
        }
    }
}
