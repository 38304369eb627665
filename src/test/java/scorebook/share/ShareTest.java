package scorebook.share;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;
import scorebook.server.ServerConfig;
import scorebook.testing.Client;
import scorebook.testing.DbChecksum;
import scorebook.testing.Tenant;
import scorebook.testing.TestClock;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Share links: each opens its scope read-only without a login, and nothing else, until revoked or expired. */
class ShareTest {
    static final TestClock clock = TestClock.now();

    @AutoClose
    static final TestServer server = TestServer.start(ServerConfig.local(TestServer.tempDir(), TestServer.OWNER_TOKEN)
            .withClock(clock));
    static final Client anonymous = server.client(null);

    static final String ROWS = """
            {"results": [
              {"function": "f1", "result": {"scores": [{"key": "ok", "passed": true}], "input": "shared-input-1"}},
              {"function": "f2", "result": {"scores": [{"key": "ok", "passed": false}], "input": "shared-input-2"}}
            ]}""";

    static String run(Client c, String name, String input) {
        Client.Response r = c.post("/api/runs", "{\"session_name\": \"s\", \"run_name\": \"" + name + "\", \"eval_path\": \"evals\"}");
        assertEquals(201, r.status(), r.text());
        String id = r.json().path("run_id").asText();
        assertEquals(200, c.post("/api/runs/" + id + "/results", ROWS.replace("shared-input", input)).status());
        return id;
    }

    static JsonNode share(Client c, String body) {
        Client.Response r = c.post("/share", body);
        assertEquals(201, r.status(), r.text());
        return r.json();
    }

    @Test
    void aRunLinkShowsThatRunsResultsAndExportsWithoutALoginAndNothingElse() {
        Tenant t = Tenant.create(server);
        Tenant other = Tenant.create(server);
        String mine = run(t.user(), "mine", "visible");
        String notShared = run(t.user(), "not-shared", "hidden-same-user");
        String theirs = run(other.user(), "theirs", "hidden-other-user");
        JsonNode link = share(t.user(), "{\"scope\": {\"kind\": \"run\", \"run_id\": \"" + mine + "\"}}");
        String token = link.path("token").asText();
        assertTrue(token.startsWith("sbs_") && link.path("url").asText().endsWith("/?share=" + token), link.toString());

        JsonNode about = anonymous.get("/share/" + token).json();
        assertEquals("run", about.path("kind").asText());
        assertEquals(mine, about.at("/scope/run_id").asText());
        Client.Response results = anonymous.get("/share/" + token + "/results");
        assertEquals(200, results.status(), results.text());
        assertEquals(mine, results.json().path("run_id").asText());
        Client.Response rows = anonymous.get("/share/" + token + "/rows?limit=1");
        assertEquals(200, rows.status(), rows.text());
        assertTrue(rows.text().contains("visible-1"), rows.text());
        assertEquals(200, anonymous.get("/share/" + token + "/results/1").status());
        Client.Response csv = anonymous.get("/share/" + token + "/export.csv");
        assertEquals(200, csv.status());
        assertTrue(csv.text().contains("visible-2"), csv.text());
        assertEquals(200, anonymous.get("/share/" + token + "/export.json").status());

        // nothing outside the scope: other runs (same user or not), other kinds, other endpoints, writes
        for (String path : List.of("/share/" + token + "/usage/summary", "/share/" + token + "/jobs", "/share/" + token + "/devices",
                "/share/" + token + "/api/keys", "/share/" + token + "/../../api/keys", "/share/" + token + "/results/99")) {
            Client.Response r = anonymous.get(path);
            assertTrue(r.status() == 404 || r.status() == 400 || r.status() == 401, path + " -> " + r.status() + " " + r.text());
            assertFalse(r.text().contains("hidden"), r.text());
        }
        for (String path : List.of("/share/" + token + "/rows?run_id=" + notShared, "/share/" + token + "/rows?run_id=" + theirs,
                "/share/" + token + "/export.csv?run_id=" + theirs)) {
            Client.Response r = anonymous.get(path);
            assertTrue(r.status() < 500, path + " -> " + r.status() + " " + r.text());
            assertFalse(r.text().contains("hidden"), path);
        }
        Map<String, String> before = DbChecksum.of(server.dataDir(), Set.of("sessions"));
        for (String method : List.of("POST", "PUT", "PATCH", "DELETE")) {
            for (String sub : List.of("/results", "/results/0", "/rows", "/export.csv")) {
                Client.Response r = anonymous.send(method, "/share/" + token + sub, "{\"results\": []}");
                assertTrue(r.status() == 405, method + " " + sub + " -> " + r.status() + " " + r.text());
            }
        }
        assertEquals(401, anonymous.delete("/share/" + token).status(), "revoking needs the owner of the link");
        assertEquals(404, other.user().delete("/share/" + token).status(), "another user cannot revoke it");
        assertEquals(List.of(), DbChecksum.changed(before, DbChecksum.of(server.dataDir(), Set.of("sessions"))));

        // the link is the credential, not a login: the normal endpoints stay closed to it
        assertEquals(401, server.client(token).get("/api/runs/" + mine + "/data").status());
        assertEquals(401, anonymous.get("/api/runs/" + mine + "/data", "Authorization", "Bearer " + token).status());

        // revoked: at once, everywhere
        assertEquals(200, t.user().delete("/share/" + token).status());
        assertEquals(404, anonymous.get("/share/" + token).status());
        assertEquals(404, anonymous.get("/share/" + token + "/results").status());
        assertEquals(404, anonymous.get("/share/" + token + "/export.csv").status());
        JsonNode listed = t.user().get("/share").json().path("links").get(0);
        assertFalse(listed.path("active").asBoolean());
        assertFalse(t.user().get("/share").text().contains(token), "the list never shows tokens");
    }

