package scorebook.devices;

import java.util.Locale;
import java.util.function.Function;

import com.fasterxml.jackson.databind.JsonNode;

import scorebook.server.ApiException;
import scorebook.server.Names;

/**
 * The filters of {@code GET /devices}: {@code model} (served now), {@code queue_tag} (a job queue it takes),
 * {@code healthy} (model servers: the last health check), and for agents {@code present} (a heartbeat in the
 * last 45 s) and {@code ready} (what its last heartbeat said). A filter a device has no value for leaves it out:
 * {@code healthy} lists only model servers, {@code present} and {@code ready} only agents. Absent filters match all.
 *
 * @param model    a model name, or null
 * @param queueTag a queue tag, or null
 * @param healthy  the health wanted, or null
 * @param present  the presence wanted, or null
 * @param ready    the readiness wanted, or null
 */
public record DeviceFilter(String model, String queueTag, Boolean healthy, Boolean present, Boolean ready) {
    public static final DeviceFilter ALL = new DeviceFilter(null, null, null, null, null);

    /**
     * The filters in a query string.
     *
     * @param param a parameter's value, or null when absent
     * @throws ApiException 422 naming the parameter with a bad value
     */
    public static DeviceFilter parse(Function<String, String> param) {
        return new DeviceFilter(name(param, "model"), name(param, "queue_tag"), bool(param, "healthy"),
                bool(param, "present"), bool(param, "ready"));
    }

    private static String name(Function<String, String> param, String name) {
        String v = param.apply(name);
        return v == null ? null : Names.check(name, v);
    }

    private static Boolean bool(Function<String, String> param, String name) {
        String v = param.apply(name);
        if (v == null) {
            return null;
        }
        return switch (v.strip().toLowerCase(Locale.ROOT)) {
            case "true", "1" -> true;
            case "false", "0" -> false;
            default -> throw ApiException.invalid("'" + name + "' must be true or false");
        };
    }

    /** Whether the device passes every filter given. */
    public boolean matches(DeviceRegistry.Snapshot s, long nowMs) {
        Device d = s.device();
        if (model != null && !s.serves(model)) {
            return false;
        }
        if (queueTag != null && !d.queueTags().contains(queueTag)) {
            return false;
        }
        if (healthy != null && (!d.push() || s.healthy() != healthy)) {
            return false;
        }
        if (present != null && (d.push() || s.present(nowMs) != present)) {
            return false;
        }
        if (ready != null) {
            JsonNode r = d.push() || s.agentStatus() == null ? null : s.agentStatus().get("ready");
            return r != null && r.isBoolean() && r.asBoolean() == ready;
        }
        return true;
    }
}
