package scorebook.metrics;

import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;

import io.helidon.http.HttpException;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;

import scorebook.server.ApiException;

/**
 * Counts every answer by endpoint group and status, in front of every other filter (so the 400s, 401s and
 * 403s those give are counted too): one atomic array, no allocation and no database per request. An error a
 * handler throws is counted with the status the error handlers will give it.
 */
final class RequestCounter implements Filter {
    /** The endpoint groups, by the path's first segment; the last one takes everything else. */
    static final List<String> GROUPS = List.of("gateway", "openai", "devices", "worker", "jobs", "usage", "datasets",
            "evals", "auth", "metrics", "share", "health", "dashboard", "other");
    private static final int STATUSES = 500; // 100..599
    private final AtomicLongArray counts = new AtomicLongArray(GROUPS.size() * STATUSES);

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        int group = group(req.path().path());
        int status = 500;
        try {
            chain.proceed();
            status = res.status().code();
        } catch (ApiException e) {
            status = e.status().code();
            throw e;
        } catch (HttpException e) {
            status = e.status().code();
            throw e;
        } finally {
            if (status >= 100 && status < 600) {
                counts.incrementAndGet(group * STATUSES + status - 100);
            }
        }
    }

    /** The group of a path: what a dashboard of the server's traffic splits by. */
    static int group(String path) {
        String first = firstSegment(path);
        String g = switch (first) {
            case "ask", "ask_stream", "ask_batch", "ask_trace", "warmup" -> "gateway";
            case "v1" -> "openai";
            case "devices" -> path.endsWith("/heartbeat") ? "worker" : "devices";
            case "worker" -> "worker";
            case "jobs" -> "jobs";
            case "usage" -> "usage";
            case "user" -> path.startsWith("/user/data") ? "datasets" : "jobs";
            case "results" -> "evals";
            case "metrics" -> "metrics";
            case "share" -> "share";
            case "health" -> "health";
            case "", "index.html", "favicon.ico", "static", "vendor", "openapi.json", "logout" -> "dashboard";
            case "api" -> apiGroup(path);
            default -> "other";
        };
        return GROUPS.indexOf(g);
    }

    private static String apiGroup(String path) {
        String second = firstSegment(path.substring("/api".length()));
        return switch (second) {
            case "jobs" -> "jobs";
            case "keys", "users", "me" -> "auth";
            case "runs", "sessions", "config", "suites" -> "evals";
            case "share" -> "share";
            default -> "other";
        };
    }

    private static String firstSegment(String path) {
        int start = path.startsWith("/") ? 1 : 0;
        int end = path.indexOf('/', start);
        return end < 0 ? path.substring(start) : path.substring(start, end);
    }

    /** Requests by group and status, and failures (5xx answers) by group. */
    void collect(List<Family> out) {
        Family requests = Family.of("scorebook_http_requests_total", "counter",
                "HTTP requests answered, by endpoint group and status code");
        Family failures = Family.of("scorebook_http_failures_total", "counter",
                "HTTP requests answered with a 5xx status (the server or a model server failed), by endpoint group");
        for (int g = 0; g < GROUPS.size(); g++) {
            long failed = 0;
            for (int s = 0; s < STATUSES; s++) {
                long n = counts.get(g * STATUSES + s);
                if (n > 0) {
                    requests.add(n, "group", GROUPS.get(g), "status", Integer.toString(s + 100));
                    if (s + 100 >= 500) {
                        failed += n;
                    }
                }
            }
            failures.add(failed, "group", GROUPS.get(g));
        }
        out.add(requests);
        out.add(failures);
    }
}
