package scorebook;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import scorebook.testing.ApiRoutes;
import scorebook.testing.ApiRoutes.Auth;
import scorebook.testing.ApiRoutes.Operation;
import scorebook.testing.Client;
import scorebook.testing.DbChecksum;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The access matrix over every endpoint the OpenAPI document lists: no credential, a bad one, a revoked key,
 * another user's token on your data, an API key where a user token is needed and the reverse, and your own
 * login cookie sent without this server's Origin (a cross-site write). Each cell is the 401, 403 or 404 DESIGN.md
 * gives, no answer carries the victim's data, and the victim's data is the same afterwards.
 */
class AccessTest {
    @AutoClose
    private static final TestServer server = TestServer.start();
    private static final Tenant victim = Tenant.create(server);
    private static final Tenant attacker = Tenant.create(server);
    private static final String RUN_ID;
    private static final String COOKIE;
    private static final String REVOKED_KEY;
    private static int cells;

    /** Bodies that would be valid for the operation, so that a 404 comes from ownership, not from validation. */
    private static final Map<String, String> BODIES = Map.of(
            "PATCH /api/runs/{run_id}", "{\"run_name\": \"stolen\"}",
            "POST /api/runs/{run_id}/results", "{\"results\": [{\"function\": \"f\", \"result\": {\"output\": \"stolen\"}}]}",
            "PATCH /api/runs/{run_id}/results/{index}", "{\"result\": {\"annotation\": \"stolen\"}}");

    static {
        Client v = victim.user();
        RUN_ID = v.post("/api/runs", "{\"session_name\": \"victim-session\", \"run_name\": \"victim-run-name\"}").json()
                .path("run_id").asText();
        v.post("/api/runs/" + RUN_ID + "/results", "{\"results\": [{\"function\": \"victim-fn\", \"result\": {\"output\": \"victim-out\"}}]}");
        v.post("/devices/register", "{\"serial\": \"victim-serial\", \"kind\": \"agent\", \"name\": \"victim-device\"}");
        v.post("/api/keys", "{\"name\": \"victim-key\"}");
        String setCookie = server.client(null).get("/?token=" + victim.token()).header("Set-Cookie").orElseThrow();
        COOKIE = setCookie.substring(0, setCookie.indexOf(';'));
        Client.Response k = attacker.user().post("/api/keys", "{\"name\": \"revoked\"}");
        REVOKED_KEY = k.json().path("secret").asText();
        attacker.user().delete("/api/keys/" + k.json().at("/key/id").asLong());
    }

    @AfterAll
    static void figures() {
        System.out.println("AccessTest: " + cells + " access cells checked over " + ApiRoutes.operations().size() + " operations");
    }

    /** Strings only the victim's data holds: none may appear in an answer to anyone else. */
    private static final List<String> MARKERS = List.of("victim-session", "victim-run-name", "victim-fn", "victim-out",
            "victim-device", "victim-key", victim.name(), victim.token(), victim.apiKey());

    /** The victim's view of their own data, to compare before and after. */
    private static String victimState() {
        Client v = victim.user();
        return v.get("/api/runs/" + RUN_ID + "/export/json").text() + v.get("/devices/victim-serial").text()
                + v.get("/api/keys").text() + v.get("/api/sessions").text() + v.get("/api/me").text();
    }

    /** The path with the victim's own ids in it. */
    private static String victimPath(Operation o) {
        return o.concrete(name -> switch (name) {
            case "run_id" -> RUN_ID;
            case "index" -> "0";
            case "serial" -> "victim-serial";
            case "name" -> "victim-session";
            case "id" -> String.valueOf(o.path().startsWith("/api/users") ? victim.userId() : victim.apiKeyId());
            case "path" -> o.path().startsWith("/vendor/") ? "chart.js/4.5.1/dist/chart.umd.js" : "js/main.js";
            default -> "nothing";
        });
    }

    private static Client.Response call(Operation o, String... headers) {
        String body = o.hasBody() ? BODIES.getOrDefault(o.toString(), "{}") : null;
        cells++;
        return server.withHeaders(headers).send(o.method(), victimPath(o), body);
    }

    private static void expect(List<String> failures, Operation o, String cell, Client.Response r, Set<Integer> statuses) {
        if (!statuses.contains(r.status())) {
            failures.add(o + " [" + cell + "] -> " + r.status() + " " + r.text());
        }
        for (String m : MARKERS) {
            // an answer may echo what the caller sent (a session name in the path), which is no leak
            if (r.text().contains(m) && !victimPath(o).contains(m)) {
                failures.add(o + " [" + cell + "] leaks " + m + ": " + r.text());
            }
        }
    }

