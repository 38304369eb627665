package scorebook.server;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import scorebook.testing.Client;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StaticFilesTest {

    @Test
    void withWebDirTheDashboardComesFromDiskAndEditsShowWithoutARestart() throws Exception {
        Path data = TestServer.tempDir();
        Path web = Files.createDirectories(data.resolve("web/js"));
        Files.writeString(data.resolve("web/index.html"), "<p>first</p>");
        Files.writeString(web.resolve("main.js"), "export const x = 1;");
        ServerConfig base = ServerConfig.local(data, TestServer.OWNER_TOKEN);
        ServerConfig config = new ServerConfig(base.host(), 0, data, base.evalPath(), data.resolve("web"),
                base.maxBodyBytes(), TestServer.OWNER_TOKEN, base.clock(), base.publicUrl(), false, null);
        try (TestServer server = TestServer.start(config)) {
            Client anyone = server.client(null);
            assertEquals("<p>first</p>", anyone.get("/").text());
            Files.writeString(data.resolve("web/index.html"), "<p>edited</p>");
            assertEquals("<p>edited</p>", anyone.get("/").text());
            Client.Response js = anyone.get("/static/js/main.js");
            assertEquals(200, js.status());
            assertTrue(js.header("Content-Type").orElseThrow().startsWith("text/javascript"));
            assertEquals(404, anyone.get("/static/js/missing.js").status());
            assertEquals("not_found", anyone.get("/static/js/missing.js").errorCode());
        } finally {
            TestServer.deleteTree(data);
        }
    }

    @Test
    void dashboardFilesCarryTheContentSecurityPolicyAndRevalidateWithAnETag() {
        try (TestServer server = TestServer.start()) {
            Client anyone = server.client(null);
            for (String path : List.of("/", "/static/js/main.js", "/static/app.css")) {
                Client.Response r = anyone.get(path);
                assertEquals(200, r.status(), path);
                String csp = r.header("Content-Security-Policy").orElseThrow(() -> new AssertionError("no CSP on " + path));
                assertTrue(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), csp);
                assertFalse(csp.contains("unsafe-inline"), csp);
                String etag = r.header("ETag").orElseThrow();
                Client.Response again = anyone.get(path, "If-None-Match", etag);
                assertEquals(304, again.status(), path);
                assertEquals("", again.text());
                assertEquals(200, anyone.get(path, "If-None-Match", "\"other\"").status());
            }
            Client.Response page = anyone.get("/");
            assertFalse(page.text().contains("<script>") || page.text().contains("type=\"importmap\"") || page.text().contains("style=\""),
                    "the page holds no inline script or style: " + page.text());
        }
    }

    @Test
    void fromTheJarThePageNamesItsFilesUnderThisStartsVersionSoBrowsersKeepThem() {
        try (TestServer server = TestServer.start()) {
            Client anyone = server.client(null);
            String page = anyone.get("/").text();
            Matcher m = Pattern.compile("\"/static/(_v[0-9a-z]+)/js/main\\.js\"").matcher(page);
            assertTrue(m.find(), page);
            Client.Response current = anyone.get("/static/" + m.group(1) + "/js/main.js");
            assertEquals(200, current.status());
            assertEquals("public, max-age=31536000, immutable", current.header("Cache-Control").orElseThrow());
            assertEquals(anyone.get("/static/js/main.js").text(), current.text());
            Client.Response older = anyone.get("/static/_vold/js/main.js");
            assertEquals(200, older.status(), "a page from before a restart still gets its files");
            assertEquals("no-cache", older.header("Cache-Control").orElseThrow());
            assertEquals(404, anyone.get("/static/" + m.group(1) + "/js/nothing.js").status());
        }
    }
}
