package scorebook;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.ServerConfig;
import scorebook.testing.ApiRoutes;
import scorebook.testing.ApiRoutes.Operation;
import scorebook.testing.Client;
import scorebook.testing.DbChecksum;
import scorebook.testing.RawHttp;
import scorebook.testing.Streamed;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile input over every write endpoint the OpenAPI document lists (so a feature's routes join by their
 * fragment): malformed JSON, wrong types, missing fields, huge strings and arrays, deep nesting, bytes that are
 * not UTF-8, unpaired surrogates, negative, huge and non-finite numbers, form and multipart bodies, wrong
 * methods. Each must be a 4xx in the error envelope, and the checksum of every table must not move.
 */
class HostileInputTest {
    /** A small body limit, so that "huge" reliably means 413 rather than a slow accepted write. */
    private static final long LIMIT = 256 * 1024;
    @AutoClose
    private static final TestServer server = TestServer.start(
            ServerConfig.local(TestServer.tempDir(), TestServer.OWNER_TOKEN).withMaxBodyBytes(LIMIT));
    private static final Tenant tenant = Tenant.create(server);
    /** The tenant's agent, so hostile bodies reach the agents' routes past their device-token check. */
    private static final String AGENT_TOKEN = tenant.user()
            .post("/devices/register", "{\"serial\": \"hostile-agent\", \"kind\": \"agent\", \"models\": [\"m\"]}")
            .json().path("device_token").asText();
    /** Inputs tried, by the status they got: the figures docs/hardening.md quotes. */
    private static final Map<Integer, Integer> ANSWERS = new TreeMap<>();
    private static int tried;

    static {
        // the tenant has an active run, so that "latest" routes read the body rather than stop at 404
        tenant.user().post("/api/runs", "{\"session_name\": \"hostile\"}");
    }

    @AfterAll
    static void figures() {
        System.out.println("HostileInputTest: " + tried + " hostile inputs, answers by status " + ANSWERS);
        TestServer.deleteTree(server.dataDir());
    }

