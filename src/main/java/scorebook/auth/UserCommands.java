package scorebook.auth;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import scorebook.server.ApiException;
import scorebook.server.Names;
import scorebook.server.Options;
import scorebook.store.Database;

/**
 * {@code scorebook user ...} and {@code scorebook key ...}: the same user and key management as the
 * API, straight on the data directory (safe while a server runs on it).
 */
public final class UserCommands {
    private static final String USER_USAGE = """
            usage: scorebook user add NAME       a user and their token (printed once)
                   scorebook user list
                   scorebook user delete NAME
              all take [--data DIR] (default ./data)
            """;
    private static final String KEY_USAGE = """
            usage: scorebook key add [--user NAME] [--name N]   an API key for the gateway (printed once)
                   scorebook key list [--user NAME]
                   scorebook key revoke ID [--user NAME]
              --user defaults to owner; all take [--data DIR] (default ./data)
            """;

    private UserCommands() {
    }

    /** The usage of {@code user} or {@code key} (the verb is accepted for symmetry; one text covers all verbs). */
    public static String usage(String noun, String verb) {
        return noun.equals("user") ? USER_USAGE : KEY_USAGE;
    }

    /** Runs the command and returns the exit code. */
    public static int run(String noun, List<String> args) {
        Options o = Options.parse(args, Set.of("data", "user", "name"));
        List<String> words = o.positionals();
        if (words.isEmpty()) {
            throw new IllegalArgumentException(noun + " needs a verb: " + (noun.equals("user") ? "add, list, delete" : "add, list, revoke"));
        }
        try (Database db = Owner.open(Path.of(o.get("data", "data")))) {
            AuthStore store = new AuthStore(db);
            String verb = words.getFirst();
            return noun.equals("user") ? user(store, verb, words) : key(store, verb, words, o);
        } catch (ApiException e) {
            System.err.println("scorebook: " + e.getMessage());
            return 1;
        }
    }

    private static int user(AuthStore store, String verb, List<String> words) {
        switch (verb) {
            case "add" -> {
                AuthStore.NewUser u = store.addUser(Names.check("name", argument(words, "user add NAME")));
                System.out.println("user " + u.user().name() + " (id " + u.user().id() + ") created; token:");
                System.out.println(u.token());
            }
            case "list" -> store.users().forEach(u ->
                    System.out.printf("%d\t%s\t%s\t%s%n", u.id(), u.name(), u.isOwner() ? "owner" : "user", u.createdAt()));
            case "delete" -> {
                String name = argument(words, "user delete NAME");
                store.deleteUser(store.userByName(name).orElseThrow(() -> ApiException.notFound("no user named " + name)).id());
                System.out.println("user " + name + " deleted");
            }
            default -> throw new IllegalArgumentException("unknown verb 'user " + verb + "' (add, list, delete)");
        }
        return 0;
    }

    private static int key(AuthStore store, String verb, List<String> words, Options o) {
        String userName = o.get("user", "owner");
        AuthStore.User user = store.userByName(userName).orElseThrow(() -> ApiException.notFound("no user named " + userName));
        switch (verb) {
            case "add" -> {
                AuthStore.NewKey k = store.addKey(user.id(), Names.check("name", o.get("name", "key")));
                System.out.println("API key " + k.key().name() + " (id " + k.key().id() + ") for " + user.name() + ":");
                System.out.println(k.secret());
            }
            case "list" -> store.keys(user.id()).forEach(k -> System.out.printf("%d\t%s\t%s…\t%s\t%s%n",
                    k.id(), k.name(), k.prefix(), k.createdAt(), k.revokedAt() == null ? "active" : "revoked " + k.revokedAt()));
            case "revoke" -> {
                String id = argument(words, "key revoke ID");
                try {
                    store.revokeKey(user.id(), Long.parseLong(id));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("key revoke takes a numeric id, not '" + id + "'");
                }
                System.out.println("API key " + id + " revoked");
            }
            default -> throw new IllegalArgumentException("unknown verb 'key " + verb + "' (add, list, revoke)");
        }
        return 0;
    }

    private static String argument(List<String> words, String usage) {
        if (words.size() != 2) {
            throw new IllegalArgumentException("usage: scorebook " + usage);
        }
        return words.get(1);
    }
}
