package scorebook.usage;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.server.Json;

/**
 * Turns one imported row (Evalyard's usage row: JSON, an NDJSON line or a CSV record of our export) into a
 * {@link UsageStore.Row}, or says which field is wrong. The rules of §3.12: ts required (epoch s/ms or
 * ISO-8601, from 2000 to now + 1 h), token counts whole numbers ≥ 0, latency and TTFT ≥ 0 with TTFT ≤ latency,
 * ok as bool, 0/1 or "true"/"false", names strings of at most 128 characters, prompt_preview cut to 512,
 * extra values finite numbers; tok_s derived from completion tokens and latency when missing. Numbers may be
 * given as numeric strings ("900" is 900), so CSV cells and JSON read alike.
 */
public final class UsageRows {
    static final int MAX_NAME = 128;
    static final int MAX_PREVIEW = 512;
    static final int MAX_MESSAGE = 2_000;
    private static final long FUTURE_SLACK_MS = 3_600_000L;

    private UsageRows() {
    }

    /** A field that does not fit: which one and why. */
    public static final class Bad extends Exception {
        private final String field;

        public Bad(String field, String message) {
            super(message, null, false, false);
            this.field = field;
        }

        public String field() {
            return field;
        }
    }

    /**
     * The usage row {@code o} describes, for {@code userId}; {@code defaultSource} when it names none. {@code nowMs}
     * bounds ts (at most an hour ahead).
     */
    public static UsageStore.Row parse(long userId, ObjectNode o, String defaultSource, long nowMs) throws Bad {
        return parse(userId, o::get, o, defaultSource, nowMs);
    }

    /**
     * As {@link #parse(long, ObjectNode, String, long)} with the row's fields given by {@code o} (a value or null), so
     * that a reader that made no tree (the import's byte reader) is held to the same rules; {@code dotted} holds the
     * row's {@code extra.LABEL} members (CSV columns), or is null when it has none.
     */
    static UsageStore.Row parse(long userId, Function<String, JsonNode> o, ObjectNode dotted, String defaultSource,
                                long nowMs) throws Bad {
        JsonNode tsNode = o.apply("ts");
        if (absent(tsNode)) {
            tsNode = o.apply("ts_iso");
        }
        if (absent(tsNode)) {
            throw new Bad("ts", "is required (epoch seconds/ms or ISO-8601)");
        }
        long ts = time("ts", tsNode, nowMs);
        String eventId = text(o, "event_id", MAX_NAME);
        if (eventId == null) {
            eventId = text(o, "insert_id", MAX_NAME);
        }
        String source = text(o, "source_kind", MAX_NAME);
        Integer pt = tokens(o, "prompt_tokens");
        Integer ct = tokens(o, "completion_tokens");
        Double latency = nonNegative(o, "latency_ms");
        Double ttft = nonNegative(o, "ttft_ms");
        if (latency != null && ttft != null && ttft > latency) {
            throw new Bad("ttft_ms", "must not be larger than latency_ms");
        }
        Double tokS = finite(o, "tok_s");
        if (tokS == null && ct != null && latency != null && latency > 0) {
            tokS = ct / (latency / 1000.0);
        }
        String errorType = text(o, "error_type", MAX_NAME);
        Boolean ok = bool(o, "ok");
        String preview = clip(text(o, "prompt_preview", Integer.MAX_VALUE), MAX_PREVIEW);
        String message = clip(text(o, "error_message", Integer.MAX_VALUE), MAX_MESSAGE);
        UsageStore.Hardware hw = new UsageStore.Hardware(finite(o, "prefill_tok_s"), finite(o, "decode_tok_s"),
                nonNegative(o, "load_ms"), finite(o, "battery_start_pct"), finite(o, "battery_end_pct"),
                finite(o, "temp_max_c"), finite(o, "thermal_status_max"));
        boolean anyHw = hw.prefillTokS() != null || hw.decodeTokS() != null || hw.loadMs() != null
                || hw.batteryStartPct() != null || hw.batteryEndPct() != null || hw.tempMaxC() != null
                || hw.thermalStatusMax() != null;
        return new UsageStore.Row(userId, null, ts, source == null ? defaultSource : source, eventId,
                text(o, "device", MAX_NAME), text(o, "model", MAX_NAME), text(o, "tag", MAX_NAME), pt, ct, latency, ttft,
                tokS, ok == null ? errorType == null : ok, errorType, message, text(o, "job_id", MAX_NAME), preview,
                extra(o, dotted), text(o, "tenant", MAX_NAME), text(o, "dataset", MAX_NAME), anyHw ? hw : null);
    }

