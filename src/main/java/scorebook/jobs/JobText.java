package scorebook.jobs;

import java.io.IOException;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;

/** JSON text stored in job columns, read back as trees (null stays null). */
final class JobText {
    private JobText() {
    }

    static JsonNode tree(String json) {
        if (json == null) {
            return null;
        }
        try {
            return Json.MAPPER.readTree(json);
        } catch (IOException e) {
            return null;
        }
    }

    static String text(Object value) {
        return value == null ? null : Json.text(value);
    }
}
