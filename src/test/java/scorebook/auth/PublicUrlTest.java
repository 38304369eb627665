package scorebook.auth;

import java.nio.file.Path;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import scorebook.server.ServerConfig;
import scorebook.testing.Client;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Behind a reverse proxy that rewrites Host, the browser's Origin is the public address: --public-url
 * makes the cookie Origin check accept it, and only it.
 */
class PublicUrlTest {
    private static final String PUBLIC = "https://evals.example.com";
    private final Path data = TestServer.tempDir();
    private TestServer server;

    @AfterEach
    void clean() {
        if (server != null) {
            server.close();
        }
        TestServer.deleteTree(data);
    }

    private Client loggedIn() {
        String setCookie = server.client(null).get("/?token=" + TestServer.OWNER_TOKEN).header("Set-Cookie").orElseThrow();
        return server.withHeaders("Cookie", setCookie.substring(0, setCookie.indexOf(';')));
    }

    private int keys() {
        return server.owner().get("/api/keys").json().path("keys").size();
    }

    @Test
    void writesFromThePublicOriginAreAccepted() {
        server = TestServer.start(ServerConfig.local(data, TestServer.OWNER_TOKEN).withPublicUrl(PUBLIC));
        Client browser = loggedIn();
        // the proxy forwarded the request to 127.0.0.1:port, so Host is not the address the browser shows
        Client.Response r = browser.post("/api/keys", "{\"name\": \"via-proxy\"}", "Origin", PUBLIC);
        assertEquals(201, r.status(), r.text());
        assertEquals(201, browser.post("/api/keys", "{\"name\": \"case\"}", "Origin", "https://Evals.Example.com").status());
        int before = keys();
        assertEquals(403, browser.post("/api/keys", "{\"name\": \"x\"}", "Origin", "http://evals.example.com").status(),
                "another scheme is another origin");
        assertEquals(403, browser.post("/api/keys", "{\"name\": \"x\"}", "Origin", "https://evil.example").status());
        assertEquals(403, browser.post("/api/keys", "{\"name\": \"x\"}", "Origin", PUBLIC + ".evil.example").status());
        assertEquals(before, keys(), "refused writes changed nothing");
        assertEquals(201, browser.post("/api/keys", "{\"name\": \"direct\"}", "Origin", server.base()).status(),
                "the server's own address still works");
    }

    @Test
    void withoutItThePublicOriginIsCrossOrigin() {
        server = TestServer.start(ServerConfig.local(data, TestServer.OWNER_TOKEN));
        int before = keys();
        Client.Response r = loggedIn().post("/api/keys", "{\"name\": \"via-proxy\"}", "Origin", PUBLIC);
        assertEquals(403, r.status());
        assertEquals("forbidden", r.errorCode());
        assertEquals(before, keys());
    }
}
