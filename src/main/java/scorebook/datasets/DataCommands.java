package scorebook.datasets;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import scorebook.auth.AuthStore;
import scorebook.server.ApiException;
import scorebook.server.Json;
import scorebook.server.Options;
import scorebook.store.Database;
import scorebook.usage.UsageQueries;
import scorebook.usage.UsageReports;

/**
 * {@code scorebook data ...}: datasets from scripts, on the data directory (safe while a server runs on it).
 * <pre>
 * scorebook data append DATASET FILE     FILE: NDJSON rows, a JSON array, or {"rows": [...]}
 * scorebook data list
 *   both take [--user NAME] (default owner) and [--data DIR]
 * </pre>
 */
public final class DataCommands {
    public static final String USAGE = """
            usage: scorebook data append DATASET FILE   (FILE: NDJSON rows, a JSON array, or {"rows": [...]})
                   scorebook data list
              both take [--user NAME] (default owner) and [--data DIR]
            """;

    private DataCommands() {
    }

    /** Runs the command and returns the exit code. */
    public static int run(List<String> args) throws IOException {
        if (args.isEmpty() || args.contains("--help") || args.contains("-h") || args.getFirst().equals("help")) {
            System.out.print(USAGE);
            return args.isEmpty() ? 2 : 0;
        }
        Options o = Options.parse(args, Set.of("data", "user"));
        List<String> words = o.positionals();
        try (Database db = Database.open(Path.of(o.get("data", "data")))) {
            String userName = o.get("user", "owner");
            long userId = new AuthStore(db).userByName(userName)
                    .orElseThrow(() -> ApiException.notFound("no user named " + userName)).id();
            DatasetStore store = new DatasetStore(db);
            switch (words.getFirst()) {
                case "append" -> {
                    if (words.size() != 3) {
                        throw new IllegalArgumentException(USAGE);
                    }
                    Clock clock = Clock.systemUTC();
                    Datasets datasets = new Datasets(store, new UsageReports(new UsageQueries(db), clock), clock);
                    Datasets.Appended a = datasets.append(userId, words.get(1), rows(Path.of(words.get(2))), true);
                    System.out.println(Json.text(Json.fields("ok", true, "dataset", words.get(1), "appended", a.appended(),
                            "usage_recorded", a.usageRecorded(), "skipped", a.skipped())));
                }
                case "list" -> store.list(userId).forEach(d -> System.out.printf("%s\t%d rows\t%s\t%s\tadapter %s%n",
                        d.name(), d.rows(), d.firstTs() == null ? "-" : d.firstTs(), d.lastTs() == null ? "-" : d.lastTs(),
                        d.adapter() == null ? "none" : Adapter.fromJson(d.adapter()).enabled() ? "enabled" : "disabled"));
                default -> throw new IllegalArgumentException("unknown verb 'data " + words.getFirst() + "'\n" + USAGE);
            }
            return 0;
        } catch (ApiException e) {
            System.err.println("scorebook: " + e.getMessage());
            return 1;
        }
    }

    private static List<JsonNode> rows(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        List<JsonNode> rows = new ArrayList<>();
        try {
            JsonNode whole = Json.MAPPER.readTree(text);
            JsonNode list = whole.isObject() && whole.has("rows") ? whole.get("rows") : whole;
            if (list.isArray()) {
                list.forEach(rows::add);
                return rows;
            }
        } catch (JsonProcessingException e) {
            // NDJSON below
        }
        String[] lines = text.split("\n");
        for (int i = 0; i < lines.length; i++) {
            if (!lines[i].isBlank()) {
                try {
                    rows.add(Json.MAPPER.readTree(lines[i]));
                } catch (JsonProcessingException e) {
                    throw new IllegalArgumentException(file + " line " + (i + 1) + ": malformed JSON: " + e.getOriginalMessage());
                }
            }
        }
        return rows;
    }
}
