package scorebook.share;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.testing.Browser;
import scorebook.testing.NeedsBrowser;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A share link opened in a browser with no login shows the run's results read-only; the results view has a Share button. */
@NeedsBrowser
class DashboardShareTest {

    @Test
    void aShareLinkOpensTheRunReadOnlyWithoutALogin() throws Exception {
        try (TestServer server = TestServer.start(); Browser browser = Browser.start()) {
            Tenant t = Tenant.create(server);
            String run = ShareTest.run(t.user(), "shared-run", "browser-visible");
            ShareTest.run(t.user(), "other-run", "browser-hidden");
            JsonNode link = ShareTest.share(t.user(), "{\"scope\": {\"kind\": \"run\", \"run_id\": \"" + run + "\"}}");
            browser.open(link.path("url").asText().replaceFirst("^http://[^/]+", server.base()));
            browser.waitFor("document.body.innerText.includes('browser-visible-1')", 30);
            browser.waitFor("document.getElementById('shared-note')", 30);
            String text = browser.js("return document.body.innerText").asText();
            assertFalse(text.contains("browser-hidden"), text);
            assertEquals(0, browser.js("return document.querySelectorAll('#rerun, #new-run, .share-button').length").asInt());
            assertTrue(browser.js("return document.getElementById('nav').hidden").asBoolean());

            // signed in, the results view offers the Share button
            browser.open(server.base() + "/?token=" + t.token() + "&run_id=" + run);
            browser.waitFor("document.querySelector('.share-button')", 30);
        }
    }
}
