package scorebook.devices;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import io.helidon.http.Status;
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
import scorebook.server.Names;

/**
 * Devices: the model servers Scorebook calls and the agents that pull jobs. User token auth; a
 * user sees only their own devices.
 * <pre>
 * GET    /devices                 {object:"list", data:[device with health]}; filters ?model= &queue_tag= &healthy=true|false
 *                                 (model servers) &present= &ready= (agents): see {@link DeviceFilter}
 *   curl -H "X-User-Token: $T" 'http://127.0.0.1:8080/devices?model=llama3.2&healthy=true'
 * GET    /devices/{serial}        one device with health
 * POST   /devices/register        {serial, kind: ollama|openai|agent, base_url, models?[], weight?, max_concurrency?, name?,
 *                                  api_key?, queue_tags? (["default"])}  api_key: sent upstream as Authorization: Bearer;
 *                                  absent keeps the stored one, "" removes it; never returned (the device shows has_api_key).
 *                                  An agent's answer carries its device_token, once (each registration rotates it)
 *   curl -H "X-User-Token: $T" -d '{"serial":"gpu1","kind":"ollama","base_url":"http://127.0.0.1:11434","models":["llama3.2"]}' \
 *        http://127.0.0.1:8080/devices/register
 * POST   /devices/reload          re-reads devices, checks push devices now (closing circuits that pass)
 * DELETE /devices/{serial}        removes a device
 * POST   /devices/{serial}/state  {state: running|quiet|terminate} what an agent's heartbeat answer asks of it:
 *                                  quiet = finish the jobs it holds and take no new ones; terminate = stop
 *   curl -H "X-User-Token: $T" -d '{"state":"quiet"}' http://127.0.0.1:8080/devices/pixel7/state
 * </pre>
 * The service also starts and stops the feature's background work with the server.
 */
