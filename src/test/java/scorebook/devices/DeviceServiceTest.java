package scorebook.devices;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.auth.AuthStore;
import scorebook.store.Database;
import scorebook.testing.Client;
import scorebook.testing.FakeModelServer;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static scorebook.testing.Console.output;
import static scorebook.testing.Console.quietly;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** /devices: register, list with health, reload, remove; per-user visibility; the command line. */
class DeviceServiceTest {
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void registerListUpdateAndRemove() {
        Tenant t = Tenant.create(server);
        try (FakeModelServer f = FakeModelServer.ollama("llama3.2", "qwen")) {
            Client.Response created = t.user().post("/devices/register", """
                    {"serial":"gpu-1","kind":"ollama","base_url":"%s/","models":["llama3.2"],"weight":2,"max_concurrency":3,"name":"Desk GPU"}"""
                    .formatted(f.url()));
            assertEquals(201, created.status(), created.text());
            JsonNode d = created.json().path("device");
            assertEquals("gpu-1", d.path("id").asText());
            assertEquals("ollama", d.path("kind").asText());
            assertEquals("push", d.path("mode").asText());
            assertEquals(f.url(), d.path("base_url").asText(), "trailing slash dropped");
            assertEquals(2, d.path("weight").asInt());
            assertEquals(3, d.path("max_concurrency").asInt());
            assertEquals("Desk GPU", d.path("name").asText());

            Client.Response updated = t.user().post("/devices/register",
                    "{\"serial\":\"gpu-1\",\"kind\":\"ollama\",\"base_url\":\"" + f.url() + "\",\"weight\":5}");
            assertEquals(200, updated.status());
            assertFalse(updated.json().path("created").asBoolean());
            assertEquals(5, updated.json().at("/device/weight").asInt());

            JsonNode list = t.user().post("/devices/reload", "").json();
            assertEquals("list", list.path("object").asText());
            assertEquals(1, list.path("data").size());
            JsonNode one = list.at("/data/0");
            assertTrue(one.path("healthy").asBoolean());
            assertEquals("ok", one.path("reason").asText());
            assertEquals(0, one.path("inflight").asInt());
            assertTrue(one.path("last_ok_at").asText().endsWith("Z"));
            assertTrue(one.path("last_error_at").isNull());
            assertEquals(List.of("llama3.2", "qwen"), texts(one.path("reported_models")));
            assertEquals(List.of("llama3.2", "qwen"), texts(one.path("models")), "no registered models: what it reports");

            assertEquals(1, t.user().get("/devices").json().path("data").size());
            assertEquals(200, t.user().delete("/devices/gpu-1").status());
            assertEquals(404, t.user().get("/devices/gpu-1").status());
            assertEquals(404, t.user().delete("/devices/gpu-1").status());
            assertEquals(0, t.user().get("/devices").json().path("data").size());
        }
    }

    @Test
    void anUnreachableServerIsListedUnhealthyWithTheReason() {
        Tenant t = Tenant.create(server);
        t.user().post("/devices/register", "{\"serial\":\"gone\",\"kind\":\"openai\",\"base_url\":\"http://127.0.0.1:1/v1\",\"models\":[\"m\"]}");
        JsonNode d = t.user().post("/devices/reload", "").json().at("/data/0");
        assertEquals("http://127.0.0.1:1", d.path("base_url").asText(), "an OpenAI base URL is kept without /v1");
        assertFalse(d.path("healthy").asBoolean());
        assertTrue(d.path("reason").asText().contains("cannot connect to http://127.0.0.1:1/v1/models"), d.toString());
        assertTrue(d.path("last_error_at").isTextual());
    }

    @Test
    void agentsAreListedButNotCalled() {
        Tenant t = Tenant.create(server);
        Client.Response r = t.user().post("/devices/register", "{\"serial\":\"phone\",\"kind\":\"agent\",\"models\":[\"tiny\"]}");
        assertEquals(201, r.status(), r.text());
        assertEquals("pull", r.json().at("/device/mode").asText());
        assertTrue(r.json().at("/device/base_url").isNull());
        Client.Response ask = t.gateway().post("/ask", "{\"prompt\":\"x\",\"device_serial\":\"phone\"}");
        assertEquals(503, ask.status());
        assertTrue(ask.json().path("detail").asText().contains("agent"));
    }

