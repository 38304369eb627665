package scorebook.share;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import io.helidon.common.uri.UriQueryWriteable;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.auth.Principal;
import scorebook.auth.Tokens;
import scorebook.evals.EvalStore;
import scorebook.server.ApiException;
import scorebook.server.Errors;
import scorebook.server.Json;
import scorebook.usage.UsageFilter;
import scorebook.usage.UsageStore;

/**
 * Share links: a token that opens one scope of your data read-only, without a login. The scoped reads are the
 * features' own GET endpoints, reached by rerouting with the link's user as the principal (never the owner's
 * powers) and the scope forced: a run's id, a usage view's filters and range. Only GET routes are reachable.
 * <pre>
 * POST   /share                {scope, expires_in?}  → 201 {token, url, id, kind, scope, expires_at}
 *   curl -H "X-User-Token: $T" -d '{"scope":{"kind":"run","run_id":"latest"},"expires_in":86400}' http://127.0.0.1:8080/share
 * GET    /share                your links (never their tokens)
 * DELETE /share/{token}        revoke at once (the token, or the link's id from the list)
 * GET    /share/{token}        what the link opens (no login)
 *   curl http://127.0.0.1:8080/share/sbs_...
 * GET    /s/{token}            303 to the dashboard's read-only page of the link, /?share={token} (a short link)
 *   curl -i http://127.0.0.1:8080/s/sbs_...
 * GET    /share/{token}/results | /rows | /results/{index} | /export.csv | /export.json     kind run
 * GET    /share/{token}/usage | /usage/summary | /usage/export.csv                          kind usage
 * GET    /share/{token}/jobs | /jobs/{id}                                                    kind jobs
 * GET    /share/{token}/devices                                                              kind devices
 * </pre>
 * Unknown and revoked tokens are 404, expired ones 410, another kind's endpoint 404.
 */
public final class ShareService implements HttpService {
    static final long MAX_EXPIRES_S = 10L * 366 * 86_400;
    private static final Set<String> KINDS = Set.of("run", "usage", "jobs", "devices");
    /** The usage filters a scope may fix (its range and dimensions). */
    private static final Set<String> USAGE_FILTERS;
    /** What a usage link's viewer may choose: how to show the scope, never what it covers. */
    private static final Set<String> USAGE_VIEW_PARAMS = Set.of("view", "bucket", "interval", "limit", "cursor", "top", "tz",
            "group_by");

    static {
        Set<String> f = new java.util.HashSet<>(Set.of("from", "to", "since_s", "minutes", "ok", "job_id"));
        f.addAll(UsageFilter.DIMENSIONS);
        USAGE_FILTERS = Set.copyOf(f);
    }

    /**
     * Links opened in the last seconds, with their scope parsed, so a page of shared reads does not look the token up
     * and parse its scope on every request (as {@link scorebook.auth.AuthStore} caches keys). A revocation here clears
     * it at once; a link whose user is deleted stops within {@link #CACHE_MS}. Unknown tokens are not kept.
     */
    private static final long CACHE_MS = 2_000;
    private final ConcurrentHashMap<String, Open> opened = new ConcurrentHashMap<>();
    private final AtomicLong generation = new AtomicLong();
    private final ShareStore store;
    private final EvalStore evals;
    private final Clock clock;
    private final String publicUrl;

    /** A live link as a shared read uses it: the stored row, its scope parsed once, and until when it is kept. */
    private record Open(ShareStore.Link link, JsonNode scope, long keptUntilMs) {
    }

