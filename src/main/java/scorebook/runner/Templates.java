package scorebook.runner;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Fills {@code {{input}}}, {@code {{reference}}}, {@code {{output}}} and {@code {{metadata.KEY}}} in a prompt. */
final class Templates {
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{\\s*([a-z_]+(?:\\.[A-Za-z0-9_\\-]+)?)\\s*}}");

    private Templates() {
    }

    static String fill(String template, Case c, com.fasterxml.jackson.databind.JsonNode output) {
        Matcher m = PLACEHOLDER.matcher(template);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String name = m.group(1);
            String value;
            if (name.equals("input")) {
                value = Text.of(c.input());
            } else if (name.equals("reference")) {
                value = Text.of(c.reference());
            } else if (name.equals("output")) {
                value = Text.of(output);
            } else if (name.startsWith("metadata.")) {
                value = c.metadata() == null ? "" : Text.of(c.metadata().get(name.substring("metadata.".length())));
            } else {
                value = m.group();
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(value));
        }
        m.appendTail(sb);
        return sb.toString();
    }
}
