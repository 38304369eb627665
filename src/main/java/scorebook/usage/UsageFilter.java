package scorebook.usage;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

import scorebook.server.ApiException;

/**
 * Which usage rows a question is about: the time range {@code [fromMs, toMs)} and the filters. Parsed from query
 * parameters (optionally prefixed, for /usage/compare's {@code a_}/{@code b_} sides).
 *
 * @param fromMs inclusive start, epoch ms
 * @param toMs   exclusive end, epoch ms
 * @param dims   dimension filters: model, device, tag, tenant, dataset, source_kind → allowed values
 * @param ok     only successful (true) or failed (false) calls, or null for both
 * @param jobIds only rows of these jobs (answered from raw rows), empty for any
 */
public record UsageFilter(long fromMs, long toMs, Map<String, List<String>> dims, Boolean ok, List<String> jobIds) {
    /** Dimensions that filter and group (ok groups too). */
    public static final List<String> DIMENSIONS = List.of("model", "device", "tag", "tenant", "dataset", "source_kind");
    static final Duration DEFAULT_WINDOW = Duration.ofHours(24);
    static final long MIN_MS = Instant.parse("2000-01-01T00:00:00Z").toEpochMilli();
    private static final long MAX_MS = Instant.parse("9999-01-01T00:00:00Z").toEpochMilli();

    /** Warm-up calls are left out unless the source_kind filter names them. */
    public boolean excludesWarmup() {
        List<String> kinds = dims.get("source_kind");
        return kinds == null || !kinds.contains("warmup");
    }

    /** The filters as given, for echoing in answers (time as ISO-8601). */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("from", UsageStore.iso(fromMs));
        m.put("to", UsageStore.iso(toMs));
        dims.forEach(m::put);
        if (ok != null) {
            m.put("ok", ok);
        }
        if (!jobIds.isEmpty()) {
            m.put("job_id", jobIds);
        }
        return m;
    }

    /**
     * Reads the time range and filters. {@code param} gives all values of a parameter (empty when absent);
     * {@code prefix} ("a_", "b_" or "") is tried before the plain name.
     */
    public static UsageFilter parse(Function<String, List<String>> param, String prefix, Clock clock) {
        Function<String, List<String>> p = name -> {
            List<String> v = prefix.isEmpty() ? List.of() : param.apply(prefix + name);
            return v.isEmpty() ? param.apply(name) : v;
        };
        long now = clock.millis();
        long from;
        long to;
        String fromText = first(p, "from");
        String toText = first(p, "to");
        if (fromText != null || toText != null) {
            to = toText == null ? now : instant(prefix + "to", toText);
            from = fromText == null ? to - DEFAULT_WINDOW.toMillis() : instant(prefix + "from", fromText);
        } else if (first(p, "since_s") != null) {
            from = instant(prefix + "since_s", first(p, "since_s"));
            to = now;
        } else if (first(p, "minutes") != null) {
            long minutes = positive(prefix + "minutes", first(p, "minutes"), 60L * 24 * 366 * 20);
            to = now;
            from = now - minutes * 60_000L;
        } else {
            to = now;
            from = now - DEFAULT_WINDOW.toMillis();
        }
        String align = first(p, "align");
        if (align != null) {
            // the start moved back to a whole unit (UTC) by the server's clock: a dashboard's "last 7 days" then
            // starts on an hour, whose cells answer it, instead of a partial hour read row by row
            Long unit = UsageBuckets.SIZES.get(align);
            if (unit == null) {
                throw ApiException.invalid("'" + prefix + "align' must be 1m, 5m, 15m, 1h, 6h or 1d, not '" + align + "'");
            }
            from = Math.floorDiv(from, unit) * unit;
        }
        if (from >= to) {
            throw ApiException.invalid("'" + prefix + "from' must be before '" + prefix + "to'");
        }
        Map<String, List<String>> dims = new LinkedHashMap<>();
        for (String d : DIMENSIONS) {
            List<String> values = list(p.apply(d));
            if (!values.isEmpty()) {
                dims.put(d, values);
            }
        }
        String okText = first(p, "ok");
        Boolean ok = okText == null ? null : bool(prefix + "ok", okText);
        return new UsageFilter(from, to, dims, ok, list(p.apply("job_id")));
    }

    private static String first(Function<String, List<String>> p, String name) {
        List<String> v = p.apply(name);
        return v.isEmpty() || v.getFirst().isBlank() ? null : v.getFirst().strip();
    }

    /** Repeated parameters and comma lists, blanks dropped. */
    static List<String> list(List<String> raw) {
        List<String> out = new ArrayList<>();
        for (String r : raw) {
            for (String part : r.split(",")) {
                if (!part.isBlank()) {
                    out.add(part.strip());
                }
            }
        }
        return out;
    }

    static boolean bool(String name, String text) {
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "true", "1", "yes" -> true;
            case "false", "0", "no" -> false;
            default -> throw ApiException.invalid("'" + name + "' must be true or false, not '" + text + "'");
        };
    }

    /** A whole number from 1 to {@code max}, or 422 naming the parameter. */
    public static long positiveOrInvalid(String name, String text, long max) {
        return positive(name, text, max);
    }

    static long positive(String name, String text, long max) {
        try {
            long v = Long.parseLong(text);
            if (v >= 1 && v <= max) {
                return v;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw ApiException.invalid("'" + name + "' must be a whole number from 1 to " + max + ", not '" + text + "'");
    }

    /** ISO-8601 (with zone or offset; a date alone is its UTC midnight) or epoch seconds/ms by magnitude. */
    public static long instant(String name, String text) {
        Long ms = parseInstant(text);
        if (ms == null) {
            throw ApiException.invalid("'" + name + "' must be ISO-8601 or epoch seconds/ms, not '" + text + "'");
        }
        return ms;
    }

    /** The instant in epoch ms, or null when {@code text} is none of the accepted forms or out of range. */
    static Long parseInstant(String text) {
        String t = text.strip();
        Long ms = null;
        try {
            ms = epochMs(Double.parseDouble(t));
        } catch (NumberFormatException e) {
            try {
                ms = OffsetDateTime.parse(t).toInstant().toEpochMilli();
            } catch (DateTimeParseException e2) {
                try {
                    ms = Instant.parse(t + (t.length() == 19 ? "Z" : "")).toEpochMilli();
                } catch (DateTimeParseException e3) {
                    try {
                        ms = LocalDate.parse(t).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
                    } catch (DateTimeParseException e4) {
                        return null;
                    }
                }
            }
        }
        return ms == null || ms < MIN_MS || ms > MAX_MS ? null : ms;
    }

    /** Epoch seconds (below 1e11) or milliseconds, as ms; null when not finite. */
    static Long epochMs(double v) {
        if (!Double.isFinite(v) || Math.abs(v) > 1e15) {
            return null;
        }
        return Math.abs(v) < 1e11 ? Math.round(v * 1000) : Math.round(v);
    }
}