    @Test
    void invalidRegistrationsName422TheField() {
        Tenant t = Tenant.create(server);
        assertInvalid(t, "{\"kind\":\"ollama\",\"base_url\":\"http://x\"}", "'serial'");
        assertInvalid(t, "{\"serial\":\"a/b\",\"kind\":\"ollama\",\"base_url\":\"http://x\"}", "'serial'");
        assertInvalid(t, "{\"serial\":\"reload\",\"kind\":\"agent\"}", "'serial'");
        assertInvalid(t, "{\"serial\":\"a\",\"kind\":\"tpu\",\"base_url\":\"http://x\"}", "'kind'");
        assertInvalid(t, "{\"serial\":\"a\",\"kind\":\"ollama\"}", "'base_url'");
        assertInvalid(t, "{\"serial\":\"a\",\"kind\":\"ollama\",\"base_url\":\"ftp://x\"}", "'base_url'");
        assertInvalid(t, "{\"serial\":\"a\",\"kind\":\"agent\",\"base_url\":\"http://x\"}", "'base_url'");
        assertInvalid(t, "{\"serial\":\"a\",\"kind\":\"ollama\",\"base_url\":\"http://x\",\"weight\":0}", "'weight'");
        assertInvalid(t, "{\"serial\":\"a\",\"kind\":\"ollama\",\"base_url\":\"http://x\",\"max_concurrency\":1.5}", "'max_concurrency'");
        assertInvalid(t, "{\"serial\":\"a\",\"kind\":\"ollama\",\"base_url\":\"http://x\",\"models\":\"m\"}", "'models'");
        assertEquals(400, t.user().post("/devices/register", "{nope").status());
        assertEquals(0, t.user().get("/devices").json().path("data").size(), "nothing stored");
    }

    private static void assertInvalid(Tenant t, String body, String field) {
        Client.Response r = t.user().post("/devices/register", body);
        assertEquals(422, r.status(), body + " → " + r.text());
        assertTrue(r.json().path("detail").asText().contains(field), r.text());
    }

    @Test
    void devicesArePrivateAndNeedAUserToken() {
        Tenant a = Tenant.create(server);
        Tenant b = Tenant.create(server);
        a.user().post("/devices/register", "{\"serial\":\"mine\",\"kind\":\"agent\"}");
        assertEquals(404, b.user().get("/devices/mine").status());
        assertEquals(404, b.user().delete("/devices/mine").status());
        assertEquals(0, b.user().get("/devices").json().path("data").size());
        assertEquals(200, a.user().get("/devices/mine").status());
        assertEquals(401, server.client(null).get("/devices").status());
        assertEquals(401, server.withHeaders("X-Api-Key", a.apiKey()).get("/devices").status(), "an API key is not a user token");
        assertEquals(405, a.user().put("/devices", "{}").status());
        assertEquals(405, a.user().get("/devices/register").status());
    }

    @Test
    void theCommandLineAddsListsAndRemoves() {
        Path dir = TestServer.tempDir();
        try {
            try (Database db = Database.open(dir)) {
                new AuthStore(db).createOwnerIfMissing("t");
            }
            String data = dir.toString();
            assertEquals(0, quietly(() -> DeviceCommands.run(List.of("add", "--serial", "s1", "--kind", "ollama", "--url",
                    "http://127.0.0.1:11434", "--model", "a", "--model", "b", "--weight", "2", "--concurrency", "4", "--data", data))));
            assertEquals(0, quietly(() -> DeviceCommands.run(List.of("add", "--serial", "s2", "--kind", "agent", "--data", data))));
            String listed = output(() -> DeviceCommands.run(List.of("list", "--data", data)));
            assertTrue(listed.contains("s1\tollama\thttp://127.0.0.1:11434\ta,b\tweight 2\tconcurrency 4"), listed);
            assertTrue(listed.contains("s2\tagent"), listed);
            assertEquals(0, quietly(() -> DeviceCommands.run(List.of("remove", "s1", "--data", data))));
            assertEquals(1, quietly(() -> DeviceCommands.run(List.of("remove", "s1", "--data", data))));
            assertThrows(IllegalArgumentException.class, () -> DeviceCommands.run(List.of("add", "--serial", "x", "--data", data)));
            assertEquals(1, quietly(() -> DeviceCommands.run(List.of("add", "--serial", "x", "--kind", "ollama", "--data", data))),
                    "a model server needs --url");
            try (Database db = Database.open(dir)) {
                List<Device> left = new DeviceStore(db).list(new AuthStore(db).userByName("owner").orElseThrow().id());
                assertEquals(List.of("s2"), left.stream().map(Device::serial).toList());
            }
        } finally {
            TestServer.deleteTree(dir);
        }
    }

    private static List<String> texts(JsonNode array) {
        return java.util.stream.StreamSupport.stream(array.spliterator(), false).map(JsonNode::asText).toList();
    }
}
