package scorebook.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** The shared time format writes exactly what the pattern below writes, and reads it back by position. */
class IsoTimeTest {
    private static final DateTimeFormatter PATTERN = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    private static String reference(long ms) {
        return PATTERN.format(Instant.ofEpochMilli(ms));
    }

    @Test
    void writesWhatThePatternWritesAndReadsItBack() {
        long[] edges = {0, 1, 999, 1_000, 86_399_999, 86_400_000, 1_764_477_181_123L, -1, -86_400_001L,
                951_782_400_000L /* 2000-02-29 */, 253_402_300_799_999L, 253_402_300_800_000L};
        for (long ms : edges) {
            assertEquals(reference(ms), IsoTime.format(ms), "at " + ms);
            assertEquals(ms, IsoTime.epochMs(IsoTime.format(ms)), IsoTime.format(ms));
        }
        SplittableRandom r = new SplittableRandom(9);
        for (int i = 0; i < 20_000; i++) {
            long ms = r.nextLong(-30_000_000_000_000L, 253_402_300_799_999L);
            assertEquals(reference(ms), IsoTime.format(ms), "at " + ms);
            assertEquals(ms, IsoTime.epochMs(IsoTime.format(ms)), IsoTime.format(ms));
        }
    }

    @Test
    void readsOtherFormsWithTheGeneralParser() {
        assertEquals(1_000L, IsoTime.epochMs("1970-01-01T00:00:01Z"));
        assertEquals(1_500L, IsoTime.epochMs("1970-01-01T00:00:01.500000Z"));
        assertEquals(1_000L, IsoTime.epochMs("1970-01-01T00:00:01.000Z"));
    }
}
