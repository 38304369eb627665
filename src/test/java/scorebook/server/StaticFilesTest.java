package scorebook.server;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import scorebook.testing.Client;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
                base.maxBodyBytes(), TestServer.OWNER_TOKEN, base.clock(), base.publicUrl(), false);
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
}