    public ShareService(ShareStore store, EvalStore evals, Clock clock, String publicUrl) {
        this.store = store;
        this.evals = evals;
        this.clock = clock;
        this.publicUrl = publicUrl;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/share", this::create)
                .get("/share", this::list)
                .get("/share/{token}", this::describe)
                .delete("/share/{token}", this::revoke)
                .get("/share/{token}/results", (req, res) -> run(req, res, "/data"))
                .get("/share/{token}/rows", (req, res) -> run(req, res, "/rows"))
                .get("/share/{token}/results/{index}", (req, res) -> run(req, res,
                        "/results/" + req.path().pathParameters().get("index")))
                .get("/share/{token}/export.csv", (req, res) -> run(req, res, "/export/csv"))
                .get("/share/{token}/export.json", (req, res) -> run(req, res, "/export/json"))
                .get("/share/{token}/usage", (req, res) -> usage(req, res, "/usage"))
                .get("/share/{token}/usage/summary", (req, res) -> usage(req, res, "/usage/summary"))
                .get("/share/{token}/usage/export.csv", (req, res) -> usage(req, res, "/usage/export.csv"))
                .get("/share/{token}/jobs", (req, res) -> passThrough(req, res, "jobs", "/api/jobs"))
                .get("/share/{token}/jobs/{id}", (req, res) -> passThrough(req, res, "jobs",
                        "/api/jobs/" + req.path().pathParameters().get("id")))
                .get("/share/{token}/devices", (req, res) -> passThrough(req, res, "devices", "/devices"))
                .any("/share", Errors.allow("GET, POST"))
                .any("/share/{token}", Errors.allow("GET, DELETE"))
                .any("/share/{token}/{+rest}", this::otherSharePath)
                .get("/s/{token}", this::shortLink)
                .any("/s/{token}", Errors.allow("GET"));
    }

    /** The short form of a link's page: a live link is redirected to the dashboard's {@code /?share=TOKEN}. */
    private void shortLink(ServerRequest req, ServerResponse res) {
        live(req);
        res.status(Status.SEE_OTHER_303)
                .header(HeaderNames.LOCATION, "/?share=" + java.net.URLEncoder.encode(req.path().pathParameters().get("token"),
                        java.nio.charset.StandardCharsets.UTF_8))
                .send();
    }

    /** A read a link does not offer is 404; any write under a link is 405 (links are read-only). */
    private void otherSharePath(ServerRequest req, ServerResponse res) throws Exception {
        if (req.prologue().method() == io.helidon.http.Method.GET || req.prologue().method() == io.helidon.http.Method.HEAD) {
            throw ApiException.notFound("a share link offers no " + req.path().path().replaceFirst("^/share/[^/]+", ""));
        }
        Errors.allow("GET").handle(req, res);
    }

    private void create(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        ObjectNode body = Json.object(req);
        Json.onlyFields(body, Set.of("scope", "expires_in"), f -> "'" + f + "' is not a share link field (scope, expires_in)");
        ObjectNode scope = scope(p.userId(), body.get("scope"));
        Long expiresIn = expires(body.get("expires_in"));
        Long expiresMs = expiresIn == null ? null : clock.millis() + expiresIn * 1000;
        String token = Tokens.generate("sbs_");
        ShareStore.Link link = store.add(p.userId(), Tokens.hash(token), token.substring(0, 10),
                scope.get("kind").asText(), Json.text(scope), now(), expiresMs);
        String base = publicUrl != null ? publicUrl
                : "http://" + req.headers().first(HeaderNames.HOST).orElse("127.0.0.1");
        Map<String, Object> out = describe(link);
        out.put("token", token);
        out.put("url", base + "/?share=" + token);
        Json.send(res, Status.CREATED_201, out);
    }

