package scorebook;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;
import scorebook.testing.Browser;
import scorebook.testing.Client;
import scorebook.testing.NeedsBrowser;
import scorebook.testing.TestServer;
import scorebook.testing.Wait;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The eval pages in real Chromium over two posted runs of one session ("baseline", then "candidate",
 * the active one): results with filters, sort, search and its URL; the detail page with an annotation
 * and the keyboard; the comparison; the trend chart; exports; theme. Screenshots go to target/screenshots.
 */
@NeedsBrowser
class DashboardResultsTest {
    private static final int CASES = 30;
    private static final Path SHOTS = Path.of("target/screenshots");
    private static Path data;
    private static Path downloads;
    private static TestServer server;
    private static Browser browser;
    private static String baseline;
    private static String candidate;

    @BeforeAll
    static void start() throws Exception {
        data = TestServer.tempDir();
        downloads = Files.createDirectories(data.resolve("downloads"));
        Files.createDirectories(SHOTS);
        server = TestServer.start(scorebook.server.ServerConfig.local(data, TestServer.OWNER_TOKEN));
        Client owner = server.owner();
        baseline = run(owner, "baseline", false);
        candidate = run(owner, "candidate", true);
        browser = Browser.start(downloads);
    }

    /**
     * A run of 30 cases plus one whose text is markup. In the candidate case_5 fails accuracy (a
     * regression), case_3 passes it (an improvement) and case_7 answers differently.
     */
    private static String run(Client owner, String name, boolean candidateRun) {
        Client.Response created = owner.post("/api/runs", Json.text(Map.of("session_name", "nightly", "run_name", name)));
        assertEquals(201, created.status(), created.text());
        String id = created.json().path("run_id").asText();
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int i = 0; i < CASES; i++) {
            boolean passed = candidateRun ? i != 5 : i != 3;
            String output = candidateRun && i == 7 ? "the answer is seven" : "the answer is " + i;
            rows.add(Map.of("function", "case_" + i, "dataset", i % 2 == 0 ? "even" : "odd", "labels", List.of(i < 10 ? "small" : "big"),
                    "result", Map.of("input", "question " + i, "output", output, "reference", "the answer is " + i,
                            "scores", List.of(Map.of("key", "accuracy", "passed", passed), Map.of("key", "quality", "value", i / 30.0)),
                            "latency", i * 0.1, "status", "completed")));
        }
        rows.add(Map.of("function", "xss_<img src=x onerror=window.pwned=1>", "dataset", "odd", "labels", List.of(),
                "result", Map.of("input", "<script>window.pwned=2</script>", "output", "<b>bold</b>",
                        "trace_data", Map.of("trace_url", "javascript:window.pwned=3",
                                "messages", List.of(Map.of("role", "user", "content", "<i>hi</i>"), Map.of("role", "assistant", "content", "hello"))),
                        "latency", 9.0, "status", "completed")));
        Client.Response r = owner.post("/api/runs/" + id + "/results", Json.text(Map.of("results", rows)));
        assertEquals(200, r.status(), r.text());
        return id;
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

    private static void signIn() throws Exception {
        browser.signInAsOwner(server, "/");
    }

    private static int rows() throws Exception {
        return browser.js("return document.querySelectorAll('tr.row').length").asInt();
    }

    private static String url() throws Exception {
        return browser.js("return location.pathname + location.search").asText();
    }

