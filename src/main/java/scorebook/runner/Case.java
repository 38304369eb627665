package scorebook.runner;

import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.server.Json;

/**
 * One case of a suite, which becomes one result row.
 *
 * @param function  the case name, else {@code <file stem>[<i>]}
 * @param dataset   the suite's dataset
 * @param labels    the suite's labels and the case's
 * @param input     any JSON
 * @param reference any JSON, or null
 * @param metadata  a JSON object, or null
 */
public record Case(String function, String dataset, List<String> labels, JsonNode input, JsonNode reference,
                   JsonNode metadata) {

    /** The JSON object a command or HTTP target receives. */
    public ObjectNode toJson() {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("function", function);
        o.put("dataset", dataset);
        o.set("labels", Json.MAPPER.valueToTree(labels));
        o.set("input", input);
        o.set("reference", reference);
        o.set("metadata", metadata);
        return o;
    }
}
