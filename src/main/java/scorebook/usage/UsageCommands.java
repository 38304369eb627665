package scorebook.usage;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import scorebook.auth.AuthStore;
import scorebook.server.ApiException;
import scorebook.server.Json;
import scorebook.server.Options;
import scorebook.store.Database;

/**
 * {@code scorebook usage ...}: usage from scripts, on the data directory (safe while a server runs on it).
 * <pre>
 * scorebook usage summary [--minutes N | --from T --to T | --since-s S] [--model M] [--device D] [--tag T] ...
 * scorebook usage export [--out FILE] [same range and filters]          CSV to stdout or FILE
 * scorebook usage import FILE [--strict] [--dry-run] [--source-kind K]  JSON array, NDJSON or our CSV
 *   all take [--user NAME] (default owner) and [--data DIR]
 * </pre>
 */
public final class UsageCommands {
    public static final String USAGE = """
            usage: scorebook usage summary [--minutes N | --from T --to T | --since-s S] [filters]
                   scorebook usage export [--out FILE] [--minutes N | --from T --to T] [filters]
                   scorebook usage import FILE [--strict] [--dry-run] [--source-kind K]
              filters: --model M --device D --tag T --tenant T --dataset D --source-kind K --ok true|false --job-id J
                       (comma lists allowed); all take [--user NAME] (default owner) and [--data DIR]
            """;
    private static final Set<String> OPTIONS = Set.of("data", "user", "minutes", "from", "to", "since-s", "model",
            "device", "tag", "tenant", "dataset", "source-kind", "ok", "job-id", "out", "strict", "dry-run", "help");

    private UsageCommands() {
    }

    /** Runs the command and returns the exit code. */
    public static int run(List<String> args) throws IOException {
        List<String> rest = new ArrayList<>();
        boolean strict = false;
        boolean dryRun = false;
        for (String a : args) {
            switch (a) {
                case "--help", "-h", "help" -> {
                    System.out.print(USAGE);
                    return 0;
                }
                case "--strict" -> strict = true;
                case "--dry-run" -> dryRun = true;
                default -> rest.add(a);
            }
        }
        Options o = Options.parse(rest, OPTIONS);
        List<String> words = o.positionals();
        if (words.isEmpty()) {
            throw new IllegalArgumentException("usage needs a verb: summary, export, import\n" + USAGE);
        }
        Clock clock = Clock.systemUTC();
        try (Database db = Database.open(Path.of(o.get("data", "data")))) {
            String userName = o.get("user", "owner");
            long userId = new AuthStore(db).userByName(userName)
                    .orElseThrow(() -> ApiException.notFound("no user named " + userName)).id();
            UsageQueries queries = new UsageQueries(db);
            switch (words.getFirst()) {
                case "summary" -> {
                    UsageFilter f = filter(o, clock);
                    Map<String, Object> out = new LinkedHashMap<>();
                    out.put("from", UsageStore.iso(f.fromMs()));
                    out.put("to", UsageStore.iso(f.toMs()));
                    out.putAll(UsageAnswers.summary(queries.total(userId, f, true), f.toMs() - f.fromMs()));
                    System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(out));
                }
                case "export" -> {
                    UsageFilter f = filter(o, clock);
                    List<String> labels = new ArrayList<>(queries.total(userId, f, false).extra.keySet());
                    try (OutputStream out = o.has("out") ? Files.newOutputStream(Path.of(o.get("out", null)))
                            : new BufferedOutputStream(System.out)) {
                        long n = UsageCsv.export(db, userId, f, labels, out);
                        if (o.has("out")) {
                            System.err.println(n + " rows written to " + o.get("out", null));
                        }
                    }
                }
                case "import" -> {
                    if (words.size() != 2) {
                        throw new IllegalArgumentException("usage: scorebook usage import FILE [--strict] [--dry-run]");
                    }
                    byte[] body = Files.readAllBytes(Path.of(words.get(1)));
                    Json.requireUtf8(body);
                    String name = words.get(1).toLowerCase();
                    String type = name.endsWith(".csv") ? "text/csv" : name.endsWith(".jsonl") || name.endsWith(".ndjson")
                            ? "application/x-ndjson" : "";
                    UsageStore store = new UsageStore(db);
                    UsageImport.Result r = UsageImport.run(store, userId, body, type, Integer.MAX_VALUE,
                            o.get("source-kind", "import"), clock.millis(), strict, dryRun);
                    System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(Json.fields(
                            "received", r.received(), "imported", r.imported(), "duplicates", r.duplicates(),
                            "failed", r.failed(), "dry_run", dryRun, "errors", r.errors())));
                    return strict && r.failed() > 0 ? 1 : 0;
                }
                default -> throw new IllegalArgumentException("unknown verb 'usage " + words.getFirst() + "'\n" + USAGE);
            }
            return 0;
        } catch (ApiException e) {
            System.err.println("scorebook: " + e.getMessage());
            return 1;
        }
    }

    private static UsageFilter filter(Options o, Clock clock) {
        return UsageFilter.parse(name -> {
            String option = name.replace('_', '-');
            return o.has(option) ? List.of(o.get(option, "")) : List.of();
        }, "", clock);
    }
}
