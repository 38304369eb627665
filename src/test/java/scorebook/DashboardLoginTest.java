package scorebook;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import scorebook.testing.Browser;
import scorebook.testing.NeedsBrowser;
import scorebook.testing.TestServer;
import scorebook.testing.Wait;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Signing in and out of the dashboard in real Chromium, and the account pages: the sign-in page says
 * how to get in and why a link failed; API keys are shown once and revoked; settings are saved.
 */
@NeedsBrowser
class DashboardLoginTest {
    private static final Path SHOTS = Path.of("target/screenshots");
    private static TestServer server;
    private static Browser browser;

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(SHOTS);
        server = TestServer.start();
        browser = Browser.start();
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private static void signIn() throws Exception {
        browser.signInAsOwner(server, "/");
    }

    @Test
    void withoutALoginThePageExplainsHowToGetIn() throws Exception {
        browser.open(server.base() + "/");
        browser.clearCookies();
        browser.open(server.base() + "/?page=keys");
        browser.waitFor("document.getElementById('login')", Wait.DEADLINE.toSeconds());
        String text = browser.text("#login");
        assertTrue(text.contains("?token=") && text.contains("owner.token"), text);
        assertTrue(browser.js("return document.getElementById('nav').hidden && document.getElementById('sign-out').hidden").asBoolean());
        browser.screenshot(SHOTS.resolve("sign-in.png"));
    }

    @Test
    void aWrongLoginLinkShowsTheSignInPageWithTheReasonAndAPastedTokenSignsIn() throws Exception {
        browser.open(server.base() + "/");
        browser.clearCookies();
        browser.open(server.base() + "/?token=not-a-token");
        String message = browser.waitFor("document.getElementById('login-error')?.innerText", Wait.DEADLINE.toSeconds()).asText();
        assertTrue(message.contains("token this server does not know"), message);
        assertFalse(browser.js("return document.body.innerText").asText().contains("\"ok\""), "no raw JSON error page");
        assertEquals(server.base() + "/", browser.js("return location.href").asText());
        browser.type("#token", TestServer.OWNER_TOKEN);
        browser.click("#login-form button");
        browser.waitFor("document.getElementById('who').textContent === 'owner'", Wait.DEADLINE.toSeconds());
        assertFalse(browser.js("return location.href").asText().contains("token"));
    }

    @Test
    void theSignOutButtonEndsTheSession() throws Exception {
        signIn();
        browser.click("#sign-out");
        browser.waitFor("document.getElementById('login')", Wait.DEADLINE.toSeconds());
        assertTrue(browser.text("#login").contains("signed out"), browser.text("#login"));
        browser.open(server.base() + "/");
        browser.waitFor("document.getElementById('login')", Wait.DEADLINE.toSeconds());
        assertEquals(401, browser.js("return fetch('/api/me').then(r => r.status)").asInt());
    }

    @Test
    void anApiKeyIsShownOnceAndWorksUntilRevoked() throws Exception {
        signIn();
        browser.open(server.base() + "/?page=keys");
        browser.waitFor("document.getElementById('key-form')", Wait.DEADLINE.toSeconds());
        browser.type("#key-name", "notebook");
        browser.click("#mint-key");
        String secret = browser.waitFor("document.getElementById('key-secret')?.innerText", Wait.DEADLINE.toSeconds()).asText();
        assertEquals(200, server.withHeaders("X-Api-Key", secret).get("/v1/models").status());
        browser.waitFor("[...document.querySelectorAll('#keys-table td')].some(td => td.innerText === 'notebook')", Wait.DEADLINE.toSeconds());
        browser.screenshot(SHOTS.resolve("keys.png"));
        browser.open(server.base() + "/?page=keys");
        browser.waitFor("document.getElementById('keys-table')", Wait.DEADLINE.toSeconds());
        assertFalse(browser.text("#app").contains(secret), "the secret is shown once");
        browser.click("#keys-table tr:last-child button[data-revoke]");
        browser.waitFor("document.getElementById('confirm-ok')", Wait.DEADLINE.toSeconds());
        browser.click("#confirm-ok");
        browser.waitFor("!document.getElementById('keys-table') || ![...document.querySelectorAll('#keys-table td')].some(td => td.innerText === 'notebook')", Wait.DEADLINE.toSeconds());
        assertEquals(401, server.withHeaders("X-Api-Key", secret).get("/v1/models").status());
    }

    @Test
    void theOwnerAddsAUserAndGetsTheirSignInLinkOnce() throws Exception {
        signIn();
        browser.open(server.base() + "/?page=users");
        browser.waitFor("document.getElementById('user-name')", Wait.DEADLINE.toSeconds());
        browser.type("#user-name", "ana");
        browser.click("#add-user");
        String link = browser.waitFor("document.getElementById('user-link')?.innerText", Wait.DEADLINE.toSeconds()).asText();
        assertTrue(link.startsWith(server.base() + "/?token="), link);
        browser.waitFor("[...document.querySelectorAll('#users-table td')].some(td => td.innerText === 'ana')", Wait.DEADLINE.toSeconds());
        String token = java.net.URLDecoder.decode(link.substring(link.indexOf("token=") + 6), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals("ana", server.client(token).get("/api/me").json().at("/user/name").asText());
    }

    @Test
    void settingsAreSavedThroughTheConfigApi() throws Exception {
        signIn();
        browser.open(server.base() + "/?page=settings");
        browser.waitFor("document.getElementById('concurrency')?.value === '1'", Wait.DEADLINE.toSeconds());
        browser.type("#concurrency", "3");
        browser.type("#timeout", "12.5");
        browser.click("#save-config");
        browser.waitFor("document.getElementById('config-state').innerText === 'Saved'", Wait.DEADLINE.toSeconds());
        assertEquals(3, server.owner().get("/api/config").json().path("concurrency").asInt());
        assertEquals(12.5, server.owner().get("/api/config").json().path("timeout").asDouble());
        browser.type("#concurrency", "0");
        browser.click("#save-config");
        browser.waitFor("document.getElementById('config-state').innerText.includes('whole number')", Wait.DEADLINE.toSeconds());
        assertEquals(3, server.owner().get("/api/config").json().path("concurrency").asInt());
    }
}
