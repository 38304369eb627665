package scorebook.server;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import scorebook.testing.Client;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ErrorsTest {
    private static final long LIMIT = 64 * 1024;
    private static Path dir;
    private static TestServer server;

    @BeforeAll
    static void start() {
        dir = TestServer.tempDir();
        server = TestServer.start(ServerConfig.local(dir, TestServer.OWNER_TOKEN).withMaxBodyBytes(LIMIT));
    }

    @AfterAll
    static void stop() {
        server.close();
        TestServer.deleteTree(dir);
    }

    private static int keyCount() {
        return server.owner().get("/api/keys").json().path("keys").size();
    }

    @Test
    void malformedJsonIs400AndStoresNothing() {
        int before = keyCount();
        Client.Response r = server.owner().post("/api/keys", "{\"name\": ");
        assertEquals(400, r.status());
        assertEquals("bad_request", r.errorCode());
        assertEquals("the body is not valid JSON: it ends too early at line 1 column 10", r.json().path("detail").asText());
        assertEquals(422, server.owner().post("/api/keys", "[1, 2]").status(), "valid JSON, not an object");
        assertEquals(400, server.owner().post("/api/keys", "{} {}").status());
        assertEquals(before, keyCount());
    }

    @Test
    void validJsonWithInvalidContentIs422NamingTheField() {
        int before = keyCount();
        Client.Response r = server.owner().post("/api/keys", "{\"name\": 42}");
        assertEquals(422, r.status());
        assertEquals("invalid", r.errorCode());
        assertTrue(r.json().path("detail").asText().contains("'name'"), r.text());
        assertEquals(422, server.owner().post("/api/keys", "{\"name\": \"a\\u0007b\"}").status());
        assertEquals(422, server.owner().post("/api/keys", "{\"name\": \"   \"}").status());
        assertEquals(422, server.owner().post("/api/keys", "{\"name\": \"" + "x".repeat(201) + "\"}").status());
        assertEquals(before, keyCount());
    }

    @Test
    void bodiesOverTheLimitAre413JsonAndStoreNothing() throws Exception {
        int before = keyCount();
        String big = "{\"name\": \"" + "x".repeat((int) LIMIT) + "\"}";
        // Expect: 100-continue, as clients send large bodies: the server refuses on the announced length before the
        // body is sent. Without it the server closes with the body unread, and the reset that follows can reach
        // the client before it reads the 413 (an occasional "header parser received no bytes").
        java.net.http.HttpResponse<String> res = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(server.base() + "/api/keys"))
                        .header("X-User-Token", TestServer.OWNER_TOKEN).header("Content-Type", "application/json")
                        .expectContinue(true).POST(java.net.http.HttpRequest.BodyPublishers.ofString(big)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        Client.Response r = new Client.Response(res.statusCode(), res.headers(), res.body());
        assertEquals(413, r.status());
        assertEquals("too_large", r.errorCode());
        assertEquals(before, keyCount());
    }

    @Test
    void chunkedBodiesOverTheLimitAre413Too() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            OutputStream out = s.getOutputStream();
            String head = "POST /api/keys HTTP/1.1\r\nHost: 127.0.0.1\r\nX-User-Token: " + TestServer.OWNER_TOKEN
                    + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = "x".repeat(16 * 1024).getBytes(StandardCharsets.US_ASCII);
            try {
                for (int i = 0; i < 8; i++) {
                    out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.write(chunk);
                    out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                }
                out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            } catch (java.io.IOException closedEarly) {
                // the server may close the connection as soon as it has answered
            }
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(answer.startsWith("HTTP/1.1 413"), answer);
            assertTrue(answer.contains("\"too_large\""), answer);
        }
    }

    @Test
    void unknownRoutesAre404Json() {
        Client.Response r = server.owner().get("/api/nothing-here");
        assertEquals(404, r.status());
        assertEquals("not_found", r.errorCode());
        assertTrue(r.header("Content-Type").orElseThrow().startsWith("application/json"));
        assertEquals(404, server.owner().post("/api/nothing-here", "{}").status());
    }

    @Test
    void theEnvelopeHasAFixedKeyOrder() {
        Client.Response r = server.owner().get("/api/runs/zzzzzzzz/results/0");
        assertEquals(404, r.status());
        assertEquals("{\"ok\":false,\"detail\":\"Run not found\",\"error\":{\"code\":\"not_found\",\"message\":\"Run not found\"}}",
                r.text());
    }

    @Test
    void wrongMethodsOnPublicPathsAre405WithOrWithoutACredential() {
        for (scorebook.testing.Client c : new scorebook.testing.Client[] {server.owner(), server.client(null)}) {
            for (String path : new String[] {"/health", "/", "/index.html", "/static/js/main.js", "/vendor/chart.js/x.js"}) {
                for (String method : new String[] {"POST", "PUT", "DELETE", "PATCH"}) {
                    Client.Response r = c.send(method, path, "{}");
                    assertEquals(405, r.status(), method + " " + path + ": " + r.text());
                    assertEquals("method_not_allowed", r.errorCode());
                    assertEquals("GET, HEAD", r.header("Allow").orElseThrow());
                }
            }
        }
    }

    @Test
    void theRunnersWordsAreNotRunIds() {
        for (String word : new String[] {"new", "rerun", "stop", "import"}) {
            for (String method : new String[] {"PATCH", "DELETE", "GET", "PUT"}) {
                Client.Response r = server.owner().send(method, "/api/runs/" + word, "{\"run_name\": \"x\"}");
                assertEquals(405, r.status(), method + " " + word + ": " + r.text());
                assertEquals("POST", r.header("Allow").orElseThrow());
            }
        }
    }

    @Test
    void aWrongMethodIs405JsonWithAllow() {
        Client.Response r = server.owner().put("/api/users", "{}");
        assertEquals(405, r.status());
        assertEquals("method_not_allowed", r.errorCode());
        assertEquals("GET, HEAD, POST", r.header("Allow").orElseThrow());
        assertEquals(405, server.owner().get("/api/keys/1").status());
        assertEquals(405, server.owner().get("/logout").status());
    }
}
