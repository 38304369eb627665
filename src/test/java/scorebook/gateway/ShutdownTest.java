package scorebook.gateway;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import scorebook.store.Database;
import scorebook.testing.FakeModelServer;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Stopping the server writes every usage row it has queued. */
class ShutdownTest {
    @Test
    void usageRowsQueuedAtShutdownAreStored() {
        Path dir = TestServer.tempDir();
        try (FakeModelServer f = FakeModelServer.openai("m")) {
            long userId;
            try (TestServer server = TestServer.startOn(dir)) {
                Tenant t = Tenant.create(server);
                userId = t.userId();
                t.device("d", f, "[\"m\"]", "\"max_concurrency\": 8");
                for (int i = 0; i < 30; i++) {
                    assertEquals(200, t.gateway().post("/ask", "{\"prompt\":\"x\"}").status());
                }
            }
            try (Database db = Database.open(dir)) {
                long rows = db.read(h -> h.createQuery("SELECT count(*) FROM usage_events WHERE user_id = ? AND ok = 1")
                        .bind(0, userId).mapTo(long.class).one());
                assertEquals(30, rows);
            }
        } finally {
            TestServer.deleteTree(dir);
        }
    }
}
