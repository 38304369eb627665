package scorebook.runner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Stream;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import scorebook.server.Json;

/**
 * Finds the suite files under the eval path ({@code *.yaml}, {@code *.yml}, {@code *.json},
 * recursively, skipping names that start with {@code _} or {@code .}) and reads each into a
 * {@link Suite}, or into {@link SuiteError}s naming file and line. One bad file never hides the others.
 */
public final class SuiteLoader {
    /** Scorer types and the settings each one requires. */
    static final Map<String, List<String>> SCORERS = Map.of(
            "equals", List.of(),
            "contains", List.of("value"),
            "regex", List.of("pattern"),
            "json", List.of(),
            "numeric", List.of(),
            "latency", List.of("max_ms"),
            "judge", List.of("model"),
            "command", List.of("command"));
    private static final Set<String> SUITE_KEYS = Set.of("dataset", "labels", "target", "timeout", "scorers", "cases");
    private static final Set<String> CASE_KEYS = Set.of("name", "input", "reference", "labels", "metadata", "file");
    private static final JsonFactory YAML = new YAMLFactory();
    private static final JsonFactory JSON = new JsonFactory();
    /**
     * Files read before, by path and shown name: a file is parsed again only when it, or a case file it names,
     * changed, so that a run of a large suite does not start by parsing it again (suites still apply edits).
     */
    private static final Map<Key, Read> READ = new java.util.concurrent.ConcurrentHashMap<>();

    private record Key(Path file, String name) {
    }

    /**
     * A file's size and content checksum when it was read (a checksum rather than the modification time,
     * whose granularity can miss two quick edits of the same size); reading and summing a file costs far
     * less than parsing it.
     */
    private record Stamp(Path file, long size, long crc) {
        static Stamp of(Path file) {
            try {
                byte[] bytes = Files.readAllBytes(file);
                java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
                crc.update(bytes);
                return new Stamp(file, bytes.length, crc.getValue());
            } catch (IOException e) {
                return new Stamp(file, -1, 0);
            }
        }

        boolean current() {
            return equals(of(file));
        }
    }

    /** What reading a file gave (a suite or an error), and the files it read. */
    private record Read(List<Stamp> stamps, Suite suite, SuiteError error) {
    }

    /** Everything found under the eval path. */
    public record Discovery(List<Suite> suites, List<SuiteError> errors) {
        public List<Case> cases() {
            return suites.stream().flatMap(s -> s.cases().stream()).toList();
        }
    }

    private SuiteLoader() {
    }

    public static Discovery discover(Path evalPath) {
        List<Suite> suites = new ArrayList<>();
        List<SuiteError> errors = new ArrayList<>();
        if (!Files.exists(evalPath)) {
            return new Discovery(suites, errors);
        }
        Path root = Files.isDirectory(evalPath) ? evalPath : evalPath.getParent();
        for (Path file : files(evalPath)) {
            String name = root == null ? file.toString() : root.relativize(file).toString();
            Read read = read(file, name);
            if (read.suite() != null) {
                suites.add(read.suite());
            } else {
                errors.add(read.error());
            }
        }
        return new Discovery(suites, errors);
    }

    /** A file as read before while it and its case files are unchanged, else read now. */
    private static Read read(Path file, String name) {
        Key key = new Key(file.toAbsolutePath(), name);
        Read known = READ.get(key);
        if (known != null && known.stamps().stream().allMatch(Stamp::current)) {
            return known;
        }
        Reader reader = new Reader(file, name);
        Read read;
        try {
            Suite suite = reader.suite();
            read = new Read(List.copyOf(reader.stamps), suite, null);
        } catch (Invalid e) {
            read = new Read(List.copyOf(reader.stamps), null, e.error);
        }
        READ.put(key, read);
        return read;
    }

