package scorebook.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.server.OpenApi;

/**
 * The API's operations as the OpenAPI document lists them, so that suites that go over every endpoint (hostile
 * input, access, HEAD) pick up the routes features add by writing their fragment. Also the routes the sources
 * register, to check the document against.
 */
public final class ApiRoutes {
    /**
     * Which credential an operation takes. METRICS: the owner's user token, or the metrics token of
     * {@code serve --metrics-token} (as a bearer); any other user's token is a 403.
     */
    public enum Auth { PUBLIC, USER, API_KEY, DEVICE, METRICS }

    /**
     * One operation.
     *
     * @param method  upper-case HTTP method
     * @param path    the templated path, e.g. /api/runs/{run_id}
     * @param auth    the credential it takes
     * @param op      the operation object of the document
     */
    public record Operation(String method, String path, Auth auth, JsonNode op) {
        public boolean hasBody() {
            return op.has("requestBody");
        }

        /** The JSON schema of the request body, or null. */
        public JsonNode bodySchema() {
            return op.at("/requestBody/content/application~1json/schema").isMissingNode()
                    ? null : op.at("/requestBody/content/application~1json/schema");
        }

        /** The response schema documented for {@code status} as JSON, or null. */
        public JsonNode responseSchema(int status) {
            JsonNode r = op.path("responses").path(String.valueOf(status));
            if (r.has("$ref")) {
                r = DOCUMENT.at(r.get("$ref").asText().substring(1));
            }
            JsonNode schema = r.at("/content/application~1json/schema");
            return schema.isMissingNode() ? null : schema;
        }

        /** The path with sample parameters: the active run, index 0, a real dashboard file, ids that name nothing. */
        public String sample() {
            return concrete(name -> switch (name) {
                case "run_id" -> "latest";
                case "index" -> "0";
                case "path" -> path.startsWith("/vendor/") ? "chart.js/4.5.1/dist/chart.umd.js" : "js/main.js";
                case "id" -> "999999";
                default -> "nothing-" + name;
            });
        }

        /** The path with every parameter replaced by {@code sample(name)}. */
        public String concrete(java.util.function.Function<String, String> sample) {
            Matcher m = PARAM.matcher(path);
            StringBuilder sb = new StringBuilder();
            while (m.find()) {
                m.appendReplacement(sb, Matcher.quoteReplacement(sample.apply(m.group(1))));
            }
            m.appendTail(sb);
            return sb.toString();
        }

        @Override
        public String toString() {
            return method + " " + path;
        }
    }

    /** The merged document, as the server serves it. */
    public static final ObjectNode DOCUMENT = OpenApi.document();
    private static final Pattern PARAM = Pattern.compile("\\{\\+?([^}]+)}");
    private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "patch");
    private static final Pattern SOURCE_ROUTE = Pattern.compile("\\.(get|post|put|patch|delete)\\(\"(/[^\"]*)\"");

    private ApiRoutes() {
    }

    /** Every documented operation, in path order. */
    public static List<Operation> operations() {
        List<Operation> out = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> paths = DOCUMENT.path("paths").fields(); paths.hasNext(); ) {
            Map.Entry<String, JsonNode> p = paths.next();
            for (Iterator<Map.Entry<String, JsonNode>> ops = p.getValue().fields(); ops.hasNext(); ) {
                Map.Entry<String, JsonNode> o = ops.next();
                if (METHODS.contains(o.getKey())) {
                    out.add(new Operation(o.getKey().toUpperCase(Locale.ROOT), p.getKey(), auth(o.getValue()), o.getValue()));
                }
            }
        }
        return out;
    }

    private static Auth auth(JsonNode op) {
        JsonNode security = op.has("security") ? op.get("security") : DOCUMENT.get("security");
        if (security.isEmpty()) {
            return Auth.PUBLIC;
        }
        for (JsonNode s : security) {
            if (s.has("apiKey")) {
                return Auth.API_KEY;
            }
            if (s.has("deviceToken")) {
                return Auth.DEVICE;
            }
            if (s.has("metricsToken")) {
                return Auth.METRICS;
            }
        }
        return Auth.USER;
    }

    /** Every documented path, in order. */
    public static List<String> paths() {
        List<String> out = new ArrayList<>();
        DOCUMENT.path("paths").fieldNames().forEachRemaining(out::add);
        return out;
    }

    /** "GET /api/runs/{}" style keys of the documented operations, parameters unnamed. */
    public static Set<String> documentedKeys() {
        Set<String> keys = new TreeSet<>();
        operations().forEach(o -> keys.add(o.method() + " " + unnamed(o.path())));
        return keys;
    }

    /**
     * The routes the sources register with {@code .get("/path", ...)} and the like (Helidon's path syntax, parameters
     * unnamed): what the server serves, found without a list kept by hand.
     */
    public static Set<String> sourceRouteKeys(Path sources) {
        Set<String> keys = new TreeSet<>();
        try (Stream<Path> files = Files.walk(sources)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                Matcher m = SOURCE_ROUTE.matcher(Files.readString(f));
                while (m.find()) {
                    keys.add(m.group(1).toUpperCase(Locale.ROOT) + " " + unnamed(m.group(2)));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return keys;
    }

    private static String unnamed(String path) {
        return PARAM.matcher(path).replaceAll("{}");
    }
}