    /** The scope as given, checked and made exact: a run's id resolved (so "latest" keeps meaning that run). */
    private ObjectNode scope(long userId, JsonNode raw) {
        if (raw == null || raw.isNull()) {
            throw ApiException.invalid("'scope' is required");
        }
        if (!raw.isObject()) {
            throw ApiException.invalid("'scope' must be an object {\"kind\": run|usage|jobs|devices, ...}");
        }
        JsonNode kind = raw.get("kind");
        if (kind == null || !kind.isTextual() || !KINDS.contains(kind.asText())) {
            throw ApiException.invalid("'scope.kind' must be one of run, usage, jobs, devices");
        }
        ObjectNode out = Json.MAPPER.createObjectNode().put("kind", kind.asText());
        Set<String> allowed = switch (kind.asText()) {
            case "run" -> Set.of("kind", "run_id");
            case "usage" -> Set.of("kind", "filters");
            default -> Set.of("kind");
        };
        Json.onlyFields(raw, allowed, f -> "'scope." + f + "' is not part of a " + kind.asText() + " scope");
        if (kind.asText().equals("run")) {
            JsonNode runId = raw.get("run_id");
            if (runId == null || !runId.isTextual() || runId.asText().isBlank()) {
                throw ApiException.invalid("'scope.run_id' must be a run id (or \"latest\")");
            }
            String resolved = evals.readRun(userId, runId.asText(), true, v -> v.run().runId());
            out.put("run_id", resolved);
        } else if (kind.asText().equals("usage")) {
            out.set("filters", Json.MAPPER.valueToTree(usageFilters(raw.get("filters"))));
        }
        return out;
    }

    /** A usage scope's filters as query parameters, checked the way /usage checks them. */
    private Map<String, List<String>> usageFilters(JsonNode raw) {
        Map<String, List<String>> filters = new LinkedHashMap<>();
        if (raw == null || raw.isNull()) {
            return filters;
        }
        if (!raw.isObject()) {
            throw ApiException.invalid("'scope.filters' must be an object of usage filters");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = raw.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String field = "scope.filters." + e.getKey();
            if (!USAGE_FILTERS.contains(e.getKey())) {
                throw ApiException.invalid("'" + field + "' is not a usage filter (" + String.join(", ",
                        new java.util.TreeSet<>(USAGE_FILTERS)) + ")");
            }
            List<String> values = new ArrayList<>();
            for (JsonNode v : e.getValue().isArray() ? e.getValue() : Json.MAPPER.createArrayNode().add(e.getValue())) {
                if (!v.isValueNode() || v.isNull()) {
                    throw ApiException.invalid("'" + field + "' must be a string, number or boolean, or a list of them");
                }
                values.add(v.asText());
            }
            filters.put(e.getKey(), values);
        }
        UsageFilter.parse(name -> filters.getOrDefault(name, List.of()), "", clock);
        return filters;
    }

    private static Long expires(JsonNode raw) {
        if (raw == null || raw.isNull()) {
            return null;
        }
        if (!raw.isIntegralNumber() || !raw.canConvertToLong() || raw.asLong() < 1 || raw.asLong() > MAX_EXPIRES_S) {
            throw ApiException.invalid("'expires_in' must be a whole number of seconds from 1 to " + MAX_EXPIRES_S);
        }
        return raw.asLong();
    }

    private void list(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        Json.send(res, Json.fields("ok", true, "links", store.list(p.userId()).stream().map(this::describe).toList()));
    }

    private void revoke(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        String raw = req.path().pathParameters().get("token");
        Long id = raw.matches("\\d{1,18}") ? Long.valueOf(raw) : null;
        boolean revoked;
        try {
            revoked = store.revoke(p.userId(), Tokens.hash(raw), id, now());
        } finally {
            forget(); // after the commit: a read racing with it cannot keep the link again
        }
        if (!revoked) {
            throw ApiException.notFound("no share link of yours named '" + raw + "' (or it is already revoked)");
        }
        Json.send(res, Map.of("ok", true));
    }

    private void describe(ServerRequest req, ServerResponse res) {
        ShareStore.Link link = live(req).link();
        Map<String, Object> out = describe(link);
        out.remove("id");
        out.remove("revoked_at");
        out.put("user", link.userName());
        Json.send(res, out);
    }

