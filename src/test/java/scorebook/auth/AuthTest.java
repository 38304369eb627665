package scorebook.auth;

import java.nio.file.Files;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.testing.Client;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AuthTest {
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void healthNeedsNoCredential() {
        Client.Response r = server.client(null).get("/health");
        assertEquals(200, r.status());
        assertEquals("{\"status\":\"ok\"}", r.text());
    }

    @Test
    void requestsWithoutCredentialGet401Json() {
        Client.Response r = server.client(null).get("/api/me");
        assertEquals(401, r.status());
        assertEquals("unauthorized", r.errorCode());
        assertEquals("Bearer", r.header("WWW-Authenticate").orElseThrow());
        assertEquals(401, server.client("wrong").get("/api/me").status());
        assertEquals(401, server.client(null).post("/api/keys", "{}").status());
    }

    @Test
    void ownerTokenWorksAsHeaderAndAsBearer() {
        Client.Response viaHeader = server.owner().get("/api/me");
        assertEquals(200, viaHeader.status());
        assertEquals("owner", viaHeader.json().at("/user/name").asText());
        assertTrue(viaHeader.json().at("/user/is_owner").asBoolean());
        Client.Response viaBearer = server.withHeaders("Authorization", "Bearer " + TestServer.OWNER_TOKEN).get("/api/me");
        assertEquals(200, viaBearer.status());
        assertEquals(401, server.withHeaders("Authorization", "Bearer nope").get("/api/me").status());
    }

    @Test
    void ownerAddsUsersWhoSeeOnlyThemselvesAndCannotAddUsers() {
        Client.Response created = server.owner().post("/api/users", "{\"name\": \"  ana  \"}");
        assertEquals(201, created.status());
        assertEquals("ana", created.json().at("/user/name").asText());
        String token = created.json().path("token").asText();
        assertTrue(token.startsWith("sbu_"));

        Client ana = server.client(token);
        assertEquals("ana", ana.get("/api/me").json().at("/user/name").asText());
        assertEquals(403, ana.post("/api/users", "{\"name\": \"bob\"}").status());
        assertEquals("forbidden", ana.post("/api/users", "{\"name\": \"bob\"}").errorCode());
        JsonNode seen = ana.get("/api/users").json().path("users");
        assertEquals(1, seen.size());
        assertEquals("ana", seen.get(0).path("name").asText());
        assertTrue(server.owner().get("/api/users").json().path("users").size() >= 2);

        assertEquals(409, server.owner().post("/api/users", "{\"name\": \"ana\"}").status());

        long id = created.json().at("/user/id").asLong();
        assertEquals(403, ana.delete("/api/users/" + id).status());
        assertEquals(200, server.owner().delete("/api/users/" + id).status());
        assertEquals(401, ana.get("/api/me").status());
        assertEquals(404, server.owner().delete("/api/users/" + id).status());
    }

    @Test
    void theOwnerCannotBeDeleted() {
        long ownerId = server.owner().get("/api/me").json().at("/user/id").asLong();
        Client.Response r = server.owner().delete("/api/users/" + ownerId);
        assertEquals(409, r.status());
        assertEquals(200, server.owner().get("/api/me").status());
    }

    @Test
    void apiKeysOpenTheGatewayUntilRevokedAndAreListedWithoutSecrets() {
        Client.Response created = server.owner().post("/api/keys", "{\"name\": \"laptop\"}");
        assertEquals(201, created.status());
        String secret = created.json().path("secret").asText();
        long id = created.json().at("/key/id").asLong();
        assertTrue(secret.startsWith("sbk_"));

        // a gateway path: the key passes auth
        assertEquals(200, server.withHeaders("X-Api-Key", secret).get("/v1/models").status());
        assertEquals(200, server.withHeaders("Authorization", "Bearer " + secret).get("/v1/models").status());
        // a user token is not an API key, and an API key is not a user token
        assertEquals(401, server.owner().get("/v1/models").status());
        assertEquals(401, server.withHeaders("X-Api-Key", TestServer.OWNER_TOKEN).post("/ask", "{}").status());
        assertEquals(401, server.withHeaders("X-User-Token", secret).get("/api/me").status());

        Client.Response list = server.owner().get("/api/keys");
        assertFalse(list.text().contains(secret), "secrets are never listed");
        assertTrue(list.text().contains("\"laptop\""));

        assertEquals(200, server.owner().delete("/api/keys/" + id).status());
        Client.Response revoked = server.withHeaders("X-Api-Key", secret).get("/v1/models");
        assertEquals(401, revoked.status());
        assertEquals("unauthorized", revoked.errorCode());
        assertEquals(404, server.owner().delete("/api/keys/999999").status());
    }

    @Test
    void aUserCannotRevokeAnotherUsersKey() {
        String bobToken = server.owner().post("/api/users", "{\"name\": \"bob\"}").json().path("token").asText();
        Client.Response key = server.owner().post("/api/keys", "{}");
        long id = key.json().at("/key/id").asLong();
        Client.Response r = server.client(bobToken).delete("/api/keys/" + id);
        assertEquals(404, r.status());
        assertEquals(200, server.withHeaders("X-Api-Key", key.json().path("secret").asText()).get("/v1/models").status());
    }

    @Test
    void loginLinkSetsAStrictHttpOnlyCookieAndWritesNeedTheOwnOrigin() {
        Client.Response login = server.client(null).get("/?token=" + TestServer.OWNER_TOKEN);
        assertEquals(303, login.status());
        assertEquals("/", login.header("Location").orElseThrow());
        String setCookie = login.header("Set-Cookie").orElseThrow();
        assertTrue(setCookie.contains("HttpOnly"), setCookie);
        assertTrue(setCookie.contains("SameSite=Strict"), setCookie);
        String cookie = setCookie.substring(0, setCookie.indexOf(';'));

        Client browser = server.withHeaders("Cookie", cookie);
        assertEquals(200, browser.get("/api/me").status());
        Client.Response noOrigin = browser.post("/api/keys", "{\"name\": \"web\"}");
        assertEquals(403, noOrigin.status());
        assertEquals("forbidden", noOrigin.errorCode());
        assertEquals(403, browser.post("/api/keys", "{\"name\": \"web\"}", "Origin", "http://evil.example").status());
        int before = server.owner().get("/api/keys").json().path("keys").size();
        assertEquals(201, browser.post("/api/keys", "{\"name\": \"web\"}", "Origin", server.base()).status());
        assertEquals(before + 1, server.owner().get("/api/keys").json().path("keys").size());

        assertEquals(200, browser.post("/logout", null, "Origin", server.base()).status());
        assertEquals(401, browser.get("/api/me").status());
        assertEquals(401, server.client(null).get("/?token=bad").status());
    }

    @Test
    void aBadLoginLinkSendsABrowserToTheSignInPageAndScriptsGetJson() {
        Client.Response browser = server.client(null).get("/?token=bad", "Accept", "text/html,application/xhtml+xml,*/*;q=0.8");
        assertEquals(303, browser.status(), browser.text());
        assertEquals("/?login_error=invalid_token", browser.header("Location").orElseThrow());
        assertTrue(browser.header("Set-Cookie").isEmpty(), "no session for a bad token");
        Client.Response script = server.client(null).get("/?token=bad", "Accept", "application/json");
        assertEquals(401, script.status());
        assertEquals("unauthorized", script.errorCode());
    }

    @Test
    void aGoodLoginLinkKeepsTheViewItPointsAt() {
        Client.Response login = server.client(null).get("/?page=compare&token=" + TestServer.OWNER_TOKEN + "&run_id=ab%20c&compare_run_id=d");
        assertEquals(303, login.status());
        assertEquals("/?page=compare&run_id=ab%20c&compare_run_id=d", login.header("Location").orElseThrow());
        assertTrue(login.header("Set-Cookie").orElseThrow().startsWith("scorebook_session="));
    }

    @Test
    void theDashboardShellIsPublicButItsDataIsNot() {
        Client.Response page = server.client(null).get("/");
        assertEquals(200, page.status());
        assertTrue(page.header("Content-Type").orElseThrow().startsWith("text/html"));
        assertTrue(page.text().contains("<title>Scorebook</title>"));
        assertEquals(200, server.client(null).get("/static/js/main.js").status());
        assertEquals(200, server.client(null).get("/vendor/chart.js/4.5.1/dist/chart.js").status());
        for (String sneaky : List.of("/static/../pom.xml", "/static/%2e%2e/pom.xml", "/static/..%2fpom.xml")) {
            Client.Response r = server.client(null).get(sneaky);
            assertFalse(r.status() == 200 || r.text().contains("<project"), sneaky + " served " + r.status());
        }
    }

    @Test
    void secretsAreStoredOnlyAsHashes() throws Exception {
        String secret = server.owner().post("/api/keys", "{}").json().path("secret").asText();
        String token = server.owner().post("/api/users", "{\"name\": \"carol\"}").json().path("token").asText();
        StringBuilder stored = new StringBuilder();
        for (String file : List.of("scorebook.db", "scorebook.db-wal")) {
            var path = server.dataDir().resolve(file);
            if (Files.exists(path)) {
                stored.append(new String(Files.readAllBytes(path), java.nio.charset.StandardCharsets.ISO_8859_1));
            }
        }
        assertFalse(stored.toString().contains(secret), "an API key is stored in clear");
        assertFalse(stored.toString().contains(token), "a user token is stored in clear");
        assertFalse(stored.toString().contains(TestServer.OWNER_TOKEN), "the owner token is stored in clear");
        assertTrue(stored.toString().contains(Tokens.hash(token)), "the token's hash is what is kept");
    }
}
