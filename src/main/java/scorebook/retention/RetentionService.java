package scorebook.retention;

import java.time.Clock;
import java.util.Iterator;
import java.util.Set;

import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.auth.Principal;
import scorebook.server.ApiException;
import scorebook.server.Errors;
import scorebook.server.Json;
import scorebook.usage.UsageStore;

/**
 * How long your data is kept (user token). Each field is a whole number of days from 1 to 36500, or null to keep
 * that kind forever; a PUT replaces all three (a field left out is null).
 * <pre>
 * GET /api/retention     {ok, usage_days, dataset_days, job_days}
 *   curl -H "X-User-Token: $T" http://127.0.0.1:8080/api/retention
 * PUT /api/retention     {usage_days, dataset_days, job_days}
 *   curl -H "X-User-Token: $T" -X PUT -d '{"usage_days":90,"dataset_days":null,"job_days":30}' \
 *        http://127.0.0.1:8080/api/retention
 * </pre>
 */
public final class RetentionService implements HttpService {
    static final int MAX_DAYS = 36_500;
    private static final Set<String> FIELDS = Set.of("usage_days", "dataset_days", "job_days");

    private final RetentionStore store;
    private final Clock clock;

    public RetentionService(RetentionStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/api/retention", this::get)
                .put("/api/retention", this::put)
                .any("/api/retention", Errors.allow("GET, PUT"));
    }

    private void get(ServerRequest req, ServerResponse res) {
        send(res, store.get(Principal.of(req).userId()));
    }

    private void put(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        ObjectNode body = Json.object(req);
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                throw ApiException.invalid("'" + name + "' is not a retention setting (usage_days, dataset_days, job_days)");
            }
        }
        RetentionStore.Settings s = new RetentionStore.Settings(days(body, "usage_days"), days(body, "dataset_days"),
                days(body, "job_days"));
        store.put(p.userId(), s, UsageStore.iso(clock.millis()));
        send(res, s);
    }

    private static Integer days(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 1 || v.asInt() > MAX_DAYS) {
            throw ApiException.invalid("'" + field + "' must be a whole number of days from 1 to " + MAX_DAYS
                    + ", or null to keep forever");
        }
        return v.asInt();
    }

    private static void send(ServerResponse res, RetentionStore.Settings s) {
        Json.send(res, Json.fields("ok", true, "usage_days", s.usageDays(), "dataset_days", s.datasetDays(),
                "job_days", s.jobDays()));
    }
}
