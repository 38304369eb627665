package scorebook.server;

import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Error messages quote what the client sent (a field name, a value, a path) so the user sees what was wrong;
 * these keep such quotes short, so a 1 MiB field never comes back in an answer, and never twice.
 */
public final class Clip {
    /** Longest quoted excerpt, in characters. */
    public static final int MAX_EXCERPT = 100;
    /** Longest message, in characters. */
    public static final int MAX_MESSAGE = 500;
    private static final Pattern QUOTED = Pattern.compile("'([^']{" + (MAX_EXCERPT + 1) + ",})'");

    private Clip() {
    }

    /** {@code value} itself when short, else its first {@value #MAX_EXCERPT} characters and how long it was. */
    public static String excerpt(String value) {
        if (value.length() <= MAX_EXCERPT) {
            return value;
        }
        int end = MAX_EXCERPT;
        if (Character.isHighSurrogate(value.charAt(end - 1))) {
            end--;
        }
        return value.substring(0, end) + "… (" + value.length() + " characters)";
    }

    /** A message with every long quote cut to an excerpt (a repeated one named once), at most {@value #MAX_MESSAGE} characters. */
    public static String message(String message) {
        if (message == null || message.length() <= MAX_EXCERPT) {
            return message;
        }
        Set<String> seen = new HashSet<>();
        Matcher m = QUOTED.matcher(message);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String quoted = m.group(1);
            String replacement = seen.add(quoted) ? "'" + excerpt(quoted) + "'" : "(the same value)";
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.length() <= MAX_MESSAGE ? out.toString() : excerptOf(out.toString());
    }

    private static String excerptOf(String s) {
        int end = MAX_MESSAGE;
        if (Character.isHighSurrogate(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(0, end) + "…";
    }
}
