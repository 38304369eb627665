package scorebook.runner;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;

/** POSTs (or the configured method) the case JSON to a URL and reads the answer like a command's stdout. */
final class HttpTarget implements Target {
    private static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();

    private final URI url;
    private final String method;
    private final Map<String, String> headers = new LinkedHashMap<>();

    HttpTarget(JsonNode spec) {
        this.url = URI.create(spec.isTextual() ? spec.asText() : spec.get("url").asText());
        this.method = spec.path("method").asText("POST").toUpperCase(java.util.Locale.ROOT);
        spec.path("headers").properties().forEach(e -> headers.put(e.getKey(), e.getValue().asText()));
    }

    @Override
    public Outcome run(Case c, RunContext run, double timeoutSeconds) throws InterruptedException {
        long start = System.nanoTime();
        HttpRequest.Builder b = HttpRequest.newBuilder(url)
                .timeout(Duration.ofMillis((long) (timeoutSeconds * 1000)))
                .header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofByteArray(Json.bytes(c.toJson())));
        headers.forEach(b::header);
        run.environment(c).forEach((k, v) -> b.header("X-" + k.replace('_', '-'), v));
        try {
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            double latency = (System.nanoTime() - start) / 1e9;
            if (r.statusCode() >= 400) {
                String body = r.body();
                return Outcome.error("HTTP " + r.statusCode() + " from " + url + (body.isBlank() ? "" : ": "
                        + (body.length() > 2000 ? body.substring(0, 2000) + "…" : body)), latency);
            }
            return Reply.read(r.body(), latency);
        } catch (HttpTimeoutException e) {
            return Outcome.error("timed out after " + ProcessRun.format(timeoutSeconds) + "s waiting for " + url,
                    (System.nanoTime() - start) / 1e9);
        } catch (IOException e) {
            return Outcome.error("cannot reach " + url + ": " + e.getMessage(), (System.nanoTime() - start) / 1e9);
        }
    }
}
