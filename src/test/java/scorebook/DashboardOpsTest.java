package scorebook;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.testing.Browser;
import scorebook.testing.Client;
import scorebook.testing.FakeModelServer;
import scorebook.testing.NeedsBrowser;
import scorebook.testing.TestServer;
import scorebook.testing.Wait;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The jobs, devices and playground pages in real Chromium against a real server with a fake Ollama as a device
 * and agents speaking the worker protocol: enqueue a job through the form and watch it finish, cancel one,
 * requeue and delete from the dead-letter queue, jobs in every state with the state filter, register, warm up and
 * remove devices, and an answer streaming into the playground.
 */
@NeedsBrowser
class DashboardOpsTest {
    private static final Path SHOTS = Path.of("target/screenshots");
    private static final double WAIT = Wait.DEADLINE.toSeconds();
    private static TestServer server;
    private static Browser browser;
    private static FakeModelServer ollama;
    private static FakeModelServer streamer;
    private static Client owner;

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(SHOTS);
        server = TestServer.start();
        owner = server.owner();
        ollama = FakeModelServer.ollama("llama3.2");
        streamer = FakeModelServer.ollama("streamer");
        register("{\"serial\":\"gpu1\",\"kind\":\"ollama\",\"base_url\":\"" + ollama.url() + "\",\"models\":[\"llama3.2\"]}");
        // only jobs tagged "stream" would go here, and none are: its held stream is the playground's alone
        register("{\"serial\":\"gpu-stream\",\"kind\":\"ollama\",\"base_url\":\"" + streamer.url()
                + "\",\"models\":[\"streamer\"],\"queue_tags\":[\"stream\"]}");
        browser = Browser.start();
        browser.signInAsOwner(server, "/");
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.close();
        }
        if (server != null) {
            server.close();
        }
        if (ollama != null) {
            ollama.close();
        }
        if (streamer != null) {
            streamer.release();
            streamer.close();
        }
    }

    private static JsonNode register(String body) {
        Client.Response r = owner.post("/devices/register", body);
        assertTrue(r.status() == 201 || r.status() == 200, r.text());
        return r.json();
    }

    /** An agent taking the given queue tag, as a client sending its device token. */
    private static Client agent(String serial, String tag) {
        JsonNode r = register("{\"serial\":\"" + serial + "\",\"kind\":\"agent\",\"queue_tags\":[\"" + tag + "\"]}");
        return server.withHeaders("X-Device-Token", r.path("device_token").asText());
    }

    private static String enqueue(String body) {
        Client.Response r = owner.post("/api/jobs", body);
        assertEquals(201, r.status(), r.text());
        return r.json().path("job_id").asText();
    }

    /** Enqueues a job for the agent's tag and claims it: {job_id, lease_id}. */
    private static JsonNode claimed(Client agent, String tag, String extra) {
        String id = enqueue("{\"prompt\":\"for " + tag + "\",\"queue_tag\":\"" + tag + "\"" + extra + "}");
        Client.Response r = agent.post("/worker/claim", "{\"max_jobs\":1,\"lease_s\":600}");
        assertEquals(200, r.status(), r.text());
        JsonNode job = r.json().path("jobs").path(0);
        assertEquals(id, job.path("job_id").asText());
        return job;
    }

    /** A job the agent failed for good: it lands in the dead-letter queue. */
    private static String failed(Client agent, String tag) {
        JsonNode job = claimed(agent, tag, "");
        Client.Response r = agent.post("/worker/jobs/" + job.path("job_id").asText() + "/fail", "{\"lease_id\":\""
                + job.path("lease_id").asText() + "\",\"error\":{\"type\":\"oom\",\"message\":\"out of <b>memory</b>\",\"retryable\":false}}");
        assertEquals("failed", r.json().path("state").asText(), r.text());
        return job.path("job_id").asText();
    }

    private static String state(String id) {
        return owner.get("/api/jobs/" + id).json().path("state").asText();
    }

    /** Clicks a button of a table row after scrolling it to the middle of the window, clear of the toasts at the bottom. */
    private static void clickRow(String css) throws Exception {
        browser.js("document.querySelector(arguments[0]).scrollIntoView({block: 'center'})", css);
        browser.click(css);
    }

    private static void waitRowState(String id, String state) throws Exception {
        browser.waitFor("document.querySelector('#jobs-table tr[data-job-id=\"" + id + "\"]')?.dataset.state === '" + state + "'", WAIT);
    }

    @Test
    void aJobEnqueuedThroughTheFormRunsOnTheDeviceAndItsDetailShowsTheOutcome() throws Exception {
        browser.open(server.base() + "/?page=jobs&new=1");
        browser.waitFor("document.getElementById('enqueue-form')", WAIT);
        // a private callback is refused by the server: the form names the field and nothing is queued
        int before = owner.get("/api/jobs?limit=500").json().path("jobs").size();
        browser.type("#job-prompt", "Say <img src=x onerror=alert(1)> hello");
        browser.type("#job-callback_url", "http://127.0.0.1:9/hook");
        browser.click("#enqueue-submit");
        String error = browser.waitFor("document.getElementById('enqueue-error').innerText", WAIT).asText();
        assertTrue(error.contains("callback_url"), error);
        assertEquals(before, owner.get("/api/jobs?limit=500").json().path("jobs").size());
        browser.type("#job-options", "{not json");
        browser.type("#job-callback_url", "");
        browser.click("#enqueue-submit");
        assertTrue(browser.waitFor("document.getElementById('enqueue-error').innerText.includes('options')", WAIT).asBoolean());

        browser.type("#job-options", "{\"num_predict\": 8}");
        browser.type("#job-system", "Be brief");
        browser.type("#job-model", "llama3.2");
        browser.type("#job-priority", "1");
        browser.type("#job-queue_tag", "default");
        browser.type("#job-device_serial", "gpu1");
        browser.type("#job-max_attempts", "2");
        browser.type("#job-backoff_s", "1.5");
        browser.type("#job-idempotency", "form-key-1");
        browser.click("#enqueue-submit");
        String id = browser.waitFor("new URLSearchParams(location.search).get('id')", WAIT).asText();
        browser.waitFor("document.querySelector('.detail-bar .pill')?.dataset.state === 'done'", WAIT);
        browser.waitFor("document.getElementById('job-output')?.innerText.includes('Hello world!')", WAIT);
        String request = browser.text("#job-request");
        assertTrue(request.contains("Say <img src=x onerror=alert(1)> hello") && request.contains("Be brief") && request.contains("num_predict"), request);
        assertEquals(0, browser.js("return document.querySelectorAll('#app img').length").asInt(), "data is text, never HTML");
        assertEquals(1, browser.js("return document.querySelectorAll('#attempts-table tbody tr').length").asInt());
        String metrics = browser.js("return document.getElementById('job-metrics').textContent").asText();
        assertTrue(metrics.contains("completion_tokens") && metrics.contains("ttft_ms"), metrics);
        assertTrue(browser.text("#job-deliveries").contains("callback_url"), "the empty state shows the call");
        assertEquals("jobs", browser.js("return document.querySelector('#nav a.current')?.dataset.page").asText(),
                "a job's page marks Jobs in the navigation");
        browser.screenshot(SHOTS.resolve("job.png"));

        JsonNode job = owner.get("/api/jobs/" + id).json();
        assertEquals(1, job.path("priority").asInt());
        assertEquals("gpu1", job.path("device_serial").asText());
        assertEquals(2, job.path("max_attempts").asInt());
        assertEquals(1.5, job.path("backoff_s").asDouble());
        assertEquals(8, ollama.lastRequest().at("/options/num_predict").asInt(), ollama.lastRequest().toString());
        // the Idempotency-Key went along with the form's job: the same key with another body is refused
        Client.Response again = owner.post("/api/jobs", "{\"prompt\":\"another\"}", "Idempotency-Key", "form-key-1");
        assertEquals(409, again.status(), again.text());
        assertEquals(0, browser.js("return window.scorebookCspViolations.length").asInt());
    }

    @Test
    void jobsInEveryStateAreListedLiveFilteredAndCancelled() throws Exception {
        Client phone = agent("phone-states", "states");
        String queued = enqueue("{\"prompt\":\"parked\",\"queue_tag\":\"parked\"}");
        String toCancel = enqueue("{\"prompt\":\"to cancel\",\"queue_tag\":\"parked\"}");
        String running = claimed(phone, "states", "").path("job_id").asText();
        JsonNode retry = claimed(phone, "states", ",\"max_attempts\":3,\"backoff_s\":3600");
        phone.post("/worker/jobs/" + retry.path("job_id").asText() + "/fail", "{\"lease_id\":\"" + retry.path("lease_id").asText()
                + "\",\"error\":{\"type\":\"thermal_abort\",\"message\":\"too hot\",\"retryable\":true}}");
        JsonNode ok = claimed(phone, "states", "");
        phone.post("/worker/jobs/" + ok.path("job_id").asText() + "/complete", "{\"lease_id\":\"" + ok.path("lease_id").asText()
                + "\",\"output\":{\"text\":\"fine\",\"done_reason\":\"stop\"},\"metrics\":{\"completion_tokens\":1}}");
        String failed = failed(phone, "states");
        assertEquals("retrying", state(retry.path("job_id").asText()));

        browser.open(server.base() + "/?page=jobs");
        waitRowState(toCancel, "queued");
        waitRowState(running, "running");
        waitRowState(retry.path("job_id").asText(), "retrying");
        waitRowState(ok.path("job_id").asText(), "done");
        waitRowState(failed, "failed");
        // a job that ends while the page is open changes state on screen (polling, no reload)
        clickRow("#jobs-table tr[data-job-id=\"" + toCancel + "\"] button[data-cancel]");
        waitRowState(toCancel, "cancelled");
        assertEquals("cancelled", state(toCancel));
        List<String> states = new ArrayList<>();
        browser.js("return [...document.querySelectorAll('#jobs-table .pill')].map(p => p.dataset.state)").forEach(n -> states.add(n.asText()));
        for (String s : List.of("queued", "running", "retrying", "done", "failed", "cancelled")) {
            assertTrue(states.contains(s), s + " in " + states);
        }
        browser.screenshot(SHOTS.resolve("jobs.png"));

        // the state filter is in the URL and asks the server
        browser.js("const s = document.getElementById('filter-state'); s.value = 'failed'; s.dispatchEvent(new Event('change'));");
        browser.waitFor("[...document.querySelectorAll('#jobs-table tr.row')].every(r => r.dataset.state === 'failed')", WAIT);
        assertTrue(browser.js("return location.search").asText().contains("state=failed"));
        browser.open(server.base() + "/?page=jobs&queue_tag=parked");
        waitRowState(queued, "queued");
        assertEquals("parked", browser.js("return document.getElementById('filter-queue_tag').value").asText());
        assertFalse(browser.js("return !!document.querySelector('#jobs-table tr[data-job-id=\"" + failed + "\"]')").asBoolean());
        browser.open(server.base() + "/?page=jobs&queue_tag=no-such-tag");
        assertTrue(browser.waitFor("document.querySelector('#jobs-table-wrap .empty')?.innerText", WAIT).asText().contains("curl"));
    }

    @Test
    void theDeadLetterQueueRequeuesOneAndDeletesSeveral() throws Exception {
        Client phone = agent("phone-dlq", "dlq");
        String requeue = failed(phone, "dlq");
        String deleteA = failed(phone, "dlq");
        String deleteB = failed(phone, "dlq");
        browser.open(server.base() + "/?page=jobs&view=dlq");
        browser.waitFor("document.querySelector('#dlq-table tr[data-job-id=\"" + deleteB + "\"]')", WAIT);
        assertTrue(browser.text("#dlq-table").contains("oom: out of <b>memory</b>"), "the error as text");
        browser.type("#requeue-priority", "2");
        clickRow("button[data-requeue=\"" + requeue + "\"]");
        browser.waitFor("!document.querySelector('#dlq-table tr[data-job-id=\"" + requeue + "\"]')", WAIT);
        JsonNode back = owner.get("/api/jobs/" + requeue).json();
        assertEquals("queued", back.path("state").asText());
        assertEquals(2, back.path("priority").asInt());

        clickRow("input[data-pick=\"" + deleteA + "\"]");
        clickRow("input[data-pick=\"" + deleteB + "\"]");
        assertEquals("2 selected", browser.text("#dlq-selected"));
        browser.screenshot(SHOTS.resolve("dlq.png"));
        browser.click("#dlq-delete");
        browser.waitFor("document.getElementById('confirm-ok')", WAIT);
        browser.click("#confirm-ok");
        browser.waitFor("!document.querySelector('#dlq-table tr[data-job-id=\"" + deleteA + "\"]') && "
                + "!document.querySelector('#dlq-table tr[data-job-id=\"" + deleteB + "\"]')", WAIT);
        assertEquals(404, owner.get("/api/jobs/" + deleteA).status());
        assertEquals(404, owner.get("/api/jobs/" + deleteB).status());
    }

    @Test
    void devicesAreRegisteredWarmedUpWatchedAndRemoved() throws Exception {
        browser.open(server.base() + "/?page=devices");
        browser.waitFor("document.querySelector('#devices-table tr[data-serial=\"gpu1\"]')", WAIT);
        browser.click("#reload-devices");
        browser.waitFor("document.querySelector('#devices-table tr[data-serial=\"gpu1\"] .health.ok')", WAIT);
        assertTrue(browser.text("#devices-table tr[data-serial=\"gpu1\"]").contains("closed"), "circuit closed");

        browser.click("#register-device");
        browser.waitFor("document.getElementById('register-form')", WAIT);
        assertTrue(browser.js("return location.search").asText().contains("register=1"));
        browser.type("#device-serial", "gpu2");
        browser.type("#device-base_url", ollama.url());
        browser.type("#device-models", "llama3.2, tiny");
        browser.type("#device-max_concurrency", "3");
        browser.click("#register-submit");
        browser.waitFor("document.querySelector('#devices-table tr[data-serial=\"gpu2\"] .inflight')?.innerText === '0 / 3'", WAIT);
        assertEquals(List.of("llama3.2", "tiny"), List.of(owner.get("/devices/gpu2").json().at("/device/registered_models").get(0).asText(),
                owner.get("/devices/gpu2").json().at("/device/registered_models").get(1).asText()));

        // an agent: its token is shown once, and its heartbeat's battery and temperature show up live
        browser.click("#register-device");
        browser.waitFor("document.getElementById('register-form')", WAIT);
        browser.type("#device-serial", "pixel7");
        browser.js("const s = document.getElementById('device-kind'); s.value = 'agent';");
        browser.click("#register-submit");
        String token = browser.waitFor("document.getElementById('device-token')?.innerText", WAIT).asText();
        assertTrue(token.startsWith("sbd_"), token);
        Client.Response beat = server.withHeaders("X-Device-Token", token).post("/devices/pixel7/heartbeat",
                "{\"ready\":true,\"battery_pct\":81,\"charging\":false,\"temp_c\":39.5,\"thermal_status\":\"light\"}");
        assertEquals(200, beat.status(), beat.text());
        browser.waitFor("document.querySelector('#devices-table tr[data-serial=\"pixel7\"] .agent-state')?.innerText.includes('81%')", WAIT);
        assertTrue(browser.text("#devices-table tr[data-serial=\"pixel7\"]").contains("39.5 °C"));

        int chats = ollama.chats();
        clickRow("button[data-warm=\"gpu1\"]");
        browser.click("#warm-go");
        browser.waitFor("document.getElementById('warm-result')?.innerText.includes('loaded in')", WAIT);
        assertTrue(ollama.chats() > chats, "the warm-up called the model");
        browser.screenshot(SHOTS.resolve("devices.png"));

        clickRow("button[data-remove=\"gpu2\"]");
        browser.waitFor("document.getElementById('confirm-ok')", WAIT);
        browser.click("#confirm-ok");
        browser.waitFor("!document.querySelector('#devices-table tr[data-serial=\"gpu2\"]')", WAIT);
        assertEquals(404, owner.get("/devices/gpu2").status());
        // bad input: the server's 422 is shown and nothing is stored
        browser.click("#register-device");
        browser.waitFor("document.getElementById('register-form')", WAIT);
        browser.type("#device-serial", "bad serial!");
        browser.click("#register-submit");
        assertTrue(browser.waitFor("document.getElementById('register-error').innerText", WAIT).asText().contains("serial"));
        assertEquals(404, owner.get("/devices/bad%20serial!").status());
    }

    @Test
    void thePlaygroundStreamsAnAnswerWithItsTimings() throws Exception {
        streamer.tokens("First", " second", " third").holdAfterFirstToken();
        browser.open(server.base() + "/?page=playground&model=streamer&device=gpu-stream");
        browser.waitFor("document.getElementById('pg-model')?.value === 'streamer' && document.getElementById('pg-device').value === 'gpu-stream'", WAIT);
        browser.type("#pg-prompt", "Count to three");
        browser.click("#pg-send");
        // the first token is on screen while the model still holds the rest: the answer streams
        browser.waitFor("document.getElementById('pg-answer').innerText === 'First'", WAIT);
        assertFalse(browser.js("return !!document.getElementById('pg-answer').dataset.done").asBoolean());
        streamer.release();
        browser.waitFor("document.getElementById('pg-answer').dataset.done === '1'", WAIT);
        assertEquals("First second third", browser.text("#pg-answer"));
        String timings = browser.text("#pg-timings");
        assertTrue(timings.contains("streamer · gpu-stream"), timings);
        for (String k : List.of("First token (this page)", "TTFT (server)", "Latency (server)", "Decode")) {
            String v = browser.js("return document.querySelector('[data-timing=\"' + arguments[0] + '\"]').innerText", k).asText();
            assertFalse(v.equals("—"), k + " is shown: " + timings);
        }
        assertTrue(browser.js("return location.search").asText().contains("prompt=Count"), "the prompt is in the URL");
        browser.screenshot(SHOTS.resolve("playground.png"));
    }
}
