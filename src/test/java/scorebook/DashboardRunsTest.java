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

/**
 * Running suites from the dashboard in real Chromium: the empty state offers the discovered cases,
 * Run starts them, progress shows live, Stop cancels the rest. One case answers at once; the others
 * wait for a gate file that the test never creates before Stop, so nothing depends on timing.
 */
@NeedsBrowser
class DashboardRunsTest {
    private static Path data;
    private static Path gate;
    private static TestServer server;
    private static Browser browser;

    @BeforeAll
    static void start() throws Exception {
        data = TestServer.tempDir();
        gate = data.resolve("gate");
        Path evals = Files.createDirectories(data.resolve("evals"));
        Files.writeString(evals.resolve("gated.yaml"), """
                dataset: gated
                target: {command: 'read c; case "$c" in *fast*) echo fast;; *) while [ ! -f %s ]; do sleep 0.05; done; echo late;; esac'}
                scorers: [equals]
                cases:
                  - {name: fast, input: "fast", reference: "fast"}
                  - {name: slow1, input: "slow1", reference: "late"}
                  - {name: slow2, input: "slow2", reference: "late"}
                """.formatted(gate));
        Files.writeString(evals.resolve("broken.yaml"), "target: {command: cat}\nscorers:\n  - {type: vibes}\ncases: [{input: 1}]\n");
        server = TestServer.start(ServerConfig.local(data, TestServer.OWNER_TOKEN).withEvalPath(evals));
        browser = Browser.start();
        browser.signInAsOwner(server, "/");
    }

    @AfterAll
    static void stop() throws Exception {
        if (gate != null) {
            Files.writeString(gate, "open");   // lets any waiting case process end
        }
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
    void runShowsLiveProgressAndStopCancelsTheRest() throws Exception {
        browser.open(server.base() + "/");
        browser.waitFor("document.getElementById('run-first')", Wait.DEADLINE.toSeconds());
        String empty = browser.text("#results-main");
        assertTrue(empty.contains("3 cases") && empty.contains("./run.sh run evals") && empty.contains("curl"), empty);
        String problems = browser.waitFor("document.getElementById('suite-errors')?.innerText", Wait.DEADLINE.toSeconds()).asText();
        assertTrue(problems.contains("broken.yaml:3") && problems.contains("unknown scorer 'vibes'"), problems);

        browser.click("#run-first");
        browser.waitFor("document.getElementById('stop')", Wait.DEADLINE.toSeconds());
        browser.waitFor("document.querySelectorAll('tr.status-completed').length === 1", Wait.DEADLINE.toSeconds());
        String progress = browser.waitFor("document.getElementById('progress')?.innerText.includes('(1/3)') && "
                + "document.getElementById('progress').innerText", Wait.DEADLINE.toSeconds()).asText();
        assertTrue(progress.contains("33%"), progress);
        assertEquals(2, browser.js("return document.querySelectorAll('tr.status-running, tr.status-pending').length").asInt());
        Files.createDirectories(Path.of("target/screenshots"));
        browser.screenshot(Path.of("target/screenshots/running.png"));

        browser.click("#stop");
        browser.waitFor("document.querySelectorAll('tr.status-cancelled').length === 2 && document.getElementById('rerun')", Wait.DEADLINE.toSeconds());
        assertEquals(1, browser.js("return document.querySelectorAll('tr.status-completed').length").asInt());
        String runId = server.owner().get("/api/runs/latest/rows?limit=0").json().path("run_id").asText();
        assertEquals(2, server.owner().get("/api/runs/" + runId + "/rows?status=cancelled&limit=0").json().path("filtered").asInt());
    }
}
