package scorebook.share;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.testing.Browser;
import scorebook.testing.FakeModelServer;
import scorebook.testing.NeedsBrowser;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A share link opened in a browser with no login shows its scope read-only (a run's results, a usage view, the jobs,
 * the devices); the views that can be shared have a Share button.
 */
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

    @Test
    void usageJobsAndDevicesLinksOpenTheirPagesReadOnlyAndThosePagesOfferShare() throws Exception {
        try (TestServer server = TestServer.start(); Browser browser = Browser.start();
             FakeModelServer fake = FakeModelServer.ollama("m")) {
            Tenant t = Tenant.create(server);
            t.device("gpu-shared", fake, "[\"m\"]");
            for (int i = 0; i < 3; i++) {
                assertEquals(200, t.gateway().post("/ask", "{\"prompt\": \"hi\", \"model\": \"m\"}").status());
            }
            t.usage(3);
            String job = t.user().post("/api/jobs", "{\"prompt\": \"p\", \"model\": \"nobody-serves-this\"}").json()
                    .path("job_id").asText();
            String page = "(document.querySelector('.page-head h2') || {}).innerText";

            open(browser, server, ShareTest.share(t.user(), "{\"scope\": {\"kind\": \"usage\", \"filters\": {\"model\": \"m\"}}}"));
            browser.waitFor("(document.getElementById('kpis') || {innerText: ''}).innerText.includes('3 ok')", 30);
            assertEquals("Usage", browser.js("return " + page).asText());
            assertReadOnly(browser, "#import-button, #compare-toggle");

            open(browser, server, ShareTest.share(t.user(), "{\"scope\": {\"kind\": \"jobs\"}}"));
            browser.waitFor("document.body.innerText.includes('" + job + "')", 30);
            assertReadOnly(browser, "#new-job, [data-cancel], #tab-dlq");
            browser.click(".job-link");
            browser.waitFor("new URLSearchParams(location.search).get('page') === 'job'", 30);
            assertTrue(browser.js("return new URLSearchParams(location.search).has('share')").asBoolean(),
                    "a link inside a shared view keeps the share token");

            open(browser, server, ShareTest.share(t.user(), "{\"scope\": {\"kind\": \"devices\"}}"));
            browser.waitFor("document.body.innerText.includes('gpu-shared')", 30);
            assertReadOnly(browser, "#register-device, #reload-devices");

            // signed in, each of these views offers the Share button
            browser.open(server.base() + "/?token=" + t.token() + "&page=usage");
            browser.waitFor("document.querySelector('.share-button')", 30);
            for (String p : new String[] {"jobs", "devices"}) {
                browser.open(server.base() + "/?page=" + p);
                browser.waitFor("document.querySelector('.page-head h2') && document.querySelector('.page-head h2').innerText === '"
                        + (p.equals("jobs") ? "Jobs" : "Devices") + "' && document.querySelector('.share-button')", 30);
            }
        }
    }

    private static void open(Browser browser, TestServer server, JsonNode link) throws Exception {
        browser.open(link.path("url").asText().replaceFirst("^http://[^/]+", server.base()));
    }

    /** The shared page says it is read-only, offers none of the given writes and no Share button. */
    private static void assertReadOnly(Browser browser, String writes) throws Exception {
        browser.waitFor("document.getElementById('shared-note')", 30);
        assertEquals(0, browser.js("return document.querySelectorAll(arguments[0] + ', .share-button').length", writes).asInt(),
                writes);
    }
}
