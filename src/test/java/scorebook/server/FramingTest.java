package scorebook.server;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.testing.RawHttp;
import scorebook.testing.Streamed;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * HTTP/1.1 framing as a proxy in front of the server would read it (RFC 9112 §6): requests whose body length
 * two parties could read differently are refused with 400 and a closed connection, so no leftover bytes are
 * ever served as a next request; HEAD, Connection: close and HTTP/1.0 are answered as the RFC says.
 */
class FramingTest {
    @AutoClose
    private static final TestServer server = TestServer.start();
    private static final String TOKEN = "X-User-Token: " + TestServer.OWNER_TOKEN + "\r\n";
    /** A request that, served from leftover bytes, would create an API key named "smuggled". */
    private static final String SMUGGLED = "POST /api/keys HTTP/1.1\r\nHost: x\r\n" + TOKEN
            + "Content-Length: 21\r\n\r\n{\"name\": \"smuggled\"}\n";

    private static RawHttp connect() {
        return new RawHttp(server.port());
    }

    private static String post(String framing, String body) {
        return "POST /api/keys HTTP/1.1\r\nHost: 127.0.0.1\r\n" + TOKEN + "Content-Type: application/json\r\n" + framing
                + "\r\n" + body;
    }

    /** A 400 in the JSON envelope, after which the server closed the connection. */
    private static void assertRefusedAndClosed(String request) {
        int keysBefore = keyNames().size();
        try (RawHttp c = connect()) {
            RawHttp.Answer a = c.send(request).read();
            assertEquals(400, a.status(), a.toString());
            JsonNode body = Streamed.parse(a.body());
            assertEquals("bad_request", body.at("/error/code").asText(), a.body());
            assertEquals("close", a.header("Connection"), a.toString());
            assertTrue(c.closedByServer(), "the connection must be closed after a framing error");
        }
        assertEquals(keysBefore, keyNames().size(), "nothing stored");
        assertFalse(keyNames().contains("smuggled"));
    }

    private static java.util.List<String> keyNames() {
        return server.owner().get("/api/keys").json().path("keys").findValuesAsText("name");
    }

    @Test
    void aChunkSizeThatIsNotHexIs400() {
        assertRefusedAndClosed(post("Transfer-Encoding: chunked\r\n", "zz\r\n{}\r\n0\r\n\r\n"));
    }

    @Test
    void aChunkSizeOfEighteenHexDigitsIs400() {
        assertRefusedAndClosed(post("Transfer-Encoding: chunked\r\n", "1000000000000000000\r\n{}\r\n0\r\n\r\n"));
    }

    @Test
    void aNegativeContentLengthIs400AtOnce() {
        assertRefusedAndClosed(post("Content-Length: -1\r\n", ""));
    }

