package scorebook.metrics;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicLongArray;

import io.helidon.http.HttpException;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;

import scorebook.server.ApiException;

/**
 * Counts every answer by endpoint group and status, in front of every other filter (so the 400s, 401s and
 * 403s those give are counted too): one atomic array, and the group found by comparing the path's first segments
 * in place, so a request allocates nothing here and touches no database. An error a handler throws is counted
 * with the status the error handlers will give it.
 */
final class RequestCounter implements Filter {
    /** The endpoint groups; {@code OTHER} takes everything else. */
    enum Group {
        GATEWAY, OPENAI, DEVICES, WORKER, JOBS, USAGE, DATASETS, EVALS, AUTH, METRICS, SHARE, HEALTH, DASHBOARD, OTHER;

        final String label = name().toLowerCase(Locale.ROOT);
    }

    private static final Group[] GROUPS = Group.values();
    private static final int STATUSES = 500; // 100..599
    private static final String[] STATUS_TEXT = new String[STATUSES];

    static {
        for (int s = 0; s < STATUSES; s++) {
            STATUS_TEXT[s] = Integer.toString(s + 100);
        }
    }

    private final AtomicLongArray counts = new AtomicLongArray(GROUPS.length * STATUSES);

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        Group group = group(req.path().path());
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
                counts.incrementAndGet(group.ordinal() * STATUSES + status - 100);
            }
        }
    }

    /** The group of a path: what a dashboard of the server's traffic splits by. */
    static Group group(String path) {
        int start = path.startsWith("/") ? 1 : 0;
        int end = segmentEnd(path, start);
        if (is(path, start, end, "ask") || is(path, start, end, "ask_stream") || is(path, start, end, "ask_batch")
                || is(path, start, end, "ask_trace") || is(path, start, end, "warmup")) {
            return Group.GATEWAY;
        } else if (is(path, start, end, "v1")) {
            return Group.OPENAI;
        } else if (is(path, start, end, "devices")) {
            return path.endsWith("/heartbeat") ? Group.WORKER : Group.DEVICES;
        } else if (is(path, start, end, "worker")) {
            return Group.WORKER;
        } else if (is(path, start, end, "jobs")) {
            return Group.JOBS;
        } else if (is(path, start, end, "usage")) {
            return Group.USAGE;
        } else if (is(path, start, end, "user")) {
            return path.startsWith("/user/data") ? Group.DATASETS : Group.JOBS;
        } else if (is(path, start, end, "results")) {
            return Group.EVALS;
        } else if (is(path, start, end, "metrics")) {
            return Group.METRICS;
        } else if (is(path, start, end, "share") || is(path, start, end, "s")) {
            return Group.SHARE;
        } else if (is(path, start, end, "health")) {
            return Group.HEALTH;
        } else if (end == start || is(path, start, end, "index.html") || is(path, start, end, "favicon.ico")
                || is(path, start, end, "static") || is(path, start, end, "vendor") || is(path, start, end, "openapi.json")
                || is(path, start, end, "logout")) {
            return Group.DASHBOARD;
        } else if (is(path, start, end, "api")) {
            return apiGroup(path, end + 1);
        }
        return Group.OTHER;
    }

    private static Group apiGroup(String path, int start) {
        if (start > path.length()) {
            return Group.OTHER;
        }
        int end = segmentEnd(path, start);
        if (is(path, start, end, "jobs")) {
            return Group.JOBS;
        } else if (is(path, start, end, "keys") || is(path, start, end, "users") || is(path, start, end, "me")) {
            return Group.AUTH;
        } else if (is(path, start, end, "runs") || is(path, start, end, "sessions") || is(path, start, end, "config")
                || is(path, start, end, "suites")) {
            return Group.EVALS;
        } else if (is(path, start, end, "share")) {
            return Group.SHARE;
        }
        return Group.OTHER;
    }

    private static int segmentEnd(String path, int start) {
        int end = path.indexOf('/', start);
        return end < 0 ? path.length() : end;
    }

    /** Whether the segment {@code path[start, end)} is {@code word}, compared in place. */
    private static boolean is(String path, int start, int end, String word) {
        return end - start == word.length() && path.startsWith(word, start);
    }

    /** Requests by group and status, and failures (5xx answers) by group. */
    void write(Exposition out) {
        out.family("scorebook_http_requests_total", "counter", "HTTP requests answered, by endpoint group and status code");
        for (Group g : GROUPS) {
            for (int s = 0; s < STATUSES; s++) {
                long n = counts.get(g.ordinal() * STATUSES + s);
                if (n > 0) {
                    out.sample(n, "group", g.label, "status", STATUS_TEXT[s]);
                }
            }
        }
        out.family("scorebook_http_failures_total", "counter",
                "HTTP requests answered with a 5xx status (the server or a model server failed), by endpoint group");
        for (Group g : GROUPS) {
            long failed = 0;
            for (int s = 400; s < STATUSES; s++) {
                failed += counts.get(g.ordinal() * STATUSES + s);
            }
            out.sample(failed, "group", g.label);
        }
    }
}