    private Map<String, Object> describe(ShareStore.Link l) {
        Map<String, Object> out = Json.fields("ok", true, "id", l.id(), "prefix", l.prefix(), "kind", l.kind(),
                "scope", Json.parse(l.scope().getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                "created_at", l.createdAt(), "expires_at", l.expiresMs() == null ? null : UsageStore.iso(l.expiresMs()),
                "revoked_at", l.revokedAt(), "active", l.revokedAt() == null && !expired(l));
        return out;
    }

    /** A run link's reads: the run's endpoint under /api/runs/{its id}, the viewer's query kept (paging, filters). */
    private void run(ServerRequest req, ServerResponse res, String suffix) {
        Open link = live(req, "run");
        String runId = link.scope().path("run_id").asText();
        forward(req, res, link.link(), "/api/runs/" + java.net.URLEncoder.encode(runId, java.nio.charset.StandardCharsets.UTF_8)
                .replace("+", "%20") + suffix, copy(req, null));
    }

    /** A usage link's reads: the scope's filters and range replace the viewer's; only how to show it is theirs. */
    private void usage(ServerRequest req, ServerResponse res, String path) {
        Open link = live(req, "usage");
        UriQueryWriteable q = copy(req, USAGE_VIEW_PARAMS);
        link.scope().path("filters").fields()
                .forEachRemaining(e -> {
                    List<String> values = new ArrayList<>();
                    e.getValue().forEach(v -> values.add(v.asText()));
                    q.set(e.getKey(), values.toArray(String[]::new));
                });
        forward(req, res, link.link(), path, q);
    }

    /** Jobs and devices links: the user's whole list, read as they would read it, filters theirs to narrow. */
    private void passThrough(ServerRequest req, ServerResponse res, String kind, String path) {
        forward(req, res, live(req, kind).link(), path, copy(req, null));
    }

    private static UriQueryWriteable copy(ServerRequest req, Set<String> only) {
        UriQueryWriteable q = UriQueryWriteable.create();
        for (String name : req.query().names()) {
            if (only == null || only.contains(name)) {
                q.set(name, req.query().all(name).toArray(String[]::new));
            }
        }
        return q;
    }

    /** Serves the request as the link's user (never with the owner's powers) at the scoped path. */
    private static void forward(ServerRequest req, ServerResponse res, ShareStore.Link link, String path,
                                UriQueryWriteable query) {
        req.context().register(Principal.class, new Principal(link.userId(), link.userName(), false, null));
        req.context().register(SharedRead.class, new SharedRead(link.id()));
        res.reroute(path, query);
    }

    /** Marks a request rerouted by a share link, for the auth filter: it was authorized by the link. */
    public record SharedRead(long linkId) {
    }

    private Open live(ServerRequest req, String kind) {
        Open open = live(req);
        if (!open.link().kind().equals(kind)) {
            throw ApiException.notFound("this share link opens " + open.link().kind() + ", not " + kind);
        }
        return open;
    }

    private Open live(ServerRequest req) {
        String token = req.path().pathParameters().get("token");
        long now = clock.millis();
        Open open = opened.get(token);
        if (open == null || now >= open.keptUntilMs()) {
            open = lookUp(token, now);
        }
        if (expired(open.link())) {
            throw new ApiException(Status.GONE_410, "expired", "this share link has expired");
        }
        return open;
    }

    /** The live link from the database, kept for {@link #CACHE_MS} (unless a revocation raced with the read). */
    private Open lookUp(String token, long now) {
        long seen = generation.get();
        Optional<ShareStore.Link> link = store.byHash(Tokens.hash(token));
        if (link.isEmpty() || link.get().revokedAt() != null) {
            throw ApiException.notFound("unknown or revoked share link");
        }
        Open open = new Open(link.get(), Json.parse(link.get().scope().getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                now + CACHE_MS);
        if (opened.size() > 10_000) {
            opened.clear();
        }
        opened.put(token, open);
        if (generation.get() != seen) {
            opened.remove(token);
        }
        return open;
    }

    private void forget() {
        generation.incrementAndGet();
        opened.clear();
    }

    private boolean expired(ShareStore.Link l) {
        return l.expiresMs() != null && clock.millis() >= l.expiresMs();
    }

    private String now() {
        return UsageStore.iso(clock.millis());
    }
}
