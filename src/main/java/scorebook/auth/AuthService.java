package scorebook.auth;

import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.server.ApiException;
import scorebook.server.Errors;
import scorebook.server.Json;
import scorebook.server.Names;

/**
 * Users, API keys and the dashboard login.
 * <pre>
 * GET    /?token=T           log in: sets the session cookie, redirects to / (a browser with a bad token: to the
 *                            sign-in page, /?login_error=invalid_token)
 * POST   /logout             ends the dashboard session
 * GET    /api/me             who am I
 * POST   /api/users          {"name"} owner only; returns the new user's token once
 *   curl -H "X-User-Token: $T" -d '{"name":"ana"}' http://127.0.0.1:8080/api/users
 * GET    /api/users          the owner sees all users, others themselves
 * DELETE /api/users/{id}     owner only; deletes the user and everything they own
 * POST   /api/keys           {"name"?} returns the secret once
 *   curl -H "X-User-Token: $T" -d '{"name":"laptop"}' http://127.0.0.1:8080/api/keys
 * GET    /api/keys           your keys, without secrets
 * DELETE /api/keys/{id}      revoke one of your keys
 * </pre>
 */
public final class AuthService implements HttpService {
    private final AuthStore store;

    public AuthService(AuthStore store) {
        this.store = store;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", this::login)
                .post("/logout", this::logout)
                .get("/api/me", this::me)
                .post("/api/users", this::addUser)
                .get("/api/users", this::users)
                .delete("/api/users/{id}", this::deleteUser)
                .post("/api/keys", this::addKey)
                .get("/api/keys", this::keys)
                .delete("/api/keys/{id}", this::revokeKey)
                .any("/logout", Errors.allow("POST"))
                .any("/api/me", Errors.allow("GET"))
                .any("/api/users", Errors.allow("GET, POST"))
                .any("/api/users/{id}", Errors.allow("DELETE"))
                .any("/api/keys", Errors.allow("GET, POST"))
                .any("/api/keys/{id}", Errors.allow("DELETE"));
    }

    /**
     * {@code /?token=T} trades the token for an HttpOnly cookie and drops it from the address bar, keeping
     * the other query parameters (a link to a view logs in and opens that view). A wrong or expired token
     * sends a browser to the sign-in page with a message; other clients get the JSON 401.
     */
    private void login(ServerRequest req, ServerResponse res) {
        var token = req.query().first("token").asOptional();
        if (token.isEmpty()) {
            res.next();
            return;
        }
        Optional<Principal> p = store.byUserToken(token.get());
        if (p.isEmpty() && !wantsHtml(req)) {
            throw ApiException.unauthorized("unknown user token in the login link");
        }
        if (p.isPresent()) {
            String session = store.startSession(p.get().userId());
            res.header(HeaderNames.SET_COOKIE, AuthFilter.COOKIE + "=" + session + "; Path=/; HttpOnly; SameSite=Strict; Max-Age="
                    + AuthStore.SESSION_LIFETIME.toSeconds());
        }
        res.header(HeaderNames.LOCATION, p.isPresent() ? "/" + otherParams(req) : "/?login_error=invalid_token");
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        res.status(Status.SEE_OTHER_303).send();
    }

    /** A browser navigating (it asks for HTML), as opposed to a script. */
    private static boolean wantsHtml(ServerRequest req) {
        return req.headers().first(HeaderNames.ACCEPT).map(a -> a.contains("text/html")).orElse(false);
    }

    /** The query without {@code token}, as {@code ?a=1&b=2} (raw, as the client sent it), or empty. */
    private static String otherParams(ServerRequest req) {
        String raw = req.query().rawValue();
        StringJoiner kept = new StringJoiner("&", "?", "").setEmptyValue("");
        for (String pair : raw.split("&")) {
            if (!pair.isEmpty() && !pair.equals("token") && !pair.startsWith("token=")) {
                kept.add(pair);
            }
        }
        return kept.toString();
    }

    private void logout(ServerRequest req, ServerResponse res) {
        Principal.of(req);
        req.headers().cookies().first(AuthFilter.COOKIE).asOptional().ifPresent(store::endSession);
        res.header(HeaderNames.SET_COOKIE, AuthFilter.COOKIE + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
        Json.send(res, Map.of("ok", true));
    }

    private void me(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        Json.send(res, Json.fields("ok", true, "user", store.user(p.userId()).orElseThrow()));
    }

    private void addUser(ServerRequest req, ServerResponse res) {
        Principal.owner(req);
        ObjectNode body = Json.object(req);
        String name = Names.required(body, "name");
        AuthStore.NewUser created = store.addUser(name);
        Json.send(res, Status.CREATED_201, Json.fields("ok", true, "user", created.user(), "token", created.token()));
    }

    private void users(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        Object users = p.owner() ? store.users() : java.util.List.of(store.user(p.userId()).orElseThrow());
        Json.send(res, Json.fields("ok", true, "users", users));
    }

    private void deleteUser(ServerRequest req, ServerResponse res) {
        Principal.owner(req);
        store.deleteUser(idParam(req));
        Json.send(res, Map.of("ok", true));
    }

    private void addKey(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        ObjectNode body = Json.object(req);
        String name = body.has("name") ? Names.required(body, "name") : "key";
        AuthStore.NewKey created = store.addKey(p.userId(), name);
        Json.send(res, Status.CREATED_201, Json.fields("ok", true, "key", created.key(), "secret", created.secret()));
    }

    private void keys(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        Json.send(res, Json.fields("ok", true, "keys", store.keys(p.userId())));
    }

    private void revokeKey(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        store.revokeKey(p.userId(), idParam(req));
        Json.send(res, Map.of("ok", true));
    }

    private static long idParam(ServerRequest req) {
        String raw = req.path().pathParameters().get("id");
        try {
            return Long.parseLong(raw);
        } catch (NumberFormatException e) {
            throw ApiException.notFound("no such id: " + raw);
        }
    }
}