public final class DeviceService implements HttpService {
    private static final Pattern SERIAL = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}");
    private final Devices devices;

    public DeviceService(Devices devices) {
        this.devices = devices;
    }

    @Override
    public void beforeStart() {
        devices.start();
    }

    @Override
    public void afterStop() {
        devices.close();
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/devices", this::list)
                .post("/devices/register", this::register)
                .post("/devices/reload", this::reload)
                .any("/devices", Errors.allow("GET"))
                .any("/devices/register", Errors.allow("POST"))
                .any("/devices/reload", Errors.allow("POST"))
                .get("/devices/{serial}", this::one)
                .delete("/devices/{serial}", this::remove)
                .any("/devices/{serial}", Errors.allow("GET, DELETE"))
                .post("/devices/{serial}/state", this::agentState)
                .any("/devices/{serial}/state", Errors.allow("POST"));
    }

    private void list(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        DeviceFilter filter = DeviceFilter.parse(name -> req.query().first(name).orElse(null));
        long now = devices.registry().nowMs();
        Json.send(res, listBody(devices.registry().snapshots(p.userId()).stream().filter(s -> filter.matches(s, now)).toList()));
    }

    private void one(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        String serial = req.path().pathParameters().get("serial");
        DeviceRegistry.Snapshot s = devices.registry().snapshot(p.userId(), serial)
                .orElseThrow(() -> DeviceStore.notFound(serial));
        Json.send(res, Json.fields("ok", true, "device", devices.registry().view(s)));
    }

    private void register(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        ObjectNode body = Json.object(req);
        DeviceStore.Registration r = registration(
                Names.required(body, "serial"),
                text(body, "kind", true),
                body.hasNonNull("name") ? Names.required(body, "name") : null,
                text(body, "base_url", false),
                models(body),
                integer(body, "weight"),
                integer(body, "max_concurrency"),
                text(body, "api_key", false),
                strings(body, "queue_tags"));
        DeviceStore.Saved saved = devices.register(p.userId(), r);
        DeviceRegistry.Snapshot s = devices.registry().snapshot(p.userId(), r.serial()).orElseThrow();
        Map<String, Object> answer = Json.fields("ok", true, "created", saved.created(), "device", devices.registry().view(s));
        if (!saved.device().push()) {
            answer.put("device_id", saved.device().id());
            answer.put("serial", saved.device().serial());
            answer.put("device_token", devices.store().rotateToken(saved.device().id()));
        }
        Json.send(res, saved.created() ? Status.CREATED_201 : Status.OK_200, answer);
    }

    private void reload(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        Json.send(res, listBody(devices.reload(p.userId())));
    }

    private void remove(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        Device d = devices.remove(p.userId(), req.path().pathParameters().get("serial"));
        Json.send(res, Json.fields("ok", true, "removed", d.serial()));
    }

    private void agentState(ServerRequest req, ServerResponse res) {
        Principal p = Principal.of(req);
        String serial = req.path().pathParameters().get("serial");
        DeviceRegistry.Snapshot before = devices.registry().snapshot(p.userId(), serial)
                .orElseThrow(() -> DeviceStore.notFound(serial)); // another user's device is 404 whatever the body
        ObjectNode body = Json.object(req);
        Json.onlyFields(body, java.util.Set.of("state"),
                f -> "unknown field '" + f + "'; the body is {\"state\": \"running|quiet|terminate\"}");
        JsonNode state = body.get("state");
        if (state == null || !state.isTextual() || !Device.AGENT_STATES.contains(state.asText())) {
            throw ApiException.invalid("'state' must be one of " + String.join(", ", Device.AGENT_STATES));
        }
        if (before.device().push()) {
            throw ApiException.conflict("device '" + serial + "' is a " + before.device().kind()
                    + " model server; only agents (kind agent) have a state");
        }
        devices.agentState(p.userId(), serial, state.asText());
        DeviceRegistry.Snapshot s = devices.registry().snapshot(p.userId(), serial).orElseThrow(() -> DeviceStore.notFound(serial));
        Json.send(res, Json.fields("ok", true, "device", devices.registry().view(s)));
    }

    private Map<String, Object> listBody(List<DeviceRegistry.Snapshot> snapshots) {
        return Json.fields("ok", true, "object", "list", "data", snapshots.stream().map(devices.registry()::view).toList());
    }

    /**
     * Validates a registration (the API and the command line share the rules).
     *
     * @throws ApiException 422 naming the field
     */
    public static DeviceStore.Registration registration(String serial, String kind, String name, String baseUrl,
                                                        List<String> models, Integer weight, Integer maxConcurrency) {
        return registration(serial, kind, name, baseUrl, models, weight, maxConcurrency, null, null);
    }

    /** As above, with the upstream API key (null keeps the stored one, "" removes it) and the job queue tags. */
    public static DeviceStore.Registration registration(String serial, String kind, String name, String baseUrl,
                                                        List<String> models, Integer weight, Integer maxConcurrency,
                                                        String apiKey, List<String> queueTags) {
        serial = Names.check("serial", serial);
        if (!SERIAL.matcher(serial).matches()) {
            throw ApiException.invalid("'serial' may hold letters, digits and . _ : @ - (at most 100, starting with a letter or digit)");
        }
        if (serial.equals("register") || serial.equals("reload")) {
            throw ApiException.invalid("'serial' cannot be '" + serial + "': /devices/" + serial + " is an endpoint");
        }
        if (kind == null || !Device.KINDS.contains(kind)) {
            throw ApiException.invalid("'kind' must be one of " + String.join(", ", Device.KINDS));
        }
        String url = null;
        if ("agent".equals(kind)) {
            if (baseUrl != null) {
                throw ApiException.invalid("'base_url' is for model servers; an agent (kind agent) pulls its jobs");
            }
        } else {
            url = baseUrl(baseUrl, kind);
        }
        List<String> checked = new ArrayList<>(new LinkedHashSet<>(models.stream().map(m -> Names.check("models", m)).toList()));
        int w = weight == null ? 1 : weight;
        if (w < 1 || w > 1000) {
            throw ApiException.invalid("'weight' must be a whole number from 1 to 1000");
        }
        int c = maxConcurrency == null ? 1 : maxConcurrency;
        if (c < 1 || c > 1024) {
            throw ApiException.invalid("'max_concurrency' must be a whole number from 1 to 1024");
        }
        List<String> tags = queueTags == null || queueTags.isEmpty() ? Device.DEFAULT_TAGS
                : List.copyOf(new LinkedHashSet<>(queueTags.stream().map(t -> Names.check("queue_tags", t)).toList()));
        return new DeviceStore.Registration(serial, kind, name, url, List.copyOf(checked), w, c, apiKey(apiKey, kind), tags);
    }

    /** A header value: visible ASCII only (no spaces or line breaks that could end the header), at most 4096. */
    private static String apiKey(String key, String kind) {
        if (key == null || key.isEmpty()) {
            return key;
        }
        if ("agent".equals(kind)) {
            throw ApiException.invalid("'api_key' is for model servers Scorebook calls; an agent (kind agent) pulls its jobs");
        }
        if (key.length() > 4096 || !key.chars().allMatch(ch -> ch > 0x20 && ch < 0x7f)) {
            // the message must not echo the key
            throw ApiException.invalid("'api_key' must be at most 4096 visible ASCII characters (no spaces or line breaks)");
        }
        return key;
    }

    private static String baseUrl(String raw, String kind) {
        if (raw == null || raw.isBlank()) {
            throw ApiException.invalid("'base_url' is required for a " + kind + " device, e.g. http://127.0.0.1:"
                    + ("ollama".equals(kind) ? "11434" : "8000"));
        }
        String url = raw.strip();
        try {
            URI u = new URI(url);
            if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null
                    || u.getRawQuery() != null || u.getRawFragment() != null) {
                throw new URISyntaxException(url, "not an http(s) URL with a host");
            }
        } catch (URISyntaxException e) {
            throw ApiException.invalid("'base_url' must be an http:// or https:// URL with a host, like http://127.0.0.1:11434");
        }
        while (url.endsWith("/")) {
            url = url.substring(0, url.length() - 1);
        }
        if ("openai".equals(kind) && url.endsWith("/v1")) {
            url = url.substring(0, url.length() - 3);
        }
        return url;
    }

    private static String text(ObjectNode body, String field, boolean required) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                throw ApiException.invalid("'" + field + "' is required");
            }
            return null;
        }
        if (!v.isTextual()) {
            throw ApiException.invalid("'" + field + "' must be a string");
        }
        return v.asText();
    }

    private static Integer integer(ObjectNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw ApiException.invalid("'" + field + "' must be a whole number");
        }
        return v.asInt();
    }

    private static List<String> models(ObjectNode body) {
        List<String> names = strings(body, "models");
        return names == null ? List.of() : names;
    }

    /** A list of strings in {@code field}, or null when absent. */
    private static List<String> strings(ObjectNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isArray()) {
            throw ApiException.invalid("'" + field + "' must be a list of names");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode m : v) {
            if (!m.isTextual()) {
                throw ApiException.invalid("'" + field + "' must be a list of names (strings)");
            }
            out.add(m.asText());
        }
        return out;
    }
}