    @Test
    void filtersSortAndSearchAnswerFromTheServerAndLiveInTheUrl() throws Exception {
        browser.open(server.base() + "/?search=case_1&token=" + TestServer.OWNER_TOKEN);
        browser.waitFor("document.getElementById('who').textContent === 'owner'", Wait.DEADLINE.toSeconds());
        assertEquals("/?search=case_1", url(), "the token leaves the address, the view stays");
        browser.waitFor("document.querySelectorAll('tr.row').length === 11", Wait.DEADLINE.toSeconds());   // case_1, case_10 … case_19
        assertEquals("11/31", browser.text("#count"));
        assertEquals("case_1", browser.js("return document.getElementById('search').value").asText());

        // markup in the data is text, and a javascript: trace link is no link
        browser.open(server.base() + "/?search=xss");
        browser.waitFor("document.querySelectorAll('tr.row').length === 1", Wait.DEADLINE.toSeconds());
        assertTrue(browser.text("tr.row td.fn").contains("<img src=x"), browser.text("tr.row td.fn"));
        assertTrue(browser.text("tr.row").contains("<script>window.pwned=2</script>"));
        browser.click("tr.row a.open");
        browser.waitFor("document.getElementById('conversation')", Wait.DEADLINE.toSeconds());
        assertTrue(browser.text("#conversation").contains("<i>hi</i>"));
        assertTrue(browser.js("return window.pwned === undefined && !document.querySelector('a[href^=javascript]')").asBoolean());

        // a typed score rule becomes the original UI's parameter
        browser.open(server.base() + "/");
        browser.waitFor("document.querySelectorAll('tr.row').length === 31", Wait.DEADLINE.toSeconds());
        browser.click("#filters-button");
        browser.type("#rule", "accuracy = false");
        browser.click("#add-rule");
        browser.waitFor("document.querySelectorAll('tr.row').length === 1", Wait.DEADLINE.toSeconds());
        assertEquals("case_5", browser.text("tr.row a.open"));
        assertTrue(url().contains("score_passed=accuracy%2Cfalse"), url());
        assertTrue(browser.text("#filter-chips").contains("accuracy failed"));
        browser.click("#filter-chips .filter-chip button");
        browser.waitFor("document.querySelectorAll('tr.row').length === 31", Wait.DEADLINE.toSeconds());

        // three-state toggle and datasets
        browser.click("#toggle-has_url");
        browser.waitFor("document.querySelectorAll('tr.row').length === 1", Wait.DEADLINE.toSeconds());
        assertTrue(url().contains("has_url=1"), url());
        browser.click("#toggle-has_url");
        browser.waitFor("document.querySelectorAll('tr.row').length === 30", Wait.DEADLINE.toSeconds());
        assertTrue(url().contains("has_url=0"), url());
        browser.click("#clear-filters");
        browser.waitFor("document.querySelectorAll('tr.row').length === 31", Wait.DEADLINE.toSeconds());

        // sort: the Time header ascending, then descending
        browser.click("th[data-col=latency]");
        browser.waitFor("document.querySelector('th[data-col=latency]').getAttribute('aria-sort') === 'ascending'", Wait.DEADLINE.toSeconds());
        assertTrue(url().contains("sort=latency"), url());
        browser.click("th[data-col=latency]");
        browser.waitFor("location.search.includes('sort=-latency') && document.querySelector('tr.row td.time').innerText === '9.00s'", Wait.DEADLINE.toSeconds());
        assertEquals("2.90s", browser.js("return document.querySelectorAll('tr.row td.time')[1].innerText").asText());

        // regex search
        browser.click("#regex");
        browser.type("#search", "case_2[0-9]");
        browser.waitFor("document.querySelectorAll('tr.row').length === 10", Wait.DEADLINE.toSeconds());
        assertTrue(url().contains("regex=1"), url());
        assertEquals("case_29", browser.text("tr.row a.open"), "still sorted by time, descending");
        browser.screenshot(SHOTS.resolve("results-filtered.png"));

        // a column dragged wider keeps its width after a reload
        JsonNode grip = browser.js("const r = document.querySelector('th[data-col=input] .grip').getBoundingClientRect();"
                + "return [Math.round(r.left + r.width / 2), Math.round(r.top + r.height / 2)];");
        browser.drag(grip.get(0).asInt(), grip.get(1).asInt(), 90);
        browser.waitFor("JSON.parse(localStorage.getItem('scorebook:col_widths') || '{}').input === 350", Wait.DEADLINE.toSeconds());
        browser.open(server.base() + url());
        browser.waitFor("document.querySelector('col[data-col=input]')?.style.width === '350px'", Wait.DEADLINE.toSeconds());

        // the same URL opens the same view
        browser.open(server.base() + url());
        browser.waitFor("document.querySelectorAll('tr.row').length === 10", Wait.DEADLINE.toSeconds());
        assertEquals("case_2[0-9]", browser.js("return document.getElementById('search').value").asText());
        assertEquals("true", browser.js("return document.getElementById('regex').getAttribute('aria-pressed')").asText());
        browser.type("#search", "case_2[");
        browser.waitFor("document.getElementById('search-error').innerText.includes('regular expression')", Wait.DEADLINE.toSeconds());

        // back and forward walk the views
        browser.open(server.base() + "/?search=case_2");
        browser.waitFor("document.querySelectorAll('tr.row').length === 11", Wait.DEADLINE.toSeconds());
        browser.click("#filters-button");
        browser.click("#dataset-even");
        browser.waitFor("document.querySelectorAll('tr.row').length === 6", Wait.DEADLINE.toSeconds());
        browser.js("history.back()");
        browser.waitFor("document.querySelectorAll('tr.row').length === 11 && !location.search.includes('dataset')", Wait.DEADLINE.toSeconds());
        browser.js("history.forward()");
        browser.waitFor("document.querySelectorAll('tr.row').length === 6", Wait.DEADLINE.toSeconds());
    }

