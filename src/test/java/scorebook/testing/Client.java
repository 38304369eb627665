package scorebook.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;

/** A small HTTP client for the tests: real requests over the loopback, JSON read back. */
public final class Client {
    private static final HttpClient HTTP = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    private final String base;
    private final String[] headers;

    Client(String base, String[] headers) {
        this.base = base;
        this.headers = headers;
    }

    /** A client for the server at {@code base} that sends {@code token} as X-User-Token (null: none). */
    public static Client forToken(String base, String token) {
        return new Client(base, token == null ? new String[0] : new String[] {"X-User-Token", token});
    }

    /** What came back. */
    public record Response(int status, java.net.http.HttpHeaders headers, String text) {
        public JsonNode json() {
            try {
                return Json.MAPPER.readTree(text);
            } catch (IOException e) {
                throw new AssertionError("not JSON (" + status + "): " + text, e);
            }
        }

        public Optional<String> header(String name) {
            return headers.firstValue(name);
        }

        /** The error envelope's code, checking the envelope's shape on the way. */
        public String errorCode() {
            JsonNode j = json();
            if (j.path("ok").asBoolean(true) || !j.path("detail").isTextual()
                    || !j.path("error").path("message").asText().equals(j.path("detail").asText())) {
                throw new AssertionError("not an error envelope: " + text);
            }
            return j.path("error").path("code").asText();
        }
    }

    public Response get(String path, String... extraHeaders) {
        return send("GET", path, null, extraHeaders);
    }

    public Response delete(String path, String... extraHeaders) {
        return send("DELETE", path, null, extraHeaders);
    }

    public Response post(String path, String body, String... extraHeaders) {
        return send("POST", path, body, extraHeaders);
    }

    public Response put(String path, String body, String... extraHeaders) {
        return send("PUT", path, body, extraHeaders);
    }

    public Response patch(String path, String body, String... extraHeaders) {
        return send("PATCH", path, body, extraHeaders);
    }

    public Response send(String method, String path, String body, String... extraHeaders) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        List<String> all = new java.util.ArrayList<>(Arrays.asList(headers));
        all.addAll(Arrays.asList(extraHeaders));
        boolean typed = false;
        for (int i = 0; i + 1 < all.size(); i += 2) {
            typed |= all.get(i).equalsIgnoreCase("Content-Type");
        }
        if (body != null && !typed) {
            // one Content-Type: a caller's own replaces the default rather than adding a second
            b.header("Content-Type", "application/json");
        }
        for (int i = 0; i + 1 < all.size(); i += 2) {
            b.header(all.get(i), all.get(i + 1));
        }
        try {
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Response(r.statusCode(), r.headers(), r.body());
        } catch (IOException e) {
            throw new IllegalStateException(method + " " + path + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
