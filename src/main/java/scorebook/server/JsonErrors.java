package scorebook.server;

import java.util.Iterator;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * What is wrong with a body, in a user's words: Jackson's messages name its own switches
 * ({@code JsonReadFeature.ALLOW_...}, {@code getMaxNestingDepth()}), which mean nothing to a client.
 */
public final class JsonErrors {
    private static final Pattern UNEXPECTED = Pattern.compile("^Unexpected character \\('(.)' \\(code (\\d+)\\)\\)");
    private static final Pattern QUOTED = Pattern.compile("'([^']*)'");

    private JsonErrors() {
    }

    /** "the body is not valid JSON: unexpected character '}' at line 1 column 9", "... nested too deep", ... */
    static String describe(JsonProcessingException e) {
        return describe("the body", e);
    }

    /** As {@link #describe(JsonProcessingException)} for a part of a body ("line 3", "the row"). */
    public static String describe(String what, JsonProcessingException e) {
        String original = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
        if (e instanceof StreamConstraintsException) {
            return what + " is too large for its shape: " + limit(original);
        }
        String problem = e instanceof JsonEOFException || original.startsWith("Unexpected end-of-input")
                ? "it ends too early" : problem(original);
        JsonLocation at = e.getLocation();
        String where = at == null || at.getLineNr() < 0 ? "" : " at line " + at.getLineNr() + " column " + at.getColumnNr();
        return what + " is not valid JSON: " + problem + where;
    }

    private static String limit(String original) {
        if (original.contains("nesting depth")) {
            return "nested too deep (at most " + Json.MAPPER.getFactory().streamReadConstraints().getMaxNestingDepth()
                    + " levels of objects and lists)";
        }
        if (original.startsWith("Number value length") || original.contains("Number length")) {
            return "a number has too many digits";
        }
        if (original.startsWith("String value length")) {
            return "a string is too long";
        }
        if (original.startsWith("Name length")) {
            return "a field name is too long";
        }
        return "it exceeds a parser limit";
    }

    private static String problem(String original) {
        Matcher unexpected = UNEXPECTED.matcher(original);
        if (unexpected.find()) {
            int code = Integer.parseInt(unexpected.group(2));
            return "unexpected character " + (code < 32 || code == 127 ? "(code " + code + ")" : "'" + unexpected.group(1) + "'");
        }
        if (original.startsWith("Duplicate field")) {
            return "the field " + quoted(original) + " appears twice";
        }
        if (original.startsWith("Non-standard token")) {
            return "NaN and Infinity are not JSON numbers";
        }
        if (original.startsWith("Unrecognized token")) {
            return "unrecognized word " + quoted(original) + " (strings need double quotes)";
        }
        if (original.startsWith("Illegal unquoted character") || original.startsWith("Illegal character")) {
            return "a control character inside a string must be escaped";
        }
        if (original.contains("numeric value") || original.contains("Leading zeroes") || original.contains("leading")) {
            return "a number is not written as JSON writes numbers";
        }
        if (original.startsWith("Broken surrogate")) {
            return "a field name holds an unpaired surrogate escape";
        }
        if (original.startsWith("Unrecognized character escape")) {
            return "an unknown escape after a backslash in a string";
        }
        if (original.startsWith("Unexpected close marker")) {
            return "a closing bracket does not match its opening one";
        }
        return "unexpected input";
    }

    private static String quoted(String original) {
        Matcher m = QUOTED.matcher(original);
        return m.find() ? "'" + Clip.excerpt(m.group(1)) + "'" : "";
    }

    /** The path of the first text (value or field name) holding an unpaired surrogate, "" for the root, or null. */
    public static String unpairedSurrogate(JsonNode node, String path) {
        if (node.isTextual()) {
            return broken(node.textValue()) ? path : null;
        }
        if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                String found = unpairedSurrogate(node.get(i), path + "[" + i + "]");
                if (found != null) {
                    return found;
                }
            }
        } else if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (broken(f.getKey())) {
                    return (path.isEmpty() ? "" : path + ".") + escaped(f.getKey());
                }
                JsonNode value = f.getValue();
                // the path is built only for what is looked into or broken (this runs for every field of a row)
                if (value.isContainerNode() || value.isTextual() && broken(value.textValue())) {
                    String found = unpairedSurrogate(value, path.isEmpty() ? f.getKey() : path + "." + f.getKey());
                    if (found != null) {
                        return found;
                    }
                }
            }
        }
        return null;
    }

    /** The name with each surrogate written as a backslash-u escape, so the message itself is valid text. */
    private static String escaped(String s) {
        StringBuilder sb = new StringBuilder();
        s.chars().forEach(c -> sb.append(Character.isSurrogate((char) c) ? String.format("\\u%04x", c) : String.valueOf((char) c)));
        return sb.toString();
    }

    private static boolean broken(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 == s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
                    return true;
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return true;
            }
        }
        return false;
    }
}