    /** GET /s/{token} is the link's short form: a redirect to the dashboard's read-only page while the link is live. */
    @Test
    void aShortLinkRedirectsToTheSharedPageUntilRevokedOrExpired() {
        Tenant t = Tenant.create(server);
        String id = run(t.user(), "short", "x");
        JsonNode link = share(t.user(), "{\"scope\": {\"kind\": \"run\", \"run_id\": \"" + id + "\"}, \"expires_in\": 600}");
        String token = link.path("token").asText();
        Client.Response r = anonymous.get("/s/" + token);
        assertEquals(303, r.status(), r.text());
        assertEquals("/?share=" + token, r.header("Location").orElseThrow());
        assertEquals(405, anonymous.post("/s/" + token, "{}").status());
        assertEquals(404, anonymous.get("/s/sbs_nothing").status());
        assertTrue(anonymous.get("/s/sbs_nothing").header("Location").isEmpty());
        clock.advance(Duration.ofSeconds(601));
        assertEquals(410, anonymous.get("/s/" + token).status());

        String live = share(t.user(), "{\"scope\": {\"kind\": \"jobs\"}}").path("token").asText();
        assertEquals(303, anonymous.get("/s/" + live).status());
        assertEquals(200, t.user().delete("/share/" + live).status());
        assertEquals(404, anonymous.get("/s/" + live).status());
    }

    /**
     * Shared reads keep an opened link for a few seconds (no lookup and no scope parsing per read), and revoking
     * clears that at once: the read right after the revocation, on a clock that has not moved, is refused.
     */
    @Test
    void aRevokedLinkStopsAtOnceThoughItsReadsWereJustCached() {
        Tenant t = Tenant.create(server);
        String id = run(t.user(), "cached", "x");
        JsonNode link = share(t.user(), "{\"scope\": {\"kind\": \"run\", \"run_id\": \"" + id + "\"}}");
        String token = link.path("token").asText();
        for (int i = 0; i < 3; i++) {
            assertEquals(200, anonymous.get("/share/" + token + "/results").status());
        }
        assertEquals(200, t.user().delete("/share/" + link.path("id").asLong()).status());
        assertEquals(404, anonymous.get("/share/" + token + "/results").status());
        assertEquals(404, anonymous.get("/share/" + token).status());
        assertEquals(404, anonymous.get("/s/" + token).status());
    }

    @Test
    void anExpiredLinkIsGoneAndTheListAndRevokeByIdWork() {
        Tenant t = Tenant.create(server);
        String id = run(t.user(), "exp", "x");
        String token = share(t.user(), "{\"scope\": {\"kind\": \"run\", \"run_id\": \"" + id + "\"}, \"expires_in\": 60}")
                .path("token").asText();
        assertEquals(200, anonymous.get("/share/" + token + "/results").status());
        clock.advance(Duration.ofSeconds(61));
        assertEquals(410, anonymous.get("/share/" + token).status());
        assertEquals(410, anonymous.get("/share/" + token + "/results").status());
        JsonNode second = share(t.user(), "{\"scope\": {\"kind\": \"jobs\"}}");
        JsonNode links = t.user().get("/share").json().path("links");
        assertEquals(2, links.size());
        assertEquals(200, t.user().delete("/share/" + second.path("id").asLong()).status());
        assertEquals(404, anonymous.get("/share/" + second.path("token").asText() + "/jobs").status());
        assertEquals(404, anonymous.get("/share/sbs_nothing/results").status());
    }

