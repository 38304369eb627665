package scorebook.server;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.testing.Client;
import scorebook.testing.RawHttp;
import scorebook.testing.Streamed;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Text that cannot be stored as sent (bytes that are not UTF-8, unpaired surrogate escapes) is refused, not
 * changed on the way in; errors are in words, never in the parser's internals, and quote at most an excerpt.
 */
class InputTextTest {
    @AutoClose
    private static final TestServer server = TestServer.start();

    /** A POST whose body is {@code before + raw bytes + after}, sent byte for byte. */
    private static RawHttp.Answer postBytes(String token, String path, String before, byte[] raw, String after) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(before.getBytes(StandardCharsets.UTF_8));
        body.writeBytes(raw);
        body.writeBytes(after.getBytes(StandardCharsets.UTF_8));
        String head = "POST " + path + " HTTP/1.1\r\nHost: x\r\nX-User-Token: " + token
                + "\r\nContent-Type: application/json\r\nContent-Length: " + body.size() + "\r\n\r\n";
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        all.writeBytes(head.getBytes(StandardCharsets.US_ASCII));
        all.writeBytes(body.toByteArray());
        try (RawHttp c = new RawHttp(server.port())) {
            return c.send(all.toByteArray()).read();
        }
    }

    private static void assertEnvelope(RawHttp.Answer a, int status, String code) {
        assertEquals(status, a.status(), a.toString());
        assertEquals(code, Streamed.parse(a.body()).at("/error/code").asText(), a.body());
    }

    @Test
    void bytesThatAreNotUtf8Are400AndStoreNothing() {
        Tenant t = Tenant.create(server);
        byte[][] broken = {
            {(byte) 0xc0, (byte) 0xaf},                          // overlong '/'
            {(byte) 0xe0, (byte) 0x80, (byte) 0xaf},             // overlong '/' in three bytes
            {(byte) 0xed, (byte) 0xa0, (byte) 0x80},             // a surrogate encoded as UTF-8 (CESU)
            {(byte) 0xff},                                        // never valid
            {(byte) 0xe2, (byte) 0x82},                           // cut short
        };
        for (byte[] raw : broken) {
            assertEnvelope(postBytes(t.token(), "/api/keys", "{\"name\": \"a", raw, "b\"}"), 400, "bad_request");
            assertEnvelope(postBytes(t.token(), "/api/runs", "{\"session_name\": \"s", raw, "\"}"), 400, "bad_request");
            assertEnvelope(postBytes(t.token(), "/devices/register", "{\"serial\": \"d", raw,
                    "\", \"kind\": \"agent\"}"), 400, "bad_request");
        }
        assertEquals(1, t.user().get("/api/keys").json().path("keys").size(), "only the tenant's own first key");
        assertEquals(0, t.user().get("/api/sessions").json().path("sessions").size());
        assertEquals(0, t.user().get("/devices").json().path("devices").size());
        // well-formed multi-byte text goes through unchanged
        RawHttp.Answer ok = postBytes(t.token(), "/api/keys", "{\"name\": \"", "clé ✓ 😀".getBytes(StandardCharsets.UTF_8), "\"}");
        assertEquals(201, ok.status(), ok.toString());
        assertTrue(t.user().get("/api/keys").json().path("keys").findValuesAsText("name").contains("clé ✓ 😀"));
    }

    @Test
    void unpairedSurrogateEscapesAre422NamingTheFieldAndStoreNothing() {
        Tenant t = Tenant.create(server);
        Client c = t.user();
        Client.Response r = c.post("/api/keys", "{\"name\": \"a\\ud800b\"}");
        assertEquals(422, r.status(), r.text());
        assertEquals("invalid", r.errorCode());
        assertTrue(r.json().path("detail").asText().startsWith("'name' holds an unpaired surrogate"), r.text());
        assertEquals(422, c.post("/api/keys", "{\"name\": \"\\udc00\"}").status(), "a lone low surrogate");
        assertEquals(422, c.post("/api/keys", "{\"name\": \"x\\ud83d\"}").status(), "a high one at the end");
        Client.Response nested = c.post("/api/runs", "{\"session_name\": \"s\", \"x\": [{\"y\": \"\\ud800\"}]}");
        assertEquals(422, nested.status(), nested.text());
        assertTrue(nested.json().path("detail").asText().startsWith("'x[0].y' holds an unpaired"), nested.text());
        Client.Response name = c.post("/api/runs", "{\"session_name\": \"s\", \"x\": [{\"\\ud800\": 1}]}");
        assertEquals(400, name.status(), "the parser refuses it in a name");
        assertTrue(name.json().path("detail").asText().contains("a field name holds an unpaired surrogate escape"), name.text());
        assertEquals(1, c.get("/api/keys").json().path("keys").size());
        assertEquals(0, c.get("/api/sessions").json().path("sessions").size());
        // a proper pair written as escapes is one character
        assertEquals(201, c.post("/api/keys", "{\"name\": \"\\ud83d\\ude00\"}").status());
        assertTrue(c.get("/api/keys").json().path("keys").findValuesAsText("name").contains("😀"));
    }

    @Test
    void parseErrorsAreInWordsWithoutParserInternals() {
        Client c = server.owner();
        String[][] cases = {
            {"{\"name\": }", "the body is not valid JSON: unexpected character '}' at line 1 column "},
            {"{\"name\": +1}", "the body is not valid JSON: unexpected character '+' at line 1 column "},
            {"{\"name\": NaN}", "the body is not valid JSON: NaN and Infinity are not JSON numbers at line 1 column "},
            {"{\"name\": 'x'}", "the body is not valid JSON: unexpected character ''' at line 1 column "},
            {"{\"name\": \"a\", \"name\": \"b\"}", "the body is not valid JSON: the field 'name' appears twice at line 1 column "},
            {"{\"name\": 01}", "the body is not valid JSON: a number is not written as JSON writes numbers at line 1 column "},
            {"{\"name\": tru}", "the body is not valid JSON: unrecognized word 'tru' (strings need double quotes) at line 1 column "},
            {"{\"name\": \"a\u0001\"}", "the body is not valid JSON: a control character inside a string must be escaped at line 1"},
            {"[".repeat(5000), "the body is too large for its shape: nested too deep (at most "},
        };
        for (String[] k : cases) {
            Client.Response r = c.post("/api/keys", k[0]);
            assertEquals(400, r.status(), k[0]);
            String detail = r.json().path("detail").asText();
            assertTrue(detail.startsWith(k[1]), k[0] + " -> " + detail);
            for (String internal : new String[] {"Feature", "getMax", "com.fasterxml", "Source:", "REDACTED", "jackson"}) {
                assertFalse(detail.contains(internal), detail);
            }
        }
    }

    @Test
    void aHugeValueIsNeverEchoedInFullNorTwice() {
        Client c = server.owner();
        String huge = "k".repeat(40_000); // below the parser's limit on names (50,000)
        Client.Response unknownField = c.post("/api/runs", "{\"session_name\": \"s\", \"" + huge + "\": 1}");
        Client.Response role = server.withHeaders("X-Api-Key", Tenant.create(server).apiKey()).post("/v1/chat/completions",
                "{\"model\": \"m\", \"messages\": [{\"role\": \"" + huge + "\", \"content\": \"x\"}]}");
        Client.Response path = c.get("/api/runs/" + "r".repeat(5000) + "/data");
        for (Client.Response r : new Client.Response[] {unknownField, role, path}) {
            assertTrue(r.status() >= 400 && r.status() < 500, r.status() + " " + r.text().length());
            assertTrue(r.text().length() < 2 * (Clip.MAX_MESSAGE + 200), "answer of " + r.text().length() + " chars");
            JsonNode j = r.json();
            assertEquals(j.path("detail").asText(), j.at("/error/message").asText());
        }
        String detail = unknownField.json().path("detail").asText();
        assertTrue(detail.contains("kkkk… (40000 characters)"), detail);
    }
}