    private static List<Path> files(Path evalPath) {
        if (Files.isRegularFile(evalPath)) {
            return List.of(evalPath);
        }
        try (Stream<Path> walk = Files.walk(evalPath)) {
            return walk.filter(Files::isRegularFile)
                    .filter(p -> {
                        for (Path part : evalPath.relativize(p)) {
                            String s = part.toString();
                            if (s.startsWith("_") || s.startsWith(".")) {
                                return false;
                            }
                        }
                        String n = p.getFileName().toString();
                        return n.endsWith(".yaml") || n.endsWith(".yml") || n.endsWith(".json");
                    })
                    .sorted()
                    .toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** A suite error on its way out of the reader. */
    private static final class Invalid extends Exception {
        private final SuiteError error;

        Invalid(SuiteError error) {
            super(error.toString(), null, false, false);
            this.error = error;
        }
    }

    /** Reads one file. */
    private static final class Reader {
        private final Path file;
        private final String name;
        /** The files read, stamped before each was parsed (so a change while parsing is seen next time). */
        private final List<Stamp> stamps = new ArrayList<>();
        private LocatedTree tree;

        Reader(Path file, String name) {
            this.file = file;
            this.name = name;
        }

        Suite suite() throws Invalid {
            tree = parse(file);
            JsonNode root = tree.root();
            if (!root.isObject()) {
                throw invalid(root, "a suite must be a mapping with target, scorers and cases");
            }
            unknownKeys(root, SUITE_KEYS, "suite");
            String stem = stem(file);
            String dataset = root.has("dataset") ? text(root.get("dataset"), "dataset") : stem;
            List<String> labels = labels(root.get("labels"));
            Suite.TargetSpec target = target(root.get("target"), root);
            Double timeout = null;
            if (root.has("timeout") && !root.get("timeout").isNull()) {
                JsonNode t = root.get("timeout");
                if (!t.isNumber() || t.asDouble() <= 0) {
                    throw invalid(t, "timeout must be a number of seconds > 0");
                }
                timeout = t.asDouble();
            }
            List<Suite.ScorerSpec> scorers = scorers(root.get("scorers"));
            List<Case> cases = cases(root.get("cases"), root, stem, dataset, labels);
            return new Suite(name, file.toAbsolutePath().getParent(), target, timeout, scorers, cases);
        }

        private LocatedTree parse(Path file) throws Invalid {
            stamps.add(Stamp.of(file));
            JsonFactory factory = file.getFileName().toString().endsWith(".json") ? JSON : YAML;
            try (JsonParser p = factory.createParser(file.toFile())) {
                return LocatedTree.read(p);
            } catch (JsonProcessingException e) {
                int line = e.getLocation() == null ? 1 : Math.max(1, e.getLocation().getLineNr());
                throw new Invalid(new SuiteError(name, line, "cannot parse: " + e.getOriginalMessage()));
            } catch (IOException e) {
                throw new Invalid(new SuiteError(name, 1, "cannot read: " + e.getMessage()));
            }
        }

        private Suite.TargetSpec target(JsonNode t, JsonNode root) throws Invalid {
            if (t == null || !t.isObject()) {
                throw invalid(t == null ? root : t, "target must be a mapping with one of command, http, llm");
            }
            List<String> kinds = new ArrayList<>();
            t.fieldNames().forEachRemaining(k -> {
                if (Set.of("command", "http", "llm").contains(k)) {
                    kinds.add(k);
                }
            });
            if (kinds.size() != 1) {
                throw invalid(t, "target must have exactly one of command, http, llm (found " + kinds + ")");
            }
            String kind = kinds.getFirst();
            JsonNode spec = t.get(kind);
            switch (kind) {
                case "command" -> {
                    boolean ok = spec.isTextual() && !spec.asText().isBlank()
                            || spec.isArray() && !spec.isEmpty() && allText(spec);
                    if (!ok) {
                        throw invalid(spec, "target.command must be a string or a list of strings");
                    }
                }
                case "http" -> {
                    JsonNode url = spec.isTextual() ? spec : spec.get("url");
                    if (url == null || !url.isTextual() || !url.asText().matches("https?://.+")) {
                        throw invalid(spec, "target.http needs a url starting with http:// or https://");
                    }
                }
                default -> {
                    if (!spec.isObject() || !spec.path("model").isTextual() || !spec.path("prompt").isTextual()) {
                        throw invalid(spec, "target.llm needs model and prompt");
                    }
                }
            }
            return new Suite.TargetSpec(kind, spec);
        }

        private List<Suite.ScorerSpec> scorers(JsonNode list) throws Invalid {
            List<Suite.ScorerSpec> out = new ArrayList<>();
            if (list == null || list.isNull()) {
                return out;
            }
            if (!list.isArray()) {
                throw invalid(list, "scorers must be a list");
            }
            for (JsonNode s : list) {
                String type = s.isTextual() ? s.asText() : s.path("type").asText("");
                if (!SCORERS.containsKey(type)) {
                    throw invalid(s, "unknown scorer '" + type + "' (known: " + String.join(", ", SCORERS.keySet().stream().sorted().toList()) + ")");
                }
                JsonNode spec = s.isObject() ? s : Json.MAPPER.createObjectNode();
                for (String required : SCORERS.get(type)) {
                    if (!spec.hasNonNull(required)) {
                        throw invalid(s, "scorer " + type + " needs '" + required + "'");
                    }
                }
                if (type.equals("regex")) {
                    try {
                        Pattern.compile(spec.get("pattern").asText());
                    } catch (PatternSyntaxException e) {
                        throw invalid(s, "scorer regex: bad pattern: " + e.getDescription());
                    }
                }
                String key = spec.hasNonNull("key") ? text(spec.get("key"), "key") : type;
                out.add(new Suite.ScorerSpec(type, key, spec));
            }
            return out;
        }

        private List<Case> cases(JsonNode list, JsonNode root, String stem, String dataset, List<String> suiteLabels) throws Invalid {
            if (list == null || !list.isArray() || list.isEmpty()) {
                throw invalid(list == null ? root : list, "cases must be a non-empty list");
            }
            List<JsonNode> raw = new ArrayList<>();
            for (JsonNode c : list) {
                if (c.isObject() && c.has("file")) {
                    raw.addAll(caseFile(c));
                } else {
                    raw.add(c);
                }
            }
            List<Case> cases = new ArrayList<>();
            for (int i = 0; i < raw.size(); i++) {
                JsonNode c = raw.get(i);
                if (!c.isObject()) {
                    throw invalid(c, "a case must be a mapping with input (and name, reference, labels, metadata)");
                }
                unknownKeys(c, CASE_KEYS, "case");
                if (!c.has("input")) {
                    throw invalid(c, "a case needs an input");
                }
                String function = c.hasNonNull("name") ? text(c.get("name"), "name") : stem + "[" + i + "]";
                List<String> labels = new ArrayList<>(suiteLabels);
                for (String l : labels(c.get("labels"))) {
                    if (!labels.contains(l)) {
                        labels.add(l);
                    }
                }
                JsonNode metadata = c.get("metadata");
                if (metadata != null && !metadata.isNull() && !metadata.isObject()) {
                    throw invalid(metadata, "metadata must be a mapping");
                }
                cases.add(new Case(function, dataset, List.copyOf(labels), c.get("input"), c.get("reference"),
                        metadata == null || metadata.isNull() ? null : metadata));
            }
            return cases;
        }

        /** {@code {file: cases.jsonl}}: one case per line, relative to the suite. */
        private List<JsonNode> caseFile(JsonNode ref) throws Invalid {
            Path f = file.toAbsolutePath().getParent().resolve(text(ref.get("file"), "file"));
            stamps.add(Stamp.of(f));
            if (!Files.isRegularFile(f)) {
                throw invalid(ref, "case file not found: " + ref.get("file").asText());
            }
            List<JsonNode> out = new ArrayList<>();
            try {
                List<String> lines = Files.readAllLines(f);
                for (int i = 0; i < lines.size(); i++) {
                    if (lines.get(i).isBlank()) {
                        continue;
                    }
                    try {
                        out.add(Json.MAPPER.readTree(lines.get(i)));
                    } catch (JsonProcessingException e) {
                        String shown = Path.of(name).resolveSibling(ref.get("file").asText()).toString();
                        throw new Invalid(new SuiteError(shown, i + 1, "cannot parse case: " + e.getOriginalMessage()));
                    }
                }
            } catch (IOException e) {
                throw invalid(ref, "cannot read case file: " + e.getMessage());
            }
            return out;
        }

        private List<String> labels(JsonNode node) throws Invalid {
            if (node == null || node.isNull()) {
                return List.of();
            }
            if (node.isTextual()) {
                return List.of(node.asText());
            }
            if (!node.isArray() || !allText(node)) {
                throw invalid(node, "labels must be a list of strings");
            }
            List<String> out = new ArrayList<>();
            node.forEach(l -> out.add(l.asText()));
            return out;
        }

        private String text(JsonNode node, String field) throws Invalid {
            if (node == null || !node.isTextual() || node.asText().isBlank()) {
                throw invalid(node, field + " must be a non-empty string");
            }
            return node.asText().strip();
        }

        private void unknownKeys(JsonNode node, Set<String> known, String what) throws Invalid {
            var it = node.fieldNames();
            while (it.hasNext()) {
                String k = it.next();
                if (!known.contains(k)) {
                    throw invalid(node.get(k), "unknown " + what + " key '" + k + "' (known: "
                            + String.join(", ", known.stream().sorted().toList()) + ")");
                }
            }
        }

        private Invalid invalid(JsonNode node, String message) {
            return new Invalid(new SuiteError(name, node == null ? 1 : tree.line(node, 1), message));
        }

        private static boolean allText(JsonNode array) {
            for (JsonNode n : array) {
                if (!n.isTextual()) {
                    return false;
                }
            }
            return true;
        }

        private static String stem(Path file) {
            String n = file.getFileName().toString();
            return n.substring(0, n.lastIndexOf('.'));
        }
    }
}
