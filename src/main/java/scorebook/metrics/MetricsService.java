package scorebook.metrics;

import java.util.concurrent.locks.ReentrantLock;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import scorebook.auth.AuthFilter;
import scorebook.auth.Principal;
import scorebook.server.Errors;
import scorebook.server.Json;

/**
 * The server's metrics for Prometheus and for people. The owner's token, or the token given with
 * {@code serve --metrics-token T}, as {@code Authorization: Bearer} (Prometheus' {@code authorization} scrape
 * setting sends it so); another user's token is a 403.
 * <pre>
 * GET /metrics            the Prometheus text exposition format 0.0.4
 *   curl -H "Authorization: Bearer $METRICS_TOKEN" http://127.0.0.1:8080/metrics
 * GET /metrics/summary    the same families as JSON: {ok, metrics: {name: {type, help, samples: [...]}}}
 *   curl -H "Authorization: Bearer $T" http://127.0.0.1:8080/metrics/summary
 * </pre>
 */
public final class MetricsService implements HttpService {
    static final String TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8";
    private final Metrics metrics;
    /** The text's buffer, reused by every scrape (one at a time: Prometheus scrapes every few seconds). */
    private final TextFormat text = new TextFormat(64 * 1024);
    private final ReentrantLock textLock = new ReentrantLock();

    public MetricsService(Metrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/metrics", this::text)
                .get("/metrics/summary", this::summary)
                .any("/metrics", Errors.allow("GET"))
                .any("/metrics/summary", Errors.allow("GET"));
    }

    private void text(ServerRequest req, ServerResponse res) {
        allowed(req);
        res.header(HeaderNames.CONTENT_TYPE, TEXT_FORMAT);
        textLock.lock();
        try {
            metrics.write(text.reset());
            res.send(text.buffer(), 0, text.length()); // written out before it returns, so the buffer is free again
        } finally {
            textLock.unlock();
        }
    }

    private void summary(ServerRequest req, ServerResponse res) {
        allowed(req);
        JsonFormat json = new JsonFormat();
        metrics.write(json);
        Json.send(res, Json.fields("ok", true, "metrics", json.result()));
    }

    /** The metrics token, or the owner (401 without a credential, 403 for another user). */
    private static void allowed(ServerRequest req) {
        if (!AuthFilter.MetricsScrape.of(req)) {
            Principal.owner(req);
        }
    }
}
