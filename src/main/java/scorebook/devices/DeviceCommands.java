package scorebook.devices;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import scorebook.auth.AuthStore;
import scorebook.auth.Owner;
import scorebook.server.ApiException;
import scorebook.server.Options;
import scorebook.store.Database;

/**
 * {@code scorebook device ...}: the devices API on the data directory (safe while a server runs on
 * it; a running server picks changes up with {@code POST /devices/reload} or at its next start).
 * <pre>
 * scorebook device add --serial S --kind ollama|openai|agent [--url U] [--model M]... [--weight W] [--concurrency C] [--name N]
 *                      [--tag QUEUE_TAG]...   (an agent's device token is printed once)
 * scorebook device list
 * scorebook device remove SERIAL
 *   all take [--user NAME] (default owner) and [--data DIR]
 * </pre>
 */
public final class DeviceCommands {
    private static final String ADD_USAGE = """
            usage: scorebook device add --serial S --kind ollama|openai|agent [--url U] [--model M]... [--weight W]
                                        [--concurrency C] [--name N] [--api-key K] [--tag T]... [--user NAME] [--data DIR]
              --serial S       the device's id (letters, digits, - _ .); adding it again updates it
              --kind K         ollama (Ollama's API), openai (any OpenAI-compatible server) or agent (pulls jobs)
              --url U          the model server's base URL (ollama, openai)
              --model M        a model it serves (repeat for more; none: the models its health check lists)
              --weight W       share of calls when several devices serve a model (default 1)
              --concurrency C  calls at once (default 1)
              --api-key K      sent upstream as Authorization: Bearer K (vLLM --api-key, hosted endpoints); never shown again
              --tag T          a job queue it takes jobs from (repeat for more; default: default)
            """;
    private static final String USAGE = """
            usage: scorebook device add --serial S --kind ollama|openai|agent [--url U] [--model M]... [options]
                   scorebook device list
                   scorebook device remove SERIAL
              all take [--user NAME] (default owner) and [--data DIR] (default ./data); device add --help for its options
            """;

    private DeviceCommands() {
    }

    /** The usage of {@code device} or of one of its verbs. */
    public static String usage(String verb) {
        return verb.equals("add") ? ADD_USAGE : USAGE;
    }

    /** Runs the command and returns the exit code. */
    public static int run(List<String> args) {
        List<String> models = new ArrayList<>();
        List<String> tags = new ArrayList<>();
        List<String> rest = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if ((a.equals("--model") || a.equals("--tag")) && i + 1 < args.size()) {
                (a.equals("--model") ? models : tags).add(args.get(++i));
            } else if (a.startsWith("--model=")) {
                models.add(a.substring("--model=".length()));
            } else if (a.startsWith("--tag=")) {
                tags.add(a.substring("--tag=".length()));
            } else {
                rest.add(a);
            }
        }
        Options o = Options.parse(rest, Set.of("data", "user", "serial", "kind", "url", "weight", "concurrency", "name",
                "api-key"));
        List<String> words = o.positionals();
        if (words.isEmpty()) {
            throw new IllegalArgumentException("device needs a verb: add, list, remove");
        }
        try (Database db = Owner.open(Path.of(o.get("data", "data")))) {
            String userName = o.get("user", "owner");
            AuthStore.User user = new AuthStore(db).userByName(userName)
                    .orElseThrow(() -> ApiException.notFound("no user named " + userName));
            DeviceStore store = new DeviceStore(db);
            switch (words.getFirst()) {
                case "add" -> {
                    if (!o.has("serial") || !o.has("kind")) {
                        throw new IllegalArgumentException(ADD_USAGE);
                    }
                    DeviceStore.Registration r = DeviceService.registration(o.get("serial", null), o.get("kind", null),
                            o.get("name", null), o.get("url", null), models, o.has("weight") ? o.integer("weight", 1, 1, 1000) : null,
                            o.has("concurrency") ? o.integer("concurrency", 1, 1, 1024) : null, o.get("api-key", null),
                            tags);
                    DeviceStore.Saved saved = store.register(user.id(), r);
                    System.out.println("device " + saved.device().serial() + (saved.created() ? " added" : " updated")
                            + " for " + user.name());
                    if (!saved.device().push()) {
                        System.out.println("device token (shown once; registering again rotates it):");
                        System.out.println(store.rotateToken(saved.device().id()));
                    }
                }
                case "list" -> store.list(user.id()).forEach(d -> System.out.printf("%s\t%s\t%s\t%s\tweight %d\tconcurrency %d\ttags %s%s%n",
                        d.serial(), d.kind(), d.baseUrl() == null ? "-" : d.baseUrl(),
                        d.models().isEmpty() ? "(models from health check)" : String.join(",", d.models()), d.weight(),
                        d.maxConcurrency(), String.join(",", d.queueTags()), d.hasApiKey() ? "\tapi key set" : ""));
                case "remove" -> {
                    if (words.size() != 2) {
                        throw new IllegalArgumentException("usage: scorebook device remove SERIAL");
                    }
                    store.remove(user.id(), words.get(1));
                    System.out.println("device " + words.get(1) + " removed");
                }
                default -> throw new IllegalArgumentException("unknown verb 'device " + words.getFirst() + "' (add, list, remove)");
            }
            return 0;
        } catch (ApiException e) {
            System.err.println("scorebook: " + e.getMessage());
            return 1;
        }
    }
}
