package scorebook.testing;

import java.io.IOException;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;

/** Reading streamed answers in tests: one JSON event at a time, and the data payloads of server-sent events. */
public final class Streamed {
    private Streamed() {
    }

    /** One event (an NDJSON line or an SSE data payload) as JSON; anything else fails the test. */
    public static JsonNode parse(String s) {
        try {
            return Json.MAPPER.readTree(s);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + s, e);
        }
    }

    /** The {@code data: } payloads of a whole server-sent-events body, in order ({@code [DONE]} included). */
    public static List<String> sseData(String body) {
        return body.lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
    }
}
