package scorebook.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The one JSON mapper, reading request bodies (malformed → 400) and writing every response,
 * errors included, the same way whatever the client's Accept header says.
 */
public final class Json {
    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .build();

    /** Request bodies: a name given twice is read differently by different parsers, so it is refused, not picked. */
    private static final ObjectReader BODY = MAPPER.reader().with(StreamReadFeature.STRICT_DUPLICATE_DETECTION);

    private Json() {
    }

    /** Reads the body as a JSON object; an empty body is an empty object. */
    public static ObjectNode object(ServerRequest req) {
        JsonNode node = tree(req);
        if (node == null || node.isMissingNode() || node.isNull()) {
            return MAPPER.createObjectNode();
        }
        if (!node.isObject()) {
            throw ApiException.invalid("request body must be a JSON object, not "
                    + node.getNodeType().toString().toLowerCase(Locale.ROOT));
        }
        return (ObjectNode) node;
    }

    /**
     * Rejects unknown fields: the first field of {@code node} not in {@code allowed} is a 422 with the message
     * {@code message} makes of its name (each body says what it takes in its own words).
     */
    public static void onlyFields(JsonNode node, Set<String> allowed, Function<String, String> message) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f)) {
                throw ApiException.invalid(message.apply(f));
            }
        }
    }

    /** Reads the body as any JSON value, or null when the body is empty. */
    public static JsonNode tree(ServerRequest req) {
        if (!req.content().hasEntity()) {
            return null;
        }
        byte[] bytes;
        try (InputStream in = req.content().inputStream()) {
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return blank(bytes) ? null : parse(bytes);
    }

    /**
     * Parses a JSON document held as UTF-8 bytes, strictly: bytes that are not UTF-8 (overlong forms, encoded
     * surrogates) and malformed JSON are 400; text holding an unpaired surrogate escape is 422 naming the field,
     * because none of them can be stored as given.
     */
    public static JsonNode parse(byte[] bytes) {
        requireUtf8(bytes);
        JsonNode node;
        try {
            node = BODY.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest(JsonErrors.describe(e));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String broken = JsonErrors.unpairedSurrogate(node, "");
        if (broken != null) {
            throw ApiException.invalid("'" + (broken.isEmpty() ? "body" : broken)
                    + "' holds an unpaired surrogate (such as \\ud800 without its pair): text must be valid Unicode");
        }
        return node;
    }

    /** Bytes as text, strictly: a body that is not UTF-8 (overlong forms, encoded surrogates) is 400. */
    public static String utf8(byte[] bytes) {
        requireUtf8(bytes);
        return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
    }

    /** A body that is not UTF-8 is 400, as {@link #utf8} answers, for readers of the bytes themselves. */
    public static void requireUtf8(byte[] bytes) {
        int bad = Utf8.firstInvalid(bytes);
        if (bad >= 0) {
            throw ApiException.badRequest("the body is not valid UTF-8: invalid byte sequence at byte " + bad);
        }
    }

    /** Only JSON white space (checked on the bytes: a large body is not copied into a string for it). */
    private static boolean blank(byte[] bytes) {
        for (byte b : bytes) {
            if (b != ' ' && b != '\n' && b != '\r' && b != '\t') {
                return false;
            }
        }
        return true;
    }

    /** An object whose fields keep the order given ({@code Map.of} has none): {@code fields("ok", true, "run_id", id)}. */
    public static Map<String, Object> fields(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i + 1 < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    public static void send(ServerResponse res, Object body) {
        send(res, Status.OK_200, body);
    }

    public static void send(ServerResponse res, Status status, Object body) {
        res.status(status);
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(bytes(body));
    }

    public static byte[] bytes(Object body) {
        try {
            return MAPPER.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON for " + body.getClass().getName(), e);
        }
    }

    public static String text(Object body) {
        try {
            return MAPPER.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON for " + body.getClass().getName(), e);
        }
    }
}
