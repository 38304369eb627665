package scorebook;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import scorebook.server.ServerConfig;
import scorebook.testing.Browser;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The run view in real Chromium: discovered cases, suite mistakes, a live run, search in the URL, annotations. */
class DashboardRunsTest {
    private static Path data;
    private static TestServer server;
    private static Browser browser;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Browser.available() || System.getenv("CI") != null, "chromium and chromedriver are not installed");
        data = TestServer.tempDir();
        Path evals = Files.createDirectories(data.resolve("evals"));
        Files.writeString(evals.resolve("math.yaml"), """
                dataset: math
                target: {command: 'read c; sleep 0.3; case "$c" in *2+2*) echo 4;; *3*3*) echo 9;; *) echo 0;; esac'}
                scorers: [equals]
                cases:
                  - {name: add, input: "2+2", reference: "4"}
                  - {name: mul, input: "3*3", reference: "9"}
                  - {name: bad, input: "1+1", reference: "2"}
                """);
        Files.writeString(evals.resolve("broken.yaml"), "target: {command: cat}\nscorers:\n  - {type: vibes}\ncases: [{input: 1}]\n");
        server = TestServer.start(ServerConfig.local(data, TestServer.OWNER_TOKEN).withEvalPath(evals));
        browser = Browser.start();
        browser.open(server.base() + "/?token=" + TestServer.OWNER_TOKEN);
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.close();
        }
        if (server != null) {
            server.close();
        }
        if (data != null) {
            TestServer.deleteTree(data);
        }
    }

    @Test
    void aRunFromTheDashboardUpdatesLiveAndKeepsItsStateInTheUrl() throws Exception {
        browser.open(server.base() + "/");
        browser.waitFor("document.querySelectorAll('tr.row').length === 3", 10);
        assertEquals(3, browser.js("return document.querySelectorAll('tr.status-not_started').length").asInt());
        String problems = browser.waitFor("document.getElementById('suite-errors')?.innerText", 10).asText();
        assertTrue(problems.contains("broken.yaml:3") && problems.contains("unknown scorer 'vibes'"), problems);

        browser.click("#rerun");
        browser.waitFor("document.querySelector('#stop') || document.querySelectorAll('tr.status-running, tr.status-pending').length > 0", 10);
        browser.waitFor("document.querySelectorAll('tr.status-completed').length === 3", 20);
        // totals and chips come from the server once the burst of row events settles
        browser.waitFor("document.querySelector('.chip[data-key=equals]')?.innerText.includes('(2/3)')", 10);
        assertTrue(browser.text(".chip[data-key=equals]").contains("67% (2/3)"));
        assertEquals("2", browser.text("#passed"));

        browser.type("#search", "mul");
        browser.waitFor("document.querySelectorAll('tr.row').length === 1", 5);
        assertTrue(browser.js("return location.search").asText().contains("q=mul"));

        browser.click("tr.row td.fn");
        browser.waitFor("document.getElementById('annotation')", 5);
        browser.type("#annotation", "checked by hand");
        browser.click("#save-annotation");

        browser.waitFor("document.querySelector('tr.row') && true", 5);
        String runId = server.owner().get("/results").json().path("run_id").asText();
        for (int i = 0; i < 100; i++) {
            if (server.owner().get("/api/runs/" + runId + "/results/1").json().at("/result/result/annotation").asText().equals("checked by hand")) {
                break;
            }
            Thread.sleep(50);
        }
        assertEquals("checked by hand", server.owner().get("/api/runs/" + runId + "/results/1").json().at("/result/result/annotation").asText());

        String link = browser.js("return location.href").asText();
        browser.open(link);
        browser.waitFor("document.querySelectorAll('tr.row').length === 1", 10);
        assertEquals("mul", browser.js("return document.getElementById('search').value").asText());
        Files.createDirectories(Path.of("target"));
        browser.screenshot(Path.of("target/dashboard-runs.png"));
    }
}