    @Test
    void everyEndpointRefusesTheWrongCredentialAndStoresNothing() {
        List<String> failures = new ArrayList<>();
        Map<String, String> before = DbChecksum.of(server.dataDir(), Set.of("sessions"));
        String state = victimState();
        Set<Integer> unauthorized = Set.of(401);
        for (Operation o : ApiRoutes.operations()) {
            if (o.auth() == Auth.PUBLIC) {
                Client.Response r = call(o);
                assertTrue(r.status() != 401 && r.status() < 500, o + " is public: " + r.status());
                continue;
            }
            expect(failures, o, "no credential", call(o), unauthorized);
            if (o.auth() == Auth.USER || o.auth() == Auth.METRICS) {
                expect(failures, o, "bad token", call(o, "X-User-Token", "sbu_not-a-token"), unauthorized);
                expect(failures, o, "bad bearer", call(o, "Authorization", "Bearer sbu_not-a-token"), unauthorized);
                expect(failures, o, "API key as X-User-Token", call(o, "X-User-Token", victim.apiKey()), unauthorized);
                expect(failures, o, "API key as bearer", call(o, "Authorization", "Bearer " + victim.apiKey()), unauthorized);
                expect(failures, o, "API key header", call(o, "X-Api-Key", victim.apiKey()), unauthorized);
                expect(failures, o, "revoked key", call(o, "Authorization", "Bearer " + REVOKED_KEY), unauthorized);
                if (!o.method().equals("GET")) {
                    expect(failures, o, "cookie without Origin", call(o, "Cookie", COOKIE), Set.of(403));
                    expect(failures, o, "cookie from another site",
                            call(o, "Cookie", COOKIE, "Origin", "http://evil.example"), Set.of(403));
                }
            } else if (o.auth() == Auth.DEVICE) {
                // an agent's calls take its device token and nothing else
                expect(failures, o, "bad device token", call(o, "X-Device-Token", "sbd_not-a-token"), unauthorized);
                expect(failures, o, "user token", call(o, "X-User-Token", victim.token()), unauthorized);
                expect(failures, o, "user token as bearer", call(o, "Authorization", "Bearer " + victim.token()), unauthorized);
                expect(failures, o, "API key", call(o, "X-Api-Key", victim.apiKey()), unauthorized);
                expect(failures, o, "cookie", call(o, "Cookie", COOKIE, "Origin", server.base()), unauthorized);
            } else {
                expect(failures, o, "bad key", call(o, "X-Api-Key", "sbk_not-a-key"), unauthorized);
                expect(failures, o, "revoked key", call(o, "X-Api-Key", REVOKED_KEY), unauthorized);
                expect(failures, o, "revoked key as bearer", call(o, "Authorization", "Bearer " + REVOKED_KEY), unauthorized);
                expect(failures, o, "user token as key", call(o, "X-Api-Key", victim.token()), unauthorized);
                expect(failures, o, "user token as bearer", call(o, "Authorization", "Bearer " + victim.token()), unauthorized);
                expect(failures, o, "user token header", call(o, "X-User-Token", victim.token()), unauthorized);
                // the dashboard's playground calls the gateway with its login cookie: a write needs this server's Origin
                if (!o.method().equals("GET")) {
                    expect(failures, o, "cookie without Origin", call(o, "Cookie", COOKIE), Set.of(403));
                    expect(failures, o, "cookie from another site",
                            call(o, "Cookie", COOKIE, "Origin", "http://evil.example"), Set.of(403));
                }
                expect(failures, o, "expired cookie", call(o, "Cookie", "scorebook_session=not-a-session", "Origin", server.base()),
                        unauthorized);
            }
        }
        assertEquals(List.of(), failures);
        assertEquals(List.of(), DbChecksum.changed(before, DbChecksum.of(server.dataDir(), Set.of("sessions"))));
        assertEquals(state, victimState());
    }

    @Test
    void anotherUsersCredentialNeverReachesYourData() {
        List<String> failures = new ArrayList<>();
        String state = victimState();
        for (Operation o : ApiRoutes.operations()) {
            if (o.auth() == Auth.PUBLIC) {
                continue;
            }
            boolean yours = o.path().contains("{") && !o.path().startsWith("/v1/models/");
            Client.Response r = o.auth() == Auth.USER || o.auth() == Auth.METRICS ? call(o, "X-User-Token", attacker.token())
                    : call(o, "X-Api-Key", attacker.apiKey());
            if (o.auth() == Auth.DEVICE) {
                // another user's token is no device token at all
                expect(failures, o, "another user's token", r, Set.of(401));
            } else if (o.auth() == Auth.METRICS) {
                // the server's metrics are the owner's (or a scraper's with the metrics token): a user is refused
                expect(failures, o, "another user's token", r, Set.of(403));
            } else if (o.path().startsWith("/api/users")) {
                // the owner's user administration: another user is refused outright
                expect(failures, o, "another user's token", r, o.method().equals("GET") ? Set.of(200) : Set.of(403));
            } else if (o.path().startsWith("/api/admin/")) {
                // the server's administration (backups): the owner's alone
                expect(failures, o, "another user's token", r, Set.of(403));
            } else if (o.path().equals("/api/sessions/{name}/runs")) {
                // as in the eval API it follows: a session you have no runs in is an empty list, yours or not
                expect(failures, o, "another user's token", r, Set.of(200));
                assertEquals(0, r.json().path("runs").size(), r.text());
            } else if (yours) {
                expect(failures, o, "another user's token", r, Set.of(404));
            } else {
                expect(failures, o, "another user's token", r, Set.of(200, 201, 400, 404, 409, 422, 503));
            }
        }
        assertEquals(List.of(), failures);
        assertEquals(state, victimState(), "the victim's runs, devices, keys and sessions are as they were");
    }
}
