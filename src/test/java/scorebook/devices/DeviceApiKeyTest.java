package scorebook.devices;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.testing.Client;
import scorebook.testing.FakeModelServer;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static scorebook.testing.Console.output;
import static scorebook.testing.Console.quietly;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A device's upstream API key: sent as Bearer on calls and health checks, of both kinds; never shown again. */
class DeviceApiKeyTest {
    private static final String KEY = "sk-upstream-1234567890";
    private static final ConcurrentLinkedQueue<String> LOGGED = new ConcurrentLinkedQueue<>();
    private static final Handler CAPTURE = new Handler() {
        @Override
        public void publish(LogRecord r) {
            LOGGED.add(String.valueOf(r.getMessage()) + " " + java.util.Arrays.toString(r.getParameters()) + " " + r.getThrown());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private static TestServer server;

    @BeforeAll
    static void start() {
        Logger.getLogger("").addHandler(CAPTURE);
        server = TestServer.start();
    }

    @AfterAll
    static void stop() {
        server.close();
        Logger.getLogger("").removeHandler(CAPTURE);
        assertFalse(LOGGED.stream().anyMatch(l -> l.contains(KEY)), "a log line holds the key");
    }

    private static String register(FakeModelServer f, String serial, String extra) {
        String kind = f.kind() == FakeModelServer.Kind.OLLAMA ? "ollama" : "openai";
        return "{\"serial\":\"" + serial + "\",\"kind\":\"" + kind + "\",\"base_url\":\"" + f.url() + "\",\"models\":[\"m\"]"
                + extra + "}";
    }

    @Test
    void theKeyGoesUpstreamOnCallsAndHealthChecksOfBothKinds() {
        for (FakeModelServer f : List.of(FakeModelServer.ollama("m").requireApiKey(KEY), FakeModelServer.openai("m").requireApiKey(KEY))) {
            try (f) {
                Tenant t = Tenant.create(server);
                Client.Response reg = t.user().post("/devices/register", register(f, "vllm", ",\"api_key\":\"" + KEY + "\""));
                assertEquals(201, reg.status(), reg.text());
                JsonNode checked = t.user().post("/devices/reload", "").json().at("/data/0");
                assertTrue(checked.path("healthy").asBoolean(), "the health check sent the key: " + checked);
                Client.Response ask = t.gateway().post("/ask", "{\"prompt\":\"x\",\"model\":\"m\"}");
                assertEquals(200, ask.status(), ask.text());
                Client.Response v1 = t.gateway().post("/v1/chat/completions",
                        "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
                assertEquals(200, v1.status(), v1.text());
                assertTrue(f.authorizations().size() >= 3, f.authorizations().toString());
                assertTrue(f.authorizations().stream().allMatch(("Bearer " + KEY)::equals), f.authorizations().toString());
            }
        }
    }

    @Test
    void theKeyIsNeverReturnedOnlyThatThereIsOne() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer f = FakeModelServer.openai("m").requireApiKey(KEY)) {
            List<Client.Response> answers = new java.util.ArrayList<>();
            answers.add(t.user().post("/devices/register", register(f, "hosted", ",\"api_key\":\"" + KEY + "\"")));
            answers.add(t.user().get("/devices"));
            answers.add(t.user().get("/devices/hosted"));
            answers.add(t.user().post("/devices/reload", ""));
            for (Client.Response r : answers) {
                assertEquals(r.status() == 201 ? 201 : 200, r.status(), r.text());
                assertFalse(r.text().contains(KEY), r.text());
            }
            assertTrue(t.user().get("/devices/hosted").json().at("/device/has_api_key").asBoolean());

            // registering again without api_key keeps it; "" removes it
            assertEquals(200, t.user().post("/devices/register", register(f, "hosted", ",\"weight\":2")).status());
            assertTrue(t.user().post("/devices/reload", "").json().at("/data/0/healthy").asBoolean(), "the key was kept");
            assertEquals(200, t.user().post("/devices/register", register(f, "hosted", ",\"api_key\":\"\"")).status());
            JsonNode without = t.user().post("/devices/reload", "").json().at("/data/0");
            assertFalse(without.path("has_api_key").asBoolean());
            assertFalse(without.path("healthy").asBoolean());
            assertTrue(without.path("reason").asText().contains("401"), without.toString());
            assertEquals("", f.authorizations().getLast(), "no key: no Authorization header");
        }
    }

    /** What a registration stored, without the live health fields the health loop may change at any moment. */
    private static String registration(JsonNode device) {
        StringBuilder out = new StringBuilder();
        for (String field : List.of("serial", "kind", "base_url", "has_api_key", "registered_models", "weight",
                "max_concurrency", "queue_tags", "created_at", "updated_at")) {
            out.append(field).append('=').append(device.path(field)).append('\n');
        }
        return out.toString();
    }

    @Test
    void aBadKeyIs422WithoutEchoAndChangesNothing() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer f = FakeModelServer.ollama("m")) {
            assertEquals(201, t.user().post("/devices/register", register(f, "d", "")).status());
            String before = registration(t.user().get("/devices/d").json().path("device"));
            for (String bad : List.of("\"has space\"", "\"line\\r\\nX-Evil: 1\"", "42", "\"" + "k".repeat(4097) + "\"")) {
                Client.Response r = t.user().post("/devices/register", register(f, "d", ",\"weight\":9,\"api_key\":" + bad));
                assertEquals(422, r.status(), bad + ": " + r.text());
                assertTrue(r.json().path("detail").asText().contains("'api_key'"), r.text());
                assertFalse(r.text().contains("X-Evil") || r.text().contains("has space"), "the key is not echoed: " + r.text());
            }
            Client.Response agent = t.user().post("/devices/register", "{\"serial\":\"phone\",\"kind\":\"agent\",\"api_key\":\"k\"}");
            assertEquals(422, agent.status(), agent.text());
            assertEquals(before, registration(t.user().get("/devices/d").json().path("device")), "unchanged");
            assertEquals(404, t.user().get("/devices/phone").status());
        }
    }

    @Test
    void theCommandLineTakesTheKeyAndListsOnlyThatThereIsOne() throws Exception {
        try (FakeModelServer f = FakeModelServer.openai("m").requireApiKey(KEY)) {
            java.nio.file.Path dir = TestServer.tempDir();
            try {
                String data = dir.toString();
                assertEquals(0, quietly(() -> DeviceCommands.run(List.of("add", "--serial", "lm", "--kind", "openai", "--url", f.url(),
                        "--api-key", KEY, "--data", data))));
                String listed = output(() -> DeviceCommands.run(List.of("list", "--data", data)));
                assertTrue(listed.contains("lm\topenai\t" + f.url()) && listed.contains("api key set"), listed);
                assertFalse(listed.contains(KEY), listed);
                try (TestServer other = TestServer.startOn(dir)) {
                    // the command made the data folder, and its owner with a token of its own
                    String token = java.nio.file.Files.readString(dir.resolve("owner.token")).strip();
                    JsonNode d = other.client(token).post("/devices/reload", "").json().at("/data/0");
                    assertTrue(d.path("healthy").asBoolean(), d.toString());
                }
            } finally {
                TestServer.deleteTree(dir);
            }
        }
    }
}
