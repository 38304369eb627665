package scorebook.testing;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;

/**
 * A fresh user on a test server with a user token and an API key, so that tests sharing a server
 * do not see each other's devices or usage rows.
 *
 * @param server   the server
 * @param name     user name
 * @param userId   user id
 * @param token    user token (devices API)
 * @param apiKey   API key secret (gateway)
 * @param apiKeyId API key id
 */
public record Tenant(TestServer server, String name, long userId, String token, String apiKey, long apiKeyId) {
    private static final AtomicInteger SEQ = new AtomicInteger();

    public static Tenant create(TestServer server) {
        String name = "tenant" + SEQ.incrementAndGet() + "_" + System.nanoTime();
        Client.Response u = server.owner().post("/api/users", Json.text(Map.of("name", name)));
        if (u.status() != 201) {
            throw new IllegalStateException("cannot create a user: " + u.text());
        }
        String token = u.json().path("token").asText();
        Client.Response k = server.client(token).post("/api/keys", "{\"name\":\"test\"}");
        return new Tenant(server, name, u.json().at("/user/id").asLong(), token, k.json().path("secret").asText(),
                k.json().at("/key/id").asLong());
    }

    /** The devices API as this user. */
    public Client user() {
        return server.client(token);
    }

    /** The gateway with this user's API key. */
    public Client gateway() {
        return server.withHeaders("X-Api-Key", apiKey);
    }

    /** Registers a fake model server as a device; extra fields as JSON members, e.g. {@code "\"weight\": 3"}. */
    public JsonNode device(String serial, FakeModelServer fake, String models, String... extra) {
        String kind = fake.kind() == FakeModelServer.Kind.OLLAMA ? "ollama" : "openai";
        StringBuilder body = new StringBuilder("{\"serial\":\"" + serial + "\",\"kind\":\"" + kind + "\",\"base_url\":\""
                + fake.url() + "\",\"models\":" + models);
        for (String e : extra) {
            body.append(',').append(e);
        }
        body.append('}');
        Client.Response r = user().post("/devices/register", body.toString());
        if (r.status() != 201 && r.status() != 200) {
            throw new IllegalStateException("cannot register " + serial + ": " + r.text());
        }
        return r.json().path("device");
    }

    /**
     * This user's usage rows, oldest first, once every row recorded so far is stored and there are at
     * least {@code atLeast} (rows recorded after the call, e.g. when a handler ends after its reply, are waited for).
     */
    public List<Map<String, Object>> usage(int atLeast) {
        List<List<Map<String, Object>>> last = new java.util.ArrayList<>(List.of(List.of()));
        Wait.until(atLeast + " usage rows of " + name, () -> {
            // rows are written in the background: everything recorded so far is stored first
            server.running().parts().devices().usage().flush(Wait.DEADLINE);
            scorebook.usage.UsageStore.derivePending(server.running().db()); // and imports staged for the fold
            last.set(0, server.running().db().read(h -> h.createQuery(
                    "SELECT * FROM usage_events WHERE user_id = ? ORDER BY id").bind(0, userId).mapToMap().list()));
            return last.get(0).size() >= atLeast;
        }, () -> last.get(0).toString());
        return last.get(0);
    }
}
