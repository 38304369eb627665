package scorebook.auth;

import io.helidon.webserver.http.ServerRequest;

import scorebook.server.ApiException;

/**
 * Who a request acts for: the user, whether they own the server, and the API key used (gateway
 * requests only, else null).
 */
public record Principal(long userId, String name, boolean owner, Long apiKeyId) {

    /** The principal the auth filter attached to this request. */
    public static Principal of(ServerRequest req) {
        return req.context().get(Principal.class, Principal.class)
                .orElseThrow(() -> ApiException.unauthorized("a credential is required"));
    }

    /** The owner, or 403 for everyone else. */
    public static Principal owner(ServerRequest req) {
        Principal p = of(req);
        if (!p.owner()) {
            throw ApiException.forbidden("only the server's owner may do this");
        }
        return p;
    }
}
