package scorebook.server;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Command-line words: {@code --name value} options (checked against the command's list) and positionals. */
public final class Options {
    private final Map<String, String> values = new HashMap<>();
    private final List<String> positionals = new ArrayList<>();

    private Options() {
    }

    /** Parses {@code args}; an option not in {@code allowed}, or one without its value, is an error. */
    public static Options parse(List<String> args, Set<String> allowed) {
        Options o = new Options();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (!a.startsWith("--")) {
                o.positionals.add(a);
                continue;
            }
            String name = a.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (!allowed.contains(name)) {
                throw new IllegalArgumentException("unknown option --" + name + " (known: --" + String.join(", --", allowed.stream().sorted().toList()) + ")");
            }
            if (value == null) {
                if (i + 1 >= args.size()) {
                    throw new IllegalArgumentException("option --" + name + " needs a value");
                }
                value = args.get(++i);
            }
            o.values.put(name, value);
        }
        return o;
    }

    /** Whether the words ask for the command's usage ({@code --help} or {@code -h} anywhere). */
    public static boolean wantsHelp(List<String> args) {
        return args.contains("--help") || args.contains("-h");
    }

    public String get(String name, String fallback) {
        return values.getOrDefault(name, fallback);
    }

    public boolean has(String name) {
        return values.containsKey(name);
    }

    public int integer(String name, int fallback, int min, int max) {
        if (!values.containsKey(name)) {
            return fallback;
        }
        try {
            int v = Integer.parseInt(values.get(name));
            if (v < min || v > max) {
                throw new IllegalArgumentException("--" + name + " must be between " + min + " and " + max);
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be a whole number, not '" + values.get(name) + "'");
        }
    }

    public List<String> positionals() {
        return positionals;
    }
}
