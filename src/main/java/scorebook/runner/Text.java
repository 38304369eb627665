package scorebook.runner;

import java.util.Iterator;

import com.fasterxml.jackson.databind.JsonNode;

/** How scorers see JSON values: as text, as numbers, and compared leniently. */
final class Text {
    private Text() {
    }

    /** A string as itself, anything else as its JSON text, null as "". */
    static String of(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return "";
        }
        return node.isTextual() ? node.asText() : node.toString();
    }

    /** A number node, or a string that holds only a number; else null. */
    static Double number(JsonNode node) {
        if (node == null) {
            return null;
        }
        if (node.isNumber()) {
            return node.asDouble();
        }
        if (node.isTextual()) {
            try {
                return Double.parseDouble(node.asText().strip());
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }

    /**
     * JSON equality where 4 and 4.0 are equal and a string equals a scalar with the same text
     * (a command prints "4", the suite's reference is the number 4).
     */
    static boolean same(JsonNode a, JsonNode b) {
        if (a == null || a.isNull() || a.isMissingNode()) {
            return b == null || b.isNull() || b.isMissingNode();
        }
        if (b == null || b.isNull() || b.isMissingNode()) {
            return false;
        }
        if (a.isNumber() && b.isNumber()) {
            return a.decimalValue().compareTo(b.decimalValue()) == 0;
        }
        if (a.isTextual() != b.isTextual() && (a.isValueNode() && b.isValueNode())) {
            Double na = number(a);
            Double nb = number(b);
            if (na != null && nb != null) {
                return na.equals(nb);
            }
            return of(a).strip().equals(of(b).strip());
        }
        if (a.isTextual()) {
            return a.asText().strip().equals(b.asText().strip());
        }
        if (a.isArray() && b.isArray()) {
            if (a.size() != b.size()) {
                return false;
            }
            for (int i = 0; i < a.size(); i++) {
                if (!same(a.get(i), b.get(i))) {
                    return false;
                }
            }
            return true;
        }
        if (a.isObject() && b.isObject()) {
            if (a.size() != b.size()) {
                return false;
            }
            for (Iterator<String> it = a.fieldNames(); it.hasNext();) {
                String k = it.next();
                if (!b.has(k) || !same(a.get(k), b.get(k))) {
                    return false;
                }
            }
            return true;
        }
        return a.equals(b);
    }

    static String shorten(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max) + "…";
    }
}