    @Test
    void aTransferEncodingOtherThanChunkedIs400AndCloses() {
        assertRefusedAndClosed(post("Transfer-Encoding: xchunked\r\n", "0\r\n\r\n" + SMUGGLED));
        assertRefusedAndClosed(post("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n" + SMUGGLED));
        assertRefusedAndClosed(post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "0\r\n\r\n" + SMUGGLED));
    }

    @Test
    void twoDifferentContentLengthsAre400AndClose() {
        assertRefusedAndClosed(post("Content-Length: 2\r\nContent-Length: 94\r\n", "{}" + SMUGGLED));
        assertRefusedAndClosed(post("Content-Length: 2, 94\r\n", "{}" + SMUGGLED));
    }

    @Test
    void headAnswersCarryHeadersButNoBodyWhereverGetIsServed() {
        try (RawHttp c = connect()) {
            for (String path : new String[] {"/health", "/api/me", "/", "/static/js/main.js", "/api/sessions"}) {
                RawHttp.Answer a = c.send("HEAD " + path + " HTTP/1.1\r\nHost: x\r\n" + TOKEN + "\r\n").read(true);
                assertEquals(200, a.status(), path + ": " + a);
                assertTrue(a.header("Content-Type") != null, path);
            }
            // no body bytes were sent: the next answer on the connection is read from its first byte
            RawHttp.Answer next = c.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n").read();
            assertEquals(200, next.status());
            assertEquals("{\"status\":\"ok\"}", next.body());
        }
        try (RawHttp c = connect()) {
            RawHttp.Answer missing = c.send("HEAD /api/runs/nope/results/0 HTTP/1.1\r\nHost: x\r\n" + TOKEN + "\r\n").read(true);
            assertEquals(404, missing.status());
            assertEquals(200, c.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n").read().status());
        }
    }

    @Test
    void connectionCloseIsHonoured() {
        try (RawHttp c = connect()) {
            RawHttp.Answer a = c.send("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").read();
            assertEquals(200, a.status());
            assertEquals("close", a.header("Connection"));
            assertTrue(c.closedByServer());
        }
        try (RawHttp c = connect()) {
            RawHttp.Answer a = c.send(post("Content-Length: 2\r\nConnection: close\r\n", "{}")).read();
            assertEquals(201, a.status(), a.toString());
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void keepAliveStaysOpen() {
        try (RawHttp c = connect()) {
            for (int i = 0; i < 3; i++) {
                assertEquals(200, c.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n").read().status());
            }
        }
    }

    @Test
    void http10GetsAClearAnswer() {
        try (RawHttp c = connect()) {
            RawHttp.Answer a = c.send("GET /health HTTP/1.0\r\n\r\n").read();
            assertEquals(505, a.status(), a.toString());
            JsonNode body = Streamed.parse(a.body());
            assertEquals("http_version_not_supported", body.at("/error/code").asText(), a.body());
            assertTrue(body.path("detail").asText().contains("HTTP/1.1"), a.body());
        }
    }

    @Test
    void aBadPercentEncodingIsA400Envelope() {
        for (String path : new String[] {"/api/sessions/%zz/runs", "/api/runs/%E0%A4%A/data", "/health?x=%", "/%",
            "/static/%zz", "/api/sessions/%E0%A4/runs", "/api/sessions/%C0%AF/runs", "/devices/x%ED%A0%80",
            "/api/me?name=%C0%AF"}) {
            try (RawHttp c = connect()) {
                RawHttp.Answer a = c.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n" + TOKEN + "\r\n").read();
                assertEquals(400, a.status(), path + ": " + a);
                assertEquals("bad_request", Streamed.parse(a.body()).at("/error/code").asText(), a.body());
                assertFalse(a.body().contains("server log"), "a message in words: " + a.body());
            }
        }
    }

    @Test
    void everyAnswerCarriesTheSecurityHeadersAndApiAnswersAreNotCached() {
        try (RawHttp c = connect()) {
            for (String req : new String[] {"GET /health", "GET /api/me", "GET /api/nothing", "GET /", "POST /health"}) {
                RawHttp.Answer a = c.send(req + " HTTP/1.1\r\nHost: x\r\n" + TOKEN + "Content-Length: 0\r\n\r\n").read();
                assertEquals("nosniff", a.header("X-Content-Type-Options"), req);
                // the dashboard page itself says same-origin, or its own writes would carry "Origin: null"
                assertEquals(req.equals("GET /") ? "same-origin" : "no-referrer", a.header("Referrer-Policy"), req);
                assertEquals("DENY", a.header("X-Frame-Options"), req);
                if (!req.equals("GET /")) {
                    assertEquals("no-store", a.header("Cache-Control"), req);
                }
            }
            RawHttp.Answer key = c.send(post("Content-Length: 2\r\n", "{}")).read();
            assertEquals(201, key.status());
            assertEquals("no-store", key.header("Cache-Control"), "a new secret must not sit in a cache");
            assertNull(key.header("Set-Cookie"));
        }
    }
}
