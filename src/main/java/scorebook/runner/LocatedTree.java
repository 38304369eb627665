package scorebook.runner;

import java.io.IOException;
import java.util.IdentityHashMap;
import java.util.Map;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A JSON tree read from YAML or JSON that remembers the line every node started on, so that a
 * mistake found after parsing (an unknown scorer, a missing file) can still name its line.
 */
final class LocatedTree {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final JsonNode root;
    private final Map<JsonNode, Integer> lines;

    private LocatedTree(JsonNode root, Map<JsonNode, Integer> lines) {
        this.root = root;
        this.lines = lines;
    }

    static LocatedTree read(JsonParser parser) throws IOException {
        Map<JsonNode, Integer> lines = new IdentityHashMap<>();
        JsonToken first = parser.nextToken();
        JsonNode root = first == null ? NODES.nullNode() : value(parser, lines);
        return new LocatedTree(root, lines);
    }

    JsonNode root() {
        return root;
    }

    /** The line {@code node} started on, or the nearest known line. */
    int line(JsonNode node, int fallback) {
        return lines.getOrDefault(node, fallback);
    }

    private static JsonNode value(JsonParser p, Map<JsonNode, Integer> lines) throws IOException {
        int line = p.currentTokenLocation().getLineNr();
        JsonNode node = switch (p.currentToken()) {
            case START_OBJECT -> {
                ObjectNode o = NODES.objectNode();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    p.nextToken();
                    o.set(name, value(p, lines));
                }
                yield o;
            }
            case START_ARRAY -> {
                ArrayNode a = NODES.arrayNode();
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    a.add(value(p, lines));
                }
                yield a;
            }
            case VALUE_STRING -> NODES.textNode(p.getText());
            case VALUE_NUMBER_INT -> switch (p.getNumberType()) {
                case INT -> NODES.numberNode(p.getIntValue());
                case LONG -> NODES.numberNode(p.getLongValue());
                default -> NODES.numberNode(p.getBigIntegerValue());
            };
            case VALUE_NUMBER_FLOAT -> NODES.numberNode(p.getDoubleValue());
            case VALUE_TRUE -> NODES.booleanNode(true);
            case VALUE_FALSE -> NODES.booleanNode(false);
            case VALUE_NULL -> NODES.nullNode();
            default -> NODES.textNode(p.getText());
        };
        lines.put(node, line);
        return node;
    }
}