    /** One request of raw bytes: method, path, content type, body. */
    private record Case(String name, String contentType, byte[] body) {
        static Case json(String name, String body) {
            return new Case(name, "application/json", body.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** The hostile bodies for one operation: whole-body defects, then each documented field made wrong. */
    private static List<Case> cases(Operation o) {
        List<Case> out = new ArrayList<>(List.of(
                Case.json("malformed", "{\"a\": "),
                Case.json("trailing garbage", "{} x"),
                Case.json("not an object", "[1, 2]"),
                Case.json("a bare string", "\"x\""),
                Case.json("duplicate names", "{\"a\": 1, \"a\": 2}"),
                Case.json("NaN", "{\"a\": NaN}"),
                Case.json("deep nesting", "{\"a\": " + "[".repeat(3000) + "]".repeat(3000) + "}"),
                Case.json("unpaired surrogate", "{\"x\": \"\\ud800\"}"),
                Case.json("control character", "{\"x\": \"a\u0001b\"}"),
                Case.json("huge body", "{\"x\": \"" + "h".repeat((int) LIMIT) + "\"}"),
                new Case("overlong UTF-8", "application/json", bytes("{\"x\": \"", new byte[] {(byte) 0xc0, (byte) 0xaf}, "\"}")),
                new Case("CESU surrogate", "application/json",
                        bytes("{\"x\": \"", new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80}, "\"}")),
                new Case("form body", "application/x-www-form-urlencoded", "name=x&kind=agent".getBytes(StandardCharsets.US_ASCII)),
                new Case("multipart body", "multipart/form-data; boundary=b",
                        "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\ny\r\n--b--\r\n".getBytes(StandardCharsets.US_ASCII))));
        JsonNode schema = resolve(o.bodySchema());
        if (schema == null) {
            return out;
        }
        if (schema.path("required").size() > 0) {
            out.add(Case.json("missing required fields", "{}"));
            out.add(Case.json("required fields null", nulls(schema)));
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = schema.path("properties").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> p = it.next();
            JsonNode prop = resolve(p.getValue());
            String field = p.getKey();
            for (Map.Entry<String, String> wrong : wrongValues(prop).entrySet()) {
                out.add(Case.json(field + ": " + wrong.getKey(), "{\"" + field + "\": " + wrong.getValue() + "}"));
            }
        }
        return out;
    }

    /** Values a field of this schema must refuse, by name. */
    private static Map<String, String> wrongValues(JsonNode prop) {
        Map<String, String> v = new LinkedHashMap<>();
        String type = prop.path("type").isArray() ? prop.path("type").get(0).asText() : prop.path("type").asText("");
        boolean nullable = prop.path("type").toString().contains("null");
        switch (type) {
            case "string" -> {
                v.put("a number", "12");
                v.put("an object", "{\"$gt\": \"\"}");
                v.put("a list", "[\"x\"]");
                if (prop.has("maxLength")) {
                    v.put("too long", "\"" + "s".repeat(prop.get("maxLength").asInt() + 1) + "\"");
                }
                if (prop.path("minLength").asInt(0) > 0) {
                    v.put("empty", "\"\"");
                }
                if (prop.has("enum")) {
                    v.put("not in the list", "\"'; DROP TABLE users; --\"");
                }
            }
            case "integer", "number" -> {
                v.put("a string", "\"1\"");
                v.put("huge", "1e400");
                v.put("too many digits", "1" + "0".repeat(400));
                if (prop.has("minimum") || prop.has("exclusiveMinimum")) {
                    v.put("negative", "-1");
                }
                if (type.equals("integer")) {
                    v.put("a fraction", "1.5");
                }
            }
            case "boolean" -> {
                v.put("a string", "\"yes\"");
                v.put("a number", "1");
            }
            case "array" -> {
                v.put("a string", "\"x\"");
                v.put("an object", "{}");
                if (prop.has("maxItems")) {
                    v.put("too many items", "[" + "{},".repeat(prop.get("maxItems").asInt()) + "{}]");
                }
                JsonNode items = resolve(prop.path("items"));
                if (items != null && items.path("type").asText().equals("integer")) {
                    v.put("items of the wrong type", "[\"a\", null, 1.5, -1]");
                }
            }
            case "object" -> {
                v.put("a string", "\"x\"");
                v.put("a list", "[]");
            }
            default -> {
                // any JSON value is allowed
            }
        }
        if (!nullable && !type.isEmpty() && !prop.has("default")) {
            v.put("null", "null");
        }
        return v;
    }

    @Test
    void everyWriteEndpointRefusesHostileBodiesAndStoresNothing() {
        List<String> failures = new ArrayList<>();
        for (Operation o : ApiRoutes.operations()) {
            if (!o.hasBody() || o.auth() == ApiRoutes.Auth.PUBLIC) {
                continue;
            }
            Map<String, String> before = checksum();
            for (Case c : cases(o)) {
                RawHttp.Answer a = send(o, c);
                tried++;
                ANSWERS.merge(a.status(), 1, Integer::sum);
                boolean envelope = a.body().startsWith("{\"ok\":false") && errorCode(a) != null;
                if (a.status() < 400 || a.status() >= 500 || !envelope) {
                    failures.add(o + " [" + c.name() + "] -> " + a.status() + " " + excerpt(a.body()));
                }
            }
            List<String> changed = DbChecksum.changed(before, checksum());
            if (!changed.isEmpty()) {
                failures.add(o + " changed stored data in " + changed);
            }
        }
        assertEquals(List.of(), failures);
        assertTrue(tried > 300, "tried " + tried);
    }

    @Test
    void wrongMethodsAre405AndStoreNothing() {
        Map<String, String> before = checksum();
        List<String> failures = new ArrayList<>();
        for (String path : ApiRoutes.paths()) {
            List<Operation> ops = ApiRoutes.operations().stream().filter(o -> o.path().equals(path)).toList();
            for (String m : List.of("GET", "POST", "PUT", "PATCH", "DELETE")) {
                if (ops.stream().noneMatch(o -> o.method().equals(m))) {
                    Operation any = ops.getFirst();
                    RawHttp.Answer a = send(new Operation(m, path, any.auth(), any.op()), Case.json("wrong method", "{}"));
                    tried++;
                    ANSWERS.merge(a.status(), 1, Integer::sum);
                    if (a.status() != 405 || a.header("Allow") == null) {
                        failures.add(m + " " + path + " -> " + a.status() + " " + excerpt(a.body()));
                    }
                }
            }
        }
        assertEquals(List.of(), failures);
        assertEquals(List.of(), DbChecksum.changed(before, checksum()));
    }

    @Test
    void sqlAndPathCharactersInNamesAreStoredAsGivenAndTouchNothingElse() {
        Client c = tenant.user();
        Map<String, String> before = checksum();
        String[] names = {"'; DROP TABLE api_keys; --", "../../../etc/passwd", "a\" OR \"1\"=\"1", "%00%2e%2e/", "<script>x</script>"};
        for (String name : names) {
            String quoted = com.fasterxml.jackson.databind.node.TextNode.valueOf(name).toString();
            assertEquals(201, c.post("/api/keys", "{\"name\": " + quoted + "}").status(), name);
            assertEquals(201, c.post("/api/runs", "{\"session_name\": " + quoted + "}").status(), name);
        }
        List<String> keyNames = c.get("/api/keys").json().path("keys").findValuesAsText("name");
        List<String> sessions = new ArrayList<>();
        c.get("/api/sessions").json().path("sessions").forEach(s -> sessions.add(s.asText()));
        for (String name : names) {
            assertTrue(keyNames.contains(name), name);
            assertTrue(sessions.contains(name), name);
        }
        assertEquals(Set.of("api_keys", "eval_runs", "eval_active"), Set.copyOf(DbChecksum.changed(before, checksum())),
                "only the tables the writes are for");
    }

    private static Map<String, String> checksum() {
        // login sessions and health data move on their own; the usage writer records gateway calls that failed
        return DbChecksum.of(server.dataDir(), Set.of("sessions"));
    }

    private static RawHttp.Answer send(Operation o, Case c) {
        String credential = switch (o.auth()) {
            case API_KEY -> "X-Api-Key: " + tenant.apiKey();
            case DEVICE -> "X-Device-Token: " + AGENT_TOKEN;
            default -> "X-User-Token: " + tenant.token();
        };
        String head = o.method() + " " + o.sample() + " HTTP/1.1\r\nHost: x\r\n" + credential + "\r\nContent-Type: "
                + c.contentType() + "\r\nContent-Length: " + c.body().length + "\r\nConnection: close\r\n\r\n";
        try (RawHttp http = new RawHttp(server.port())) {
            http.send(bytes(head, c.body(), ""));
            return http.read(o.method().equals("HEAD"));
        }
    }

    private static String errorCode(RawHttp.Answer a) {
        try {
            JsonNode j = Streamed.parse(a.body());
            return j.at("/error/code").isTextual() && j.path("detail").isTextual() ? j.at("/error/code").asText() : null;
        } catch (AssertionError notJson) {
            return null;
        }
    }

    private static JsonNode resolve(JsonNode schema) {
        if (schema == null || schema.isMissingNode()) {
            return null;
        }
        if (schema.has("$ref")) {
            return ApiRoutes.DOCUMENT.at(schema.get("$ref").asText().substring(1));
        }
        return schema;
    }

    private static String nulls(JsonNode schema) {
        StringBuilder sb = new StringBuilder("{");
        for (JsonNode r : schema.path("required")) {
            sb.append(sb.length() > 1 ? ", " : "").append('"').append(r.asText()).append("\": null");
        }
        return sb.append('}').toString();
    }

    private static byte[] bytes(String before, byte[] middle, String after) {
        byte[] a = before.getBytes(StandardCharsets.UTF_8);
        byte[] c = after.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[a.length + middle.length + c.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(middle, 0, out, a.length, middle.length);
        System.arraycopy(c, 0, out, a.length + middle.length, c.length);
        return out;
    }

    private static String excerpt(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "…" : s;
    }
}
