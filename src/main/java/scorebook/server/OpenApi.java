package scorebook.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

/**
 * The API's OpenAPI 3.1 document, assembled once at start from the fragments in {@code openapi/} on the
 * classpath: {@code _base.yaml} is the frame (info, security schemes, the error envelope), and every other
 * {@code *.yaml} there is one feature's partial document ({@code paths:} and optionally {@code components:}).
 * A feature adds its routes by dropping its fragment into {@code src/main/resources/openapi/}; the folder is
 * listed at run time, from the jar or from disk, so no list needs editing.
 * <pre>
 * GET /openapi.json    the document (no credential)
 *   curl http://127.0.0.1:8080/openapi.json
 * </pre>
 */
public final class OpenApi implements HttpService {
    static final String FOLDER = "openapi/";
    static final String BASE = FOLDER + "_base.yaml";
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private final byte[] document = Json.bytes(document());

    @Override
    public void routing(HttpRules rules) {
        rules.get("/openapi.json", (req, res) -> {
            res.header(HeaderNames.CONTENT_TYPE, "application/json");
            res.send(document);
        }).any("/openapi.json", Errors.allow("GET"));
    }

    /** The merged document; a path and method documented by two fragments (or two clashing schemas) is an error. */
    public static ObjectNode document() {
        ObjectNode doc = (ObjectNode) read(BASE);
        ObjectNode paths = doc.withObject("/paths");
        for (String name : fragments()) {
            JsonNode fragment = read(FOLDER + name);
            if (fragment == null || !fragment.isObject()) {
                continue;
            }
            fragment.path("paths").fields().forEachRemaining(p -> {
                ObjectNode path = paths.withObject("/" + escape(p.getKey()));
                p.getValue().fields().forEachRemaining(op -> {
                    if (path.has(op.getKey())) {
                        throw new IllegalStateException("openapi/" + name + ": " + op.getKey() + " " + p.getKey()
                                + " is documented by another fragment too");
                    }
                    path.set(op.getKey(), op.getValue());
                });
            });
            fragment.path("components").fields().forEachRemaining(section -> {
                ObjectNode into = doc.withObject("/components").withObject("/" + section.getKey());
                section.getValue().fields().forEachRemaining(c -> {
                    JsonNode had = into.get(c.getKey());
                    if (had != null && !had.equals(c.getValue())) {
                        throw new IllegalStateException("openapi/" + name + ": components." + section.getKey() + "."
                                + c.getKey() + " differs from another fragment's");
                    }
                    into.set(c.getKey(), c.getValue());
                });
            });
        }
        sortPaths(doc);
        return doc;
    }

    /** The fragment files' names (without the folder), sorted; {@code _base.yaml} excluded. */
    static List<String> fragments() {
        URL base = OpenApi.class.getClassLoader().getResource(BASE);
        if (base == null) {
            throw new IllegalStateException(BASE + " is missing from the classpath");
        }
        List<String> names = new ArrayList<>();
        try {
            if (base.getProtocol().equals("jar")) {
                JarURLConnection c = (JarURLConnection) base.openConnection();
                c.setUseCaches(false);
                try (JarFile jar = c.getJarFile()) {
                    for (JarEntry e : Collections.list(jar.entries())) {
                        String n = e.getName();
                        if (n.startsWith(FOLDER) && n.indexOf('/', FOLDER.length()) < 0) {
                            names.add(n.substring(FOLDER.length()));
                        }
                    }
                }
            } else {
                try (Stream<Path> files = Files.list(Path.of(base.toURI()).getParent())) {
                    files.forEach(f -> names.add(f.getFileName().toString()));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        return names.stream().filter(n -> n.endsWith(".yaml") && !n.startsWith("_")).sorted().toList();
    }

    private static JsonNode read(String resource) {
        try (InputStream in = OpenApi.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException(resource + " is missing from the classpath");
            }
            return YAML.readTree(in);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + resource + ": " + e.getMessage(), e);
        }
    }

    /** A JSON pointer segment for a path such as {@code /api/runs/{run_id}}. */
    private static String escape(String key) {
        return key.replace("~", "~0").replace("/", "~1");
    }

    private static void sortPaths(ObjectNode doc) {
        ObjectNode paths = (ObjectNode) doc.get("paths");
        List<Map.Entry<String, JsonNode>> all = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = paths.fields(); it.hasNext(); ) {
            all.add(it.next());
        }
        all.sort(Map.Entry.comparingByKey());
        ObjectNode sorted = Json.MAPPER.createObjectNode();
        all.forEach(e -> sorted.set(e.getKey(), e.getValue()));
        doc.set("paths", sorted);
    }
}
