package scorebook;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import scorebook.testing.Client;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Run ids and device serials name things within one user (docs/hardening.md, "Ids are per user"): another user
 * may import a run under an id that is yours, or register a device with your serial, and gets their own, while
 * yours stays exactly as it was.
 */
class IdsArePerUserTest {
    @AutoClose
    private static final TestServer server = TestServer.start();

    @Test
    void anotherUserImportingYourRunIdGetsTheirOwnRunAndYoursIsUntouched() {
        Tenant ana = Tenant.create(server);
        Tenant bob = Tenant.create(server);
        String id = ana.user().post("/api/runs", "{\"session_name\": \"s\", \"run_name\": \"ana-run\"}").json()
                .path("run_id").asText();
        ana.user().post("/api/runs/" + id + "/results",
                "{\"results\": [{\"function\": \"f\", \"result\": {\"output\": \"ana's\"}}]}");
        String before = ana.user().get("/api/runs/" + id + "/export/json").text();

        String theirs = "{\"session_name\": \"t\", \"run_name\": \"bob-run\", \"run_id\": \"" + id
                + "\", \"results\": [{\"function\": \"g\", \"result\": {\"output\": \"bob's\"}},"
                + " {\"function\": \"h\", \"result\": {\"output\": \"bob's too\"}}]}";
        Client.Response imported = bob.user().post("/api/runs/import", theirs);
        assertEquals(201, imported.status(), imported.text());
        assertEquals(id, imported.json().path("run_id").asText());

        assertEquals(before, ana.user().get("/api/runs/" + id + "/export/json").text(), "ana's run is unchanged");
        assertEquals("ana-run", ana.user().get("/results").json().path("run_name").asText());
        assertEquals(2, bob.user().get("/api/runs/" + id + "/data").json().path("results").size());
        assertEquals(409, bob.user().post("/api/runs/import", theirs).status(), "the id is now taken for bob");
        assertEquals(200, bob.user().delete("/api/runs/" + id).status());
        assertEquals(before, ana.user().get("/api/runs/" + id + "/export/json").text(), "bob deleting his run leaves ana's");
    }

    @Test
    void anotherUserRegisteringYourSerialGetsTheirOwnDeviceAndYoursIsUntouched() {
        Tenant ana = Tenant.create(server);
        Tenant bob = Tenant.create(server);
        assertEquals(201, ana.user().post("/devices/register",
                "{\"serial\": \"gpu1\", \"kind\": \"agent\", \"name\": \"ana's box\"}").status());
        String before = ana.user().get("/devices/gpu1").json().path("device").toString();

        Client.Response r = bob.user().post("/devices/register",
                "{\"serial\": \"gpu1\", \"kind\": \"openai\", \"base_url\": \"http://127.0.0.1:9\", \"name\": \"bob's\"}");
        assertEquals(201, r.status(), "new for bob, not an update of ana's: " + r.text());
        assertEquals(before, ana.user().get("/devices/gpu1").json().path("device").toString());
        assertEquals("openai", bob.user().get("/devices/gpu1").json().at("/device/kind").asText());
        assertEquals(200, bob.user().delete("/devices/gpu1").status());
        assertEquals(before, ana.user().get("/devices/gpu1").json().path("device").toString(), "still there");
        assertEquals(404, bob.user().get("/devices/gpu1").status());
    }
}