    /** The extra object (JSON) plus any {@code extra.LABEL} members (CSV), as JSON text; null when none. */
    private static String extra(Function<String, JsonNode> o, ObjectNode dotted) throws Bad {
        Map<String, Double> out = new LinkedHashMap<>();
        JsonNode e = o.apply("extra");
        if (!absent(e) && !(e.isTextual() && e.asText().isEmpty())) {
            if (!e.isObject()) {
                throw new Bad("extra", "must be an object {label: number}");
            }
            for (Map.Entry<String, JsonNode> m : e.properties()) {
                Double v = number("extra." + m.getKey(), m.getValue());
                if (v != null) {
                    out.put(m.getKey(), v);
                }
            }
        }
        for (Map.Entry<String, JsonNode> m : dotted == null ? Set.<Map.Entry<String, JsonNode>>of() : dotted.properties()) {
            if (m.getKey().startsWith("extra.") && m.getKey().length() > 6) {
                Double v = number(m.getKey(), m.getValue());
                if (v != null) {
                    out.put(m.getKey().substring(6), v);
                }
            }
        }
        return out.isEmpty() ? null : Json.text(out);
    }

    public static boolean absent(JsonNode n) {
        return n == null || n.isNull() || n.isMissingNode() || (n.isTextual() && n.asText().isBlank());
    }

    /** An instant: epoch s/ms (number or numeric text) or ISO-8601, from 2000 to now + 1 h. */
    public static long time(String field, JsonNode n, long nowMs) throws Bad {
        Long ms = n.isNumber() ? UsageFilter.epochMs(n.asDouble()) : n.isTextual() ? UsageFilter.parseInstant(n.asText()) : null;
        if (ms == null || ms < UsageFilter.MIN_MS) {
            throw new Bad(field, "must be epoch seconds/ms or ISO-8601 (from 2000-01-01)");
        }
        if (ms > nowMs + FUTURE_SLACK_MS) {
            throw new Bad(field, "is more than an hour in the future");
        }
        return ms;
    }

    /** A finite number (or numeric text), null when absent. */
    public static Double number(String field, JsonNode n) throws Bad {
        if (absent(n)) {
            return null;
        }
        double v;
        if (n.isNumber()) {
            v = n.asDouble();
        } else if (n.isTextual()) {
            try {
                v = Double.parseDouble(n.asText().strip());
            } catch (NumberFormatException e) {
                throw new Bad(field, "must be a number, not '" + clip(n.asText(), 40) + "'");
            }
        } else {
            throw new Bad(field, "must be a number");
        }
        if (!Double.isFinite(v)) {
            throw new Bad(field, "must be a finite number");
        }
        return v;
    }

    private static Double finite(Function<String, JsonNode> o, String field) throws Bad {
        return number(field, o.apply(field));
    }

    public static Double nonNegative(String field, JsonNode n) throws Bad {
        Double v = number(field, n);
        if (v != null && v < 0) {
            throw new Bad(field, "must not be negative");
        }
        return v;
    }

    private static Double nonNegative(Function<String, JsonNode> o, String field) throws Bad {
        return nonNegative(field, o.apply(field));
    }

    /** A token count: a whole number from 0 to 2^31-1. */
    public static Integer tokens(String field, JsonNode n) throws Bad {
        Double v = nonNegative(field, n);
        if (v == null) {
            return null;
        }
        if (v != Math.rint(v) || v > Integer.MAX_VALUE) {
            throw new Bad(field, "must be a whole number from 0 to " + Integer.MAX_VALUE);
        }
        return v.intValue();
    }

    private static Integer tokens(Function<String, JsonNode> o, String field) throws Bad {
        return tokens(field, o.apply(field));
    }

    private static Boolean bool(Function<String, JsonNode> o, String field) throws Bad {
        JsonNode n = o.apply(field);
        if (absent(n)) {
            return null;
        }
        if (n.isBoolean()) {
            return n.asBoolean();
        }
        if (n.isNumber() && (n.asDouble() == 0 || n.asDouble() == 1)) {
            return n.asDouble() == 1;
        }
        if (n.isTextual()) {
            switch (n.asText().strip().toLowerCase(java.util.Locale.ROOT)) {
                case "true", "1" -> {
                    return true;
                }
                case "false", "0" -> {
                    return false;
                }
                default -> {
                    // below
                }
            }
        }
        throw new Bad(field, "must be true/false, 0/1 or \"true\"/\"false\"");
    }

    /** A text field of at most {@code max} characters (numbers are not text), null when absent. */
    static String text(Function<String, JsonNode> o, String field, int max) throws Bad {
        JsonNode n = o.apply(field);
        if (absent(n)) {
            return null;
        }
        if (!n.isTextual()) {
            throw new Bad(field, "must be a string");
        }
        String s = n.asText();
        if (s.length() > max) {
            throw new Bad(field, "must be at most " + max + " characters");
        }
        return s;
    }

    private static String clip(String s, int max) {
        return s == null || s.length() <= max ? s : s.substring(0, max);
    }
}
