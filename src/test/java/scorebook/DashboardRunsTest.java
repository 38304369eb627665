package scorebook;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import scorebook.server.ServerConfig;
import scorebook.testing.Browser;
import scorebook.testing.NeedsBrowser;
import scorebook.testing.TestServer;
import scorebook.testing.Wait;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The run view in real Chromium: discovered cases, suite mistakes, a live run, search in the URL, annotations. */
@NeedsBrowser
class DashboardRunsTest {
    private static final double WAIT = Wait.DEADLINE.toSeconds();
    private static Path data;
    private static TestServer server;
    private static Browser browser;

    @BeforeAll
    static void start() throws Exception {
        data = TestServer.tempDir();
        Path evals = Files.createDirectories(data.resolve("evals"));
        Files.writeString(evals.resolve("math.yaml"), """
                dataset: math
                target: {command: 'read c; n=0; while [ ! -f ../go ] && [ $n -lt 600 ]; do sleep 0.05; n=$((n+1)); done; case "$c" in *2+2*) echo 4;; *3*3*) echo 9;; *) echo 0;; esac'}
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
        browser.waitFor("document.querySelectorAll('tr.row').length === 3", WAIT);
        assertEquals(3, browser.js("return document.querySelectorAll('tr.status-not_started').length").asInt());
        String problems = browser.waitFor("document.getElementById('suite-errors')?.innerText", WAIT).asText();
        assertTrue(problems.contains("broken.yaml:3") && problems.contains("unknown scorer 'vibes'"), problems);

        browser.click("#rerun");
        // the cases wait for the file go (up to 30 s), so the page is seen mid-run however slow the machine
        browser.waitFor("document.querySelector('#stop') && document.querySelectorAll('tr.status-running, tr.status-pending').length > 0", WAIT);
        Files.writeString(data.resolve("go"), "");
        browser.waitFor("document.querySelectorAll('tr.status-completed').length === 3", WAIT);
        // totals and chips come from the server once the burst of row events settles
        browser.waitFor("document.querySelector('.chip[data-key=equals]')?.innerText.includes('(2/3)')", WAIT);
        assertTrue(browser.text(".chip[data-key=equals]").contains("67% (2/3)"));
        assertEquals("2", browser.text("#passed"));

        browser.type("#search", "mul");
        browser.waitFor("document.querySelectorAll('tr.row').length === 1", WAIT);
        assertTrue(browser.js("return location.search").asText().contains("q=mul"));

        browser.click("tr.row td.fn");
        browser.waitFor("document.getElementById('annotation')", WAIT);
        browser.type("#annotation", "checked by hand");
        browser.click("#save-annotation");

        browser.waitFor("document.querySelector('tr.row') && true", WAIT);
        String runId = server.owner().get("/results").json().path("run_id").asText();
        Wait.until("the annotation to be stored", () -> server.owner().get("/api/runs/" + runId + "/results/1").json()
                .at("/result/result/annotation").asText().equals("checked by hand"));

        String link = browser.js("return location.href").asText();
        browser.open(link);
        browser.waitFor("document.querySelectorAll('tr.row').length === 1", WAIT);
        assertEquals("mul", browser.js("return document.getElementById('search').value").asText());
        Files.createDirectories(Path.of("target"));
        browser.screenshot(Path.of("target/dashboard-runs.png"));
    }
}
