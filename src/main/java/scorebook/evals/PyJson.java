package scorebook.evals;

import java.math.BigDecimal;
import java.util.Iterator;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Text the way the original (Python) tool prints values in its CSV and Markdown exports: JSON with
 * {@code ", "} and {@code ": "} separators and non-ASCII escaped ({@code json.dumps}), and floats as
 * {@code repr} does ({@code 1.0}, {@code 9.8e-05}).
 */
final class PyJson {
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private PyJson() {
    }

    /** A JSON value as Python's {@code json.dumps} prints it (a missing node is null). */
    static String dumps(JsonNode node) {
        StringBuilder b = new StringBuilder();
        append(b, node);
        return b.toString();
    }

    private static void append(StringBuilder b, JsonNode node) {
        switch (node.getNodeType()) {
            case OBJECT -> {
                b.append('{');
                boolean first = true;
                for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    if (!first) {
                        b.append(", ");
                    }
                    first = false;
                    string(b, e.getKey());
                    b.append(": ");
                    append(b, e.getValue());
                }
                b.append('}');
            }
            case ARRAY -> {
                b.append('[');
                for (int i = 0; i < node.size(); i++) {
                    if (i > 0) {
                        b.append(", ");
                    }
                    append(b, node.get(i));
                }
                b.append(']');
            }
            case STRING -> string(b, node.textValue());
            case NUMBER -> b.append(node.isFloatingPointNumber() ? repr(node.doubleValue()) : node.asText());
            case BOOLEAN -> b.append(node.booleanValue() ? "true" : "false");
            default -> b.append("null");
        }
    }

    /** A JSON string with {@code ensure_ascii}: quotes, backslashes, control and non-ASCII characters escaped. */
    private static void string(StringBuilder b, String s) {
        b.append('"');
        int first = firstToEscape(s);
        if (first == s.length()) {
            b.append(s).append('"');  // the common case, copied in bulk
            return;
        }
        b.append(s, 0, first);
        for (int i = first; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
                b.append(c);
                continue;
            }
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> b.append("\\u").append(HEX[c >> 12 & 15]).append(HEX[c >> 8 & 15]).append(HEX[c >> 4 & 15])
                        .append(HEX[c & 15]);
            }
        }
        b.append('"');
    }

    private static int firstToEscape(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
                return i;
            }
        }
        return s.length();
    }

    /** Python's {@code repr(float)}: shortest digits, exponent form below 1e-4 or from 1e16. */
    static String repr(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        BigDecimal bd = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
        String digits = bd.unscaledValue().toString();
        int exponent = digits.length() - 1 - bd.scale();
        String sign = d < 0 ? "-" : "";
        if (exponent < -4 || exponent >= 16) {
            String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            int e = Math.abs(exponent);
            return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + (e < 10 ? "0" + e : String.valueOf(e));
        }
        String plain = bd.toPlainString();
        return sign + (plain.contains(".") ? plain : plain + ".0");
    }
}
