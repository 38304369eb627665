package scorebook.server;

import com.fasterxml.jackson.databind.JsonNode;

/** The one rule for user-given names: printable text, trimmed, 1 to 200 characters. */
public final class Names {
    public static final int MAX = 200;

    private Names() {
    }

    /** The trimmed name in {@code field}, or 422 naming the field and what is wrong. */
    public static String required(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            throw ApiException.invalid("'" + field + "' is required");
        }
        if (!v.isTextual()) {
            throw ApiException.invalid("'" + field + "' must be a string");
        }
        return check(field, v.asText());
    }

    /** Validates and trims a name. */
    public static String check(String field, String raw) {
        String name = raw.strip();
        if (name.isEmpty()) {
            throw ApiException.invalid("'" + field + "' must not be empty");
        }
        if (name.codePointCount(0, name.length()) > MAX) {
            throw ApiException.invalid("'" + field + "' must be at most " + MAX + " characters");
        }
        if (name.codePoints().anyMatch(Character::isISOControl)) {
            throw ApiException.invalid("'" + field + "' must not contain control characters");
        }
        return name;
    }
}
