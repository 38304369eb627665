package scorebook.usage;

import java.util.Comparator;
import java.util.List;
import java.util.Map;

import scorebook.server.ApiException;

/** The buckets of a time series (usage and dataset metrics alike): their lengths, and what {@code auto} picks. */
public final class UsageBuckets {
    /** Each bucket's length in ms. */
    public static final Map<String, Long> SIZES = Map.of("1m", 60_000L, "5m", 300_000L, "15m", 900_000L,
            "1h", 3_600_000L, "6h", 21_600_000L, "1d", 86_400_000L);
    /** The buckets from the shortest. */
    private static final List<String> ORDER = SIZES.keySet().stream().sorted(Comparator.comparing(SIZES::get)).toList();
    private static final int AUTO_MAX = 200;

    private UsageBuckets() {
    }

    /** The bucket asked for; auto (or none) picks the smallest giving at most 200 buckets over the window. */
    public static String pick(String asked, long windowMs) {
        if (asked == null || asked.equals("auto")) {
            for (String b : ORDER) {
                if (Math.ceil(windowMs / (double) SIZES.get(b)) <= AUTO_MAX) {
                    return b;
                }
            }
            return "1d";
        }
        if (!SIZES.containsKey(asked)) {
            throw ApiException.invalid("'bucket' must be one of auto, 1m, 5m, 15m, 1h, 6h, 1d, not '" + asked + "'");
        }
        return asked;
    }
}
