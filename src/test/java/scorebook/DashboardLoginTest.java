package scorebook;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import scorebook.testing.Browser;
import scorebook.testing.NeedsBrowser;
import scorebook.testing.TestServer;
import scorebook.testing.Wait;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The dashboard's login in real Chromium: the link logs in, the token leaves the address bar. */
@NeedsBrowser
class DashboardLoginTest {
    private static TestServer server;
    private static Browser browser;

    @BeforeAll
    static void start() throws Exception {
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

    @Test
    void withoutALoginThePageAsksForTheToken() throws Exception {
        browser.open(server.base() + "/");
        browser.clearCookies();
        browser.open(server.base() + "/");
        browser.waitFor("!document.getElementById('login').hidden", Wait.DEADLINE.toSeconds());
    }

    @Test
    void theLoginLinkSignsInAndDropsTheTokenFromTheAddress() throws Exception {
        browser.open(server.base() + "/?token=" + TestServer.OWNER_TOKEN);
        browser.waitFor("document.getElementById('who').textContent === 'owner'", Wait.DEADLINE.toSeconds());
        String url = browser.js("return location.href").asText();
        assertEquals(server.base() + "/", url);
        assertFalse(url.contains("token"));
    }
}
