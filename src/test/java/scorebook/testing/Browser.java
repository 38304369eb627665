package scorebook.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;

/**
 * Real headless Chromium, driven through chromedriver's WebDriver protocol (plain JSON over HTTP,
 * so no browser-automation library is needed).
 */
public final class Browser implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    /**
     * A deadline for one WebDriver command, not an expected time: on a starved machine starting Chromium or
     * running one script took over a minute (stress runs failed at 60 s and at WebDriver's 30 s script default).
     */
    private static final Duration COMMAND_DEADLINE = Duration.ofMinutes(3);

    private final Process driver;
    private final String base;
    private final String session;
    private final Path profile;

    private Browser(Process driver, String base, String session, Path profile) {
        this.driver = driver;
        this.base = base;
        this.session = session;
        this.profile = profile;
    }

    /** True when this machine has chromium and chromedriver (the CI script installs them). */
    public static boolean available() {
        return Files.isExecutable(Path.of(chromium())) && Files.isExecutable(Path.of(chromedriver()));
    }

    /** Why the browser tests cannot run here. */
    public static String missing() {
        return "skipped: chromium and chromedriver are needed (looked for " + chromium() + " and " + chromedriver()
                + "; Debian: apt-get install chromium chromium-driver)";
    }

    private static String chromium() {
        return System.getProperty("scorebook.chromium", "/usr/bin/chromium");
    }

    private static String chromedriver() {
        return System.getProperty("scorebook.chromedriver", "/usr/bin/chromedriver");
    }

    public static Browser start() throws Exception {
        return start(null);
    }

    /** A browser whose downloads land in {@code downloads} without asking (null: the default folder). */
    public static Browser start(Path downloads) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Process driver = new ProcessBuilder(chromedriver(), "--port=" + port)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String base = "http://127.0.0.1:" + port;
        long deadline = System.nanoTime() + Wait.DEADLINE.toNanos();
        while (true) {
            try {
                if (call(base, "GET", "/status", null).path("value").path("ready").asBoolean()) {
                    break;
                }
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    driver.destroyForcibly();
                    throw new IllegalStateException("chromedriver did not start", e);
                }
            }
            Thread.sleep(50);
        }
        Path profile = Files.createTempDirectory("scorebook-chromium");
        Map<String, Object> options = new java.util.HashMap<>(Map.of(
                "binary", chromium(),
                "args", List.of("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--disable-quic", "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                        "--user-data-dir=" + profile)));
        if (downloads != null) {
            options.put("prefs", Map.of("download.default_directory", downloads.toAbsolutePath().toString(),
                    "download.prompt_for_download", false, "download.directory_upgrade", true,
                    "safebrowsing.enabled", false));
        }
        long deadlineMs = COMMAND_DEADLINE.toMillis();
        Map<String, Object> caps = Map.of("capabilities", Map.of("alwaysMatch", Map.of(
                "browserName", "chrome",
                "timeouts", Map.of("script", deadlineMs, "pageLoad", deadlineMs, "implicit", 0),
                "goog:chromeOptions", options)));
        JsonNode created = call(base, "POST", "/session", Json.text(caps));
        String session = created.path("value").path("sessionId").asText();
        if (session.isEmpty()) {
            driver.destroyForcibly();
            throw new IllegalStateException("no WebDriver session: " + created);
        }
        return new Browser(driver, base, session, profile);
    }

    public void open(String url) throws Exception {
        command("POST", "/url", Json.text(Map.of("url", url)));
    }

    /** Opens {@code view} ("/" or "/?page=…") through the owner's login link, once the dashboard shows the owner. */
    public void signInAsOwner(TestServer server, String view) throws Exception {
        open(server.base() + view + (view.contains("?") ? "&" : "?") + "token=" + TestServer.OWNER_TOKEN);
        waitFor("document.getElementById('who').textContent === 'owner'", Wait.DEADLINE.toSeconds());
    }

    /** The text of an open alert dialog, or null when none is open. */
    public String alertText() throws Exception {
        JsonNode r = call(base, "GET", "/session/" + session + "/alert/text", null).path("value");
        return r.isTextual() ? r.asText() : null;
    }

    /** Forgets every cookie (a logged-out browser). */
    public void clearCookies() throws Exception {
        command("DELETE", "/cookie", null);
    }

    /** Runs JavaScript in the page (the script's {@code return} value comes back as JSON). */
    public JsonNode js(String script, Object... args) throws Exception {
        return command("POST", "/execute/sync", Json.text(Map.of("script", script, "args", List.of(args))));
    }

    /** Waits until a JavaScript expression is truthy, for at most {@code seconds}; returns its value. */
    public JsonNode waitFor(String expression, double seconds) throws Exception {
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        JsonNode v = null;
        while (System.nanoTime() < deadline) {
            v = js("try { return (" + expression + ") || null; } catch (e) { return null; }");
            if (v != null && !v.isNull() && !(v.isBoolean() && !v.asBoolean())) {
                return v;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("waited " + seconds + " s for " + expression + "; page " + js("return location.href").asText()
                + " text: " + js("return document.body ? document.body.innerText.slice(0, 2000) : ''").asText());
    }

    public String text(String css) throws Exception {
        return js("const e = document.querySelector(arguments[0]); return e ? e.innerText : null;", css).asText(null);
    }

    /** Clicks the element {@code css} selects; finds it again if the page redrew it in between. */
    public void click(String css) throws Exception {
        for (int attempt = 1; ; attempt++) {
            JsonNode el = command("POST", "/element", Json.text(Map.of("using", "css selector", "value", css)));
            String id = el.elements().next().asText();
            try {
                command("POST", "/element/" + id + "/click", "{}");
                return;
            } catch (IllegalStateException e) {
                if (attempt == 3 || !e.getMessage().contains("stale element")) {
                    throw e;
                }
            }
        }
    }

    public void type(String css, String text) throws Exception {
        JsonNode el = command("POST", "/element", Json.text(Map.of("using", "css selector", "value", css)));
        String id = el.elements().next().asText();
        command("POST", "/element/" + id + "/clear", "{}");
        command("POST", "/element/" + id + "/value", Json.text(Map.of("text", text)));
    }

    /** WebDriver key codes for {@link #press}. */
    public static final String UP = "\uE013";
    public static final String DOWN = "\uE015";
    public static final String ESCAPE = "\uE00C";
    public static final String ENTER = "\uE007";

    /** Presses and releases one key on whatever has the focus (a character, or one of the codes above). */
    public void press(String key) throws Exception {
        command("POST", "/actions", Json.text(Map.of("actions", List.of(Map.of("type", "key", "id", "keyboard",
                "actions", List.of(Map.of("type", "keyDown", "value", key), Map.of("type", "keyUp", "value", key)))))));
        command("DELETE", "/actions", null);
    }

    /** A real mouse click at a point of the page (CSS pixels from the top left of the viewport). */
    public void clickAt(int x, int y) throws Exception {
        command("POST", "/actions", Json.text(Map.of("actions", List.of(Map.of("type", "pointer", "id", "mouse",
                "parameters", Map.of("pointerType", "mouse"),
                "actions", List.of(Map.of("type", "pointerMove", "origin", "viewport", "x", x, "y", y, "duration", 0),
                        Map.of("type", "pointerDown", "button", 0), Map.of("type", "pointerUp", "button", 0)))))));
        command("DELETE", "/actions", null);
    }

    /** A real mouse drag from a point of the page, {@code dx} pixels to the right, in a few moves. */
    public void drag(int x, int y, int dx) throws Exception {
        List<Map<String, Object>> steps = new java.util.ArrayList<>();
        steps.add(Map.of("type", "pointerMove", "origin", "viewport", "x", x, "y", y, "duration", 0));
        steps.add(Map.of("type", "pointerDown", "button", 0));
        for (int i = 1; i <= 4; i++) {
            steps.add(Map.of("type", "pointerMove", "origin", "viewport", "x", x + dx * i / 4, "y", y, "duration", 20));
        }
        steps.add(Map.of("type", "pointerUp", "button", 0));
        command("POST", "/actions", Json.text(Map.of("actions", List.of(Map.of("type", "pointer", "id", "mouse",
                "parameters", Map.of("pointerType", "mouse"), "actions", steps)))));
        command("DELETE", "/actions", null);
    }

    /** Accepts an open confirm() or alert() dialog. */
    public void acceptAlert() throws Exception {
        command("POST", "/alert/accept", "{}");
    }

    /** A Chrome DevTools command (Network.clearBrowserCache, Network.setCacheDisabled, ...). */
    public JsonNode cdp(String cmd, Map<String, Object> params) throws Exception {
        return command("POST", "/goog/cdp/execute", Json.text(Map.of("cmd", cmd, "params", params)));
    }

    /** Waits until {@code dir} holds a finished file whose name ends with {@code suffix}; returns it. */
    public static Path waitForFile(Path dir, String suffix, double seconds) throws Exception {
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        while (System.nanoTime() < deadline) {
            if (Files.isDirectory(dir)) {
                try (var files = Files.list(dir)) {
                    var hit = files.filter(f -> f.getFileName().toString().endsWith(suffix)).findFirst();
                    if (hit.isPresent() && Files.size(hit.get()) > 0) {
                        return hit.get();
                    }
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no file *" + suffix + " in " + dir + " after " + seconds + " s");
    }

    public void screenshot(Path file) throws Exception {
        Files.write(file, Base64.getDecoder().decode(command("GET", "/screenshot", null).asText()));
    }

    private JsonNode command(String method, String path, String body) throws Exception {
        JsonNode r = call(base, method, "/session/" + session + path, body);
        JsonNode value = r.path("value");
        if (value.isObject() && value.has("error")) {
            throw new IllegalStateException("WebDriver " + path + ": " + value.path("error").asText() + ": " + value.path("message").asText());
        }
        return value;
    }

    private static JsonNode call(String base, String method, String path, String body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(COMMAND_DEADLINE.plusSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        return Json.MAPPER.readTree(HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString()).body());
    }

    @Override
    public void close() {
        try {
            call(base, "DELETE", "/session/" + session, null);
        } catch (IOException | InterruptedException e) {
            // the driver is going away anyway
        }
        driver.destroyForcibly();
        TestServer.deleteTree(profile);
    }
}
