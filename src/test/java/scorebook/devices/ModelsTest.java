package scorebook.devices;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import scorebook.auth.AuthStore;
import scorebook.server.ApiException;
import scorebook.store.Database;
import scorebook.testing.FakeModelServer;
import scorebook.testing.TestServer;
import scorebook.testing.Wait;
import scorebook.usage.UsageStore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Java interface other features call ({@link Models}), without the web server; and the usage writer's flush. */
class ModelsTest {
    private Path dir;
    private Database db;
    private Devices devices;
    private long userId;

    @BeforeEach
    void open() {
        dir = TestServer.tempDir();
        db = Database.open(dir);
        AuthStore auth = new AuthStore(db);
        auth.createOwnerIfMissing("t");
        userId = auth.userByName("owner").orElseThrow().id();
        devices = new Devices(db);
        devices.start();
    }

    @AfterEach
    void close() {
        devices.close();
        db.close();
        TestServer.deleteTree(dir);
    }

    @Test
    void aFeatureCallsAModelAndGetsAUsageRow() throws Exception {
        try (FakeModelServer f = FakeModelServer.ollama("judge-model")) {
            devices.register(userId, DeviceService.registration("box", "ollama", null, f.url(), List.of("judge-model"), null, 2));
            List<String> pieces = new ArrayList<>();
            ModelReply r = devices.models().stream(userId, null, ModelRequest.of("Grade it.", "Answer: 4")
                    .withSource("judge").withTag("suite-a").withTimeout(Duration.ofSeconds(30)), pieces::add);
            assertEquals("Hello world!", r.content());
            assertEquals(List.of("Hello", " world", "!"), pieces);
            assertEquals("box", r.device());
            assertEquals(7, r.promptTokens());
            assertTrue(r.ttftMs() != null && r.ttftMs() <= r.latencyMs());

            ModelReply again = devices.models().call(userId, null, ModelRequest.of(null, "again").withModel("judge-model"));
            assertEquals("Hello world!", again.content());

            assertTrue(devices.usage().flush(Wait.DEADLINE));
            List<UsageStore.Row> rows = devices.usage().recent(userId, 10);
            assertEquals(2, rows.size());
            UsageStore.Row judge = rows.get(1);
            assertEquals("judge", judge.sourceKind());
            assertEquals("suite-a", judge.tag());
            assertNull(judge.apiKeyId());
            assertEquals("eval", rows.get(0).sourceKind(), "the default source");
            assertEquals(3, judge.completionTokens());
        }
    }

    @Test
    void failuresComeBackAsApiExceptionsAndAreRecorded() {
        ApiException none = assertThrows(ApiException.class,
                () -> devices.models().call(userId, null, ModelRequest.of(null, "x").withSource("job").withJobId("job_1")));
        assertEquals(503, none.status().code());
        devices.usage().flush(Wait.DEADLINE);
        UsageStore.Row row = devices.usage().recent(userId, 1).getFirst();
        assertEquals("no_device", row.errorType());
        assertEquals("job_1", row.jobId());
        assertTrue(!row.ok());
    }

    @Test
    void closingTheFeatureWritesWhatIsQueued() {
        try (FakeModelServer f = FakeModelServer.openai("m")) {
            devices.register(userId, DeviceService.registration("d", "openai", null, f.url(), List.of("m"), null, 8));
            for (int i = 0; i < 20; i++) {
                devices.models().call(userId, null, ModelRequest.of(null, "x"));
            }
            devices.close();
            long stored = db.read(h -> h.createQuery("SELECT count(*) FROM usage_events WHERE user_id = ?").bind(0, userId)
                    .mapTo(long.class).one());
            assertEquals(20, stored);
        }
    }

    @Test
    void aBusyDeviceMakesTheNextCallWaitForItsSlot() throws Exception {
        try (FakeModelServer f = FakeModelServer.ollama("m").holdAfterFirstToken()) {
            devices.register(userId, DeviceService.registration("one", "ollama", null, f.url(), List.of("m"), null, 1));
            Thread first = Thread.ofVirtual().start(() -> devices.models().call(userId, null, ModelRequest.of(null, "1")));
            assertTrue(f.awaitFirstTokenSent());
            ApiException busy = assertThrows(ApiException.class, () -> devices.models().call(userId, null,
                    ModelRequest.of(null, "2").withQueueWait(Duration.ZERO)));
            assertEquals(503, busy.status().code());
            assertTrue(busy.getMessage().contains("busy (1/1 calls in flight)"), busy.getMessage());
            Thread second = Thread.ofVirtual().start(() -> devices.models().call(userId, null, ModelRequest.of(null, "3")));
            f.release();
            assertTrue(first.join(Wait.DEADLINE), "the first call ended");
            assertTrue(second.join(Wait.DEADLINE), "the waiting call ended");
            assertEquals(2, f.chats(), "the waiting call ran once the slot was free");
        }
    }
}