    @Test
    void theDetailPageSavesAnAnnotationAndMovesWithTheKeyboard() throws Exception {
        signIn();
        browser.open(server.base() + "/?run_id=" + candidate + "&search=case_1");
        browser.waitFor("document.querySelectorAll('tr.row').length === 11", Wait.DEADLINE.toSeconds());
        browser.screenshot(SHOTS.resolve("results.png"));
        browser.click("tr.row a.open");
        browser.waitFor("document.getElementById('annotation') && document.getElementById('detail-function').innerText === 'case_1'", Wait.DEADLINE.toSeconds());
        assertTrue(url().contains("page=result") && url().contains("search=case_1"), url());
        browser.type("#annotation", "checked by hand");
        browser.waitFor("document.getElementById('save-state').innerText === 'Unsaved changes'", Wait.DEADLINE.toSeconds());
        browser.click("#save-annotation");
        browser.waitFor("document.getElementById('save-state').innerText === 'Saved'", Wait.DEADLINE.toSeconds());
        JsonNode stored = server.owner().get("/api/runs/" + candidate + "/results/1").json();
        assertEquals("checked by hand", stored.at("/result/result/annotation").asText());
        browser.screenshot(SHOTS.resolve("detail.png"));

        browser.js("document.activeElement.blur()");
        browser.press(Browser.DOWN);
        browser.waitFor("document.getElementById('detail-function')?.innerText === 'case_2'", Wait.DEADLINE.toSeconds());
        assertEquals("3 / 31", browser.text("#position"));
        browser.press(Browser.UP);
        browser.waitFor("document.getElementById('detail-function')?.innerText === 'case_1'", Wait.DEADLINE.toSeconds());
        assertEquals("checked by hand", browser.js("return document.getElementById('annotation').value").asText());
        browser.press(Browser.ESCAPE);
        browser.waitFor("document.querySelectorAll('tr.row').length === 11", Wait.DEADLINE.toSeconds());
        assertEquals("/?search=case_1&run_id=" + candidate, url());

        // the keyboard on the results: j moves the cursor, Enter opens, ? lists the shortcuts
        browser.press("j");
        browser.press("j");
        browser.press(Browser.ENTER);
        browser.waitFor("document.getElementById('detail-function')?.innerText === 'case_10'", Wait.DEADLINE.toSeconds());
        browser.press("?");
        browser.waitFor("document.getElementById('shortcuts')?.innerText.includes('Previous result')", Wait.DEADLINE.toSeconds());
        browser.press(Browser.ESCAPE);
        browser.waitFor("!document.querySelector('.backdrop')", Wait.DEADLINE.toSeconds());
    }