    @Test
    void usageJobsAndDevicesLinksShowTheirScopeForcedAndOnlyTheLinkOwnersData() {
        Tenant t = Tenant.create(server);
        Tenant other = Tenant.create(server);
        long now = clock.millis();
        String rows = "[" + Json.text(Json.fields("ts", (now - 60_000) / 1000.0, "event_id", "a", "model", "m-shared", "ok", true))
                + "," + Json.text(Json.fields("ts", (now - 60_000) / 1000.0, "event_id", "b", "model", "m-hidden", "ok", true)) + "]";
        assertEquals(200, t.user().post("/usage/import", rows).status());
        assertEquals(200, other.user().post("/usage/import", rows).status());
        String token = share(t.user(), "{\"scope\": {\"kind\": \"usage\", \"filters\": {\"model\": \"m-shared\", \"minutes\": 60}}}")
                .path("token").asText();
        Client.Response s = anonymous.get("/share/" + token + "/usage/summary");
        assertEquals(200, s.status(), s.text());
        assertEquals(1, s.json().path("requests").asInt(), s.text());
        // the viewer cannot widen the filters or the range
        assertEquals(1, anonymous.get("/share/" + token + "/usage/summary?model=m-hidden&minutes=100000").json()
                .path("requests").asInt());
        Client.Response csv = anonymous.get("/share/" + token + "/usage/export.csv?model=m-hidden");
        assertEquals(200, csv.status(), csv.text());
        assertFalse(csv.text().contains("m-hidden"), csv.text());
        assertEquals(404, anonymous.get("/share/" + token + "/results").status());

        String jobs = share(t.user(), "{\"scope\": {\"kind\": \"jobs\"}}").path("token").asText();
        assertEquals(201, t.user().post("/api/jobs", "{\"prompt\":\"mine\",\"model\":\"none\"}").status());
        String theirJob = other.user().post("/api/jobs", "{\"prompt\":\"theirs\",\"model\":\"none\"}").json().path("job_id").asText();
        Client.Response list = anonymous.get("/share/" + jobs + "/jobs");
        assertEquals(200, list.status(), list.text());
        assertEquals(1, list.json().path("jobs").size(), list.text());
        assertEquals(404, anonymous.get("/share/" + jobs + "/jobs/" + theirJob).status());
        assertEquals(404, anonymous.get("/share/" + jobs + "/devices").status());

        String devices = share(t.user(), "{\"scope\": {\"kind\": \"devices\"}}").path("token").asText();
        assertEquals(200, anonymous.get("/share/" + devices + "/devices").status());
        assertEquals(404, anonymous.get("/share/" + devices + "/jobs").status());
    }

    @Test
    void badLinksAre4xxNamingTheFieldAndStoreNothing() {
        Tenant t = Tenant.create(server);
        Tenant other = Tenant.create(server);
        String theirs = run(other.user(), "theirs", "x");
        Map<String, String> before = DbChecksum.of(server.dataDir(), Set.of("sessions"));
        Map<String, String> cases = Map.ofEntries(
                Map.entry("{}", "scope"), Map.entry("{\"scope\": 3}", "scope"),
                Map.entry("{\"scope\": {\"kind\": \"everything\"}}", "scope.kind"),
                Map.entry("{\"scope\": {\"kind\": \"run\"}}", "scope.run_id"),
                Map.entry("{\"scope\": {\"kind\": \"jobs\", \"user\": 1}}", "scope.user"),
                Map.entry("{\"scope\": {\"kind\": \"usage\", \"filters\": {\"user_id\": 1}}}", "scope.filters.user_id"),
                Map.entry("{\"scope\": {\"kind\": \"usage\", \"filters\": {\"from\": \"yesterday\"}}}", "from"),
                Map.entry("{\"scope\": {\"kind\": \"usage\", \"filters\": {\"model\": {\"a\": 1}}}}", "scope.filters.model"),
                Map.entry("{\"scope\": {\"kind\": \"jobs\"}, \"expires_in\": 0}", "expires_in"),
                Map.entry("{\"scope\": {\"kind\": \"jobs\"}, \"expires_in\": 1.5}", "expires_in"),
                Map.entry("{\"scope\": {\"kind\": \"jobs\"}, \"expires_in\": \"60\"}", "expires_in"),
                Map.entry("{\"scope\": {\"kind\": \"jobs\"}, \"forever\": true}", "forever"));
        cases.forEach((body, field) -> {
            Client.Response r = t.user().post("/share", body);
            assertEquals(422, r.status(), body + " -> " + r.text());
            assertTrue(r.json().path("detail").asText().contains(field), body + " -> " + r.text());
        });
        assertEquals(400, t.user().post("/share", "{\"scope\":").status());
        assertEquals(404, t.user().post("/share", "{\"scope\": {\"kind\": \"run\", \"run_id\": \"" + theirs + "\"}}").status());
        assertEquals(401, anonymous.post("/share", "{\"scope\": {\"kind\": \"jobs\"}}").status());
        assertEquals(List.of(), DbChecksum.changed(before, DbChecksum.of(server.dataDir(), Set.of("sessions"))));
    }
}
