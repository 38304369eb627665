package scorebook.server;

import org.junit.jupiter.api.Test;

import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonTest {

    @Test
    void fieldsKeepTheirOrderOnTheWire() {
        assertTrue(Json.text(Json.fields("ok", true, "b", 2, "a", 1)).equals("{\"ok\":true,\"b\":2,\"a\":1}"));
        try (TestServer server = TestServer.start()) {
            String keys = server.owner().get("/api/keys").text();
            assertTrue(keys.startsWith("{\"ok\":true,\"keys\":"), keys);
            String created = server.owner().post("/api/keys", "{\"name\": \"k\"}").text();
            assertTrue(created.startsWith("{\"ok\":true,\"key\":{") && created.contains("},\"secret\":\"sbk_"), created);
        }
    }
}
