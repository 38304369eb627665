package scorebook.gateway;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import scorebook.testing.Client;
import scorebook.testing.FakeModelServer;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The dashboard's playground and warm-up call the gateway with the login cookie (docs/dashboard.md, "Decisions"):
 * a write needs this server's Origin, a dead session is 401, a user token is still no gateway credential, and a
 * refused call never reaches the model.
 */
class GatewaySessionTest {
    private static TestServer server;
    private static FakeModelServer fake;
    private static Tenant tenant;
    private static String cookie;

    @BeforeAll
    static void start() {
        server = TestServer.start();
        fake = FakeModelServer.ollama("llama3.2");
        tenant = Tenant.create(server);
        tenant.device("gpu1", fake, "[\"llama3.2\"]");
        String setCookie = server.client(null).get("/?token=" + tenant.token()).header("Set-Cookie").orElseThrow();
        cookie = setCookie.substring(0, setCookie.indexOf(';'));
    }

    @AfterAll
    static void stop() {
        fake.close();
        server.close();
    }

    private static Client.Response ask(String... headers) {
        return server.withHeaders(headers).post("/ask", "{\"prompt\":\"Hi\",\"model\":\"llama3.2\"}");
    }

    @Test
    void theLoginCookieWithThisServersOriginCallsTheGatewayAsItsUser() {
        int before = fake.chats();
        Client.Response r = ask("Cookie", cookie, "Origin", server.base());
        assertEquals(200, r.status(), r.text());
        assertEquals("Hello world!", r.json().at("/message/content").asText());
        assertEquals(before + 1, fake.chats());
        List<Map<String, Object>> rows = tenant.usage(1);
        Map<String, Object> last = rows.get(rows.size() - 1);
        assertEquals(tenant.userId(), ((Number) last.get("user_id")).longValue());
        assertNull(last.get("api_key_id"), "a dashboard call is no API key's: " + last);

        Client.Response models = server.withHeaders("Cookie", cookie).get("/v1/models");
        assertEquals(200, models.status(), models.text());
        assertTrue(models.text().contains("llama3.2"), models.text());

        Client.Response stream = server.withHeaders("Cookie", cookie, "Origin", server.base())
                .post("/ask_stream", "{\"prompt\":\"Hi\",\"model\":\"llama3.2\"}");
        assertEquals(200, stream.status(), stream.text());
        assertTrue(stream.text().contains("\"delta\"") && stream.text().contains("\"done\":true"), stream.text());
    }

    @Test
    void aCookieWithoutTheOriginOrFromAnotherSiteOrExpiredNeverReachesTheModel() {
        int before = fake.chats();
        Client.Response noOrigin = ask("Cookie", cookie);
        assertEquals(403, noOrigin.status(), noOrigin.text());
        Client.Response evil = ask("Cookie", cookie, "Origin", "http://evil.example");
        assertEquals(403, evil.status(), evil.text());
        assertTrue(evil.text().contains("cross-origin"), evil.text());
        Client.Response dead = ask("Cookie", "scorebook_session=not-a-session", "Origin", server.base());
        assertEquals(401, dead.status(), dead.text());
        Client.Response warm = server.withHeaders("Cookie", cookie, "Origin", "http://evil.example").post("/warmup", "{}");
        assertEquals(403, warm.status(), warm.text());
        assertEquals(before, fake.chats(), "no refused call reached the model");
    }

    @Test
    void aUserTokenIsStillNoGatewayCredentialAndAnApiKeyBeatsTheCookie() {
        int before = fake.chats();
        assertEquals(401, ask("X-User-Token", tenant.token()).status());
        assertEquals(401, ask("Authorization", "Bearer " + tenant.token()).status());
        // a bad key next to a good cookie is refused: the key is what the caller meant
        assertEquals(401, ask("X-Api-Key", "sbk_not-a-key", "Cookie", cookie, "Origin", server.base()).status());
        assertEquals(before, fake.chats());
    }
}