    @Test
    void aComparisonShowsTheRegressionFirstThenTheImprovement() throws Exception {
        signIn();
        // the original UI's link form: run_id and compare_run_id, no page name
        browser.open(server.base() + "/?run_id=" + baseline + "&compare_run_id=" + candidate);
        browser.waitFor("document.querySelectorAll('.run-card').length === 2 && document.querySelector('tr.case')", Wait.DEADLINE.toSeconds());
        List<String> order = new ArrayList<>();
        browser.js("return [...document.querySelectorAll('tr.case')].slice(0, 3).map(r => r.dataset.key + ' ' + r.className)")
                .forEach(n -> order.add(n.asText()));
        assertEquals(List.of("case_5::odd case regression", "case_3::odd case improvement", "case_7::odd case changed"), order);
        assertTrue(browser.text(".run-card[data-run-id='" + candidate + "']").contains("±0"), "passed count unchanged: one lost, one won");
        assertTrue(browser.js("return document.querySelector('tr.case.changed ins')?.innerText").asText().contains("seven"));
        browser.click("#only-changed");
        browser.waitFor("document.querySelectorAll('tr.case').length === 3", Wait.DEADLINE.toSeconds());
        assertTrue(url().contains("only_changed=1"), url());
        browser.waitFor("!!(window.Chart && Chart.getChart(document.getElementById('compare-chart')))", Wait.DEADLINE.toSeconds());
        browser.screenshot(SHOTS.resolve("compare.png"));
        browser.open(server.base() + url());
        browser.waitFor("document.querySelectorAll('tr.case').length === 3", Wait.DEADLINE.toSeconds());
    }

    @Test
    void theTrendChartDrawsEachScoreKeyAndAClickOpensThatRun() throws Exception {
        signIn();
        browser.open(server.base() + "/?page=trends&session=nightly");
        browser.waitFor("document.getElementById('trend-chart')?.dataset.ready", Wait.DEADLINE.toSeconds());
        JsonNode series = browser.js("const c = Chart.getChart(document.getElementById('trend-chart'));"
                + "return c.data.datasets.map(d => d.label + ':' + d.data.join(','));");
        assertEquals("accuracy:97,97", series.get(0).asText());   // 30 of 31 rows pass in each run
        browser.screenshot(SHOTS.resolve("trends.png"));
        JsonNode point = browser.js("const c = Chart.getChart(document.getElementById('trend-chart'));"
                + "const p = c.getDatasetMeta(0).data[0]; const r = c.canvas.getBoundingClientRect();"
                + "return [Math.round(r.left + p.x), Math.round(r.top + p.y)];");
        browser.clickAt(point.get(0).asInt(), point.get(1).asInt());
        browser.waitFor("location.search.includes('run_id=" + baseline + "') && document.querySelectorAll('tr.row').length === 31", Wait.DEADLINE.toSeconds());
        browser.waitFor("document.getElementById('run-picker').selectedOptions[0]?.text.startsWith('baseline')", Wait.DEADLINE.toSeconds());
        // viewing a run makes it the active one, as in the original UI
        assertEquals(baseline, server.owner().get("/api/runs/latest/rows?limit=0").json().path("run_id").asText());
        server.owner().post("/api/runs/" + candidate + "/activate", "{}");
    }

