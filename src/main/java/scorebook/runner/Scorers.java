package scorebook.runner;

import scorebook.evals.Score;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;

/** Makes a {@link Scorer} from a suite's scorer spec: the built-in ones here, command and judge in their own classes. */
final class Scorers {
    private Scorers() {
    }

    static Scorer of(Suite.ScorerSpec s, Suite suite, ModelCaller models) {
        String key = s.key();
        JsonNode spec = s.spec();
        return switch (s.type()) {
            case "equals" -> (c, o, run) -> {
                boolean ok = Text.same(o.output(), c.reference());
                return List.of(new Score(key, null, ok, ok ? null
                        : "expected " + Text.shorten(Text.of(c.reference()), 200) + ", got " + Text.shorten(Text.of(o.output()), 200)));
            };
            case "contains" -> {
                boolean ignoreCase = spec.path("ignore_case").asBoolean(false);
                String value = spec.get("value").asText();
                yield (c, o, run) -> {
                    String out = Text.of(o.output());
                    boolean ok = ignoreCase ? out.toLowerCase(Locale.ROOT).contains(value.toLowerCase(Locale.ROOT)) : out.contains(value);
                    return List.of(new Score(key, null, ok, ok ? null : "output does not contain " + Text.shorten(value, 200)));
                };
            }
            case "regex" -> {
                Pattern p = Pattern.compile(spec.get("pattern").asText());
                yield (c, o, run) -> {
                    boolean ok = p.matcher(Text.of(o.output())).find();
                    return List.of(new Score(key, null, ok, ok ? null : "output does not match /" + p.pattern() + "/"));
                };
            }
            case "json" -> json(key, spec);
            case "numeric" -> {
                double tolerance = spec.path("tolerance").asDouble(0);
                yield (c, o, run) -> {
                    Double got = Text.number(o.output());
                    Double want = Text.number(c.reference());
                    if (got == null || want == null) {
                        return List.of(new Score(key, null, false, got == null ? "output is not a number" : "reference is not a number"));
                    }
                    double diff = Math.abs(got - want);
                    boolean ok = diff <= tolerance;
                    return List.of(new Score(key, diff, ok, ok ? null : "off by " + diff + " (tolerance " + tolerance + ")"));
                };
            }
            case "latency" -> {
                double maxMs = spec.get("max_ms").asDouble();
                yield (c, o, run) -> {
                    double ms = o.latency() * 1000;
                    boolean ok = ms <= maxMs;
                    return List.of(new Score(key, Math.round(ms * 10) / 10.0, ok, ok ? null : "took " + Math.round(ms) + " ms > " + maxMs));
                };
            }
            case "command" -> new CommandScorer(key, spec, suite.dir());
            case "judge" -> new JudgeScorer(key, spec, models);
            default -> throw new IllegalArgumentException("unknown scorer " + s.type());
        };
    }

    /** The output is valid JSON; with {@code path}, the value there equals {@code equals}. */
    private static Scorer json(String key, JsonNode spec) {
        String path = spec.path("path").asText("");
        JsonNode expected = spec.get("equals");
        return (c, o, run) -> {
            JsonNode out = o.output();
            if (out != null && out.isTextual()) {
                try {
                    out = Json.MAPPER.readTree(out.asText());
                } catch (JsonProcessingException e) {
                    return List.of(new Score(key, null, false, "output is not valid JSON: " + e.getOriginalMessage()));
                }
            }
            if (out == null || out.isMissingNode()) {
                return List.of(new Score(key, null, false, "output is empty"));
            }
            if (path.isEmpty()) {
                return List.of(new Score(key, null, true, null));
            }
            JsonNode at = out.at(path.startsWith("/") ? path : "/" + path.replace('.', '/'));
            if (at.isMissingNode()) {
                return List.of(new Score(key, null, false, "no value at " + path));
            }
            boolean ok = expected == null || Text.same(at, expected);
            return List.of(new Score(key, null, ok, ok ? null : "at " + path + ": expected " + Text.of(expected) + ", got " + Text.of(at)));
        };
    }
}