    @Test
    void exportsWriteEachFormatOfTheFilteredView() throws Exception {
        signIn();
        browser.open(server.base() + "/?run_id=" + candidate + "&search=case_1");
        browser.waitFor("document.querySelectorAll('tr.row').length === 11", Wait.DEADLINE.toSeconds());
        exportAs("#export-json");
        JsonNode json = Json.MAPPER.readTree(Browser.waitForFile(downloads, candidate + "-filtered.json", Wait.DEADLINE.toSeconds()).toFile());
        assertEquals(11, json.path("results").size());
        assertEquals("case_1", json.at("/results/0/function").asText());
        exportAs("#export-csv");
        List<String> csv = Files.readAllLines(Browser.waitForFile(downloads, candidate + "-filtered.csv", Wait.DEADLINE.toSeconds()));
        assertEquals(12, csv.size(), csv.toString());
        assertTrue(csv.get(0).startsWith("index,function,dataset,labels,input"), csv.get(0));
        exportAs("#export-md");
        String md = Files.readString(Browser.waitForFile(downloads, candidate + ".md", Wait.DEADLINE.toSeconds()));
        assertTrue(md.contains("**11/31** tests") && md.contains("| case_19 |"), md);
        exportAs("#export-png");
        byte[] png = Files.readAllBytes(Browser.waitForFile(downloads, ".png", Wait.DEADLINE.toSeconds()));
        assertEquals((byte) 0x89, png[0]);
        assertEquals('P', png[1]);

        browser.open(server.base() + "/?run_id=" + candidate);
        browser.waitFor("document.querySelectorAll('tr.row').length === 31", Wait.DEADLINE.toSeconds());
        exportAs("#export-csv");
        List<String> whole = Files.readAllLines(Browser.waitForFile(downloads, candidate + ".csv", Wait.DEADLINE.toSeconds()));
        assertTrue(whole.get(0).startsWith("function,dataset,labels,input,output,reference,scores"), "the server's 12 columns");

        // rename in place: Enter saves
        browser.click("#rename");
        browser.type("#rename-input", "release <2>");
        browser.press(Browser.ENTER);
        browser.waitFor("document.getElementById('run-picker')?.selectedOptions[0]?.text.startsWith('release <2>')", Wait.DEADLINE.toSeconds());
        assertEquals("release <2>", server.owner().get("/api/sessions/nightly/runs").json().at("/runs/0/run_name").asText());
    }

    private static void exportAs(String item) throws Exception {
        browser.click("#export-button");
        browser.waitFor("document.querySelector('" + item + "')", Wait.DEADLINE.toSeconds());
        browser.click(item);
    }

    @Test
    void theThemeSwitchIsRememberedAndEveryPageReloadsFromItsUrl() throws Exception {
        signIn();
        browser.js("localStorage.removeItem('scorebook:theme')");
        browser.open(server.base() + "/?page=settings");
        browser.waitFor("document.getElementById('concurrency')?.value", Wait.DEADLINE.toSeconds());
        String system = browser.js("return document.documentElement.dataset.theme").asText();
        String other = system.equals("dark") ? "light" : "dark";
        while (!browser.js("return document.documentElement.dataset.theme").asText().equals(other)) {
            browser.click("#theme-button");
        }
        Map<String, String> pages = Map.of("settings", "document.getElementById('concurrency')?.value",
                "keys", "document.getElementById('key-form')",
                "trends&session=nightly", "document.getElementById('trend-chart')?.dataset.ready",
                "compare&run_id=" + baseline + "&compare_run_id=" + candidate,
                "!!(window.Chart && Chart.getChart(document.getElementById('compare-chart')))",
                "result&run_id=" + candidate + "&index=30", "document.getElementById('conversation')");
        for (var p : pages.entrySet()) {
            String page = p.getKey();
            browser.open(server.base() + "/?page=" + page);
            browser.waitFor(p.getValue(), Wait.DEADLINE.toSeconds());
            assertEquals(other, browser.js("return document.documentElement.dataset.theme").asText(), page);
            assertFalse(browser.text("#app").contains("could not"), browser.text("#app"));
            assertEquals("[]", browser.js("return window.scorebookCspViolations").toString(), page);
        }
        browser.screenshot(SHOTS.resolve("compare-" + other + ".png"));
        browser.open(server.base() + "/?page=settings");
        browser.waitFor("document.getElementById('concurrency')?.value", Wait.DEADLINE.toSeconds());
        browser.screenshot(SHOTS.resolve("settings.png"));
        browser.js("localStorage.removeItem('scorebook:theme')");
    }
}
