package scorebook.usage;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;
import scorebook.server.ServerConfig;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Answers read from rollup cells that SQLite adds up per cell time and group (histograms concatenated, devices and
 * models as JSON arrays) give the exact counts and near-exact percentiles of the rows, whatever dimension is
 * grouped on: one at the front of the rollups' key (source_kind), in the middle (device, so cells of one device
 * come in several rows per hour), at its end (ok), two of them, and none.
 */
class UsageGroupedReadsTest {
    private static final Instant NOW = Instant.parse("2026-06-15T12:00:00Z");
    private static final long HOUR = 3_600_000L;
    private static final String[] MODELS = {"m-a", "m-b", "m-c"};
    private static final String[] DEVICES = {"d-1", "d-2"};
    private static final String[] TAGS = {"t-x", "t-y"};
    private static final int N = 1_200;

    @AutoClose
    static final TestServer server = TestServer.start(ServerConfig.local(TestServer.tempDir(), TestServer.OWNER_TOKEN)
            .withClock(Clock.fixed(NOW, ZoneOffset.UTC)));
    static Tenant tenant;
    static final List<Map<String, Object>> ROWS = new ArrayList<>();
    /** Ten hours ending three days ago: hour and day cells only (no minute cells). */
    static final long FROM = NOW.toEpochMilli() - 3 * 24 * HOUR - 10 * HOUR;
    static final long TO = FROM + 10 * HOUR;

    @BeforeAll
    static void importRows() {
        tenant = Tenant.create(server);
        Random r = new Random(5);
        for (int i = 0; i < N; i++) {
            Map<String, Object> row = new HashMap<>();
            row.put("ts", (FROM + (long) i * (TO - FROM) / N) / 1000.0);
            row.put("event_id", "g" + i);
            row.put("source_kind", i % 7 == 0 ? "job" : "gateway");
            row.put("model", MODELS[r.nextInt(MODELS.length)]);
            row.put("device", DEVICES[r.nextInt(DEVICES.length)]);
            row.put("tag", TAGS[r.nextInt(TAGS.length)]);
            row.put("prompt_tokens", 10 + r.nextInt(50));
            row.put("completion_tokens", 20 + r.nextInt(90));
            double latency = Math.round(Math.exp(6 + r.nextGaussian()) * 10) / 10.0;
            row.put("latency_ms", latency);
            row.put("ttft_ms", Math.min(latency, 5.0 + r.nextInt(100)));
            row.put("ok", r.nextInt(10) != 0);
            row.put("extra", Map.of("watts", 40.0 + r.nextInt(30)));
            ROWS.add(row);
        }
        StringBuilder b = new StringBuilder("[");
        for (Map<String, Object> row : ROWS) {
            b.append(b.length() == 1 ? "" : ",").append(Json.text(row));
        }
        JsonNode answer = tenant.user().post("/usage/import", b.append(']').toString()).json();
        assertEquals(N, answer.path("imported").asInt(), answer.toString());
    }

    private static double[] values(List<Map<String, Object>> rows, String field) {
        return rows.stream().mapToDouble(row -> ((Number) row.get(field)).doubleValue()).toArray();
    }

    private static void assertNear(double exact, JsonNode got, String what) {
        assertTrue(Math.abs(got.asDouble() - exact) / exact <= 0.0075 + 1e-9,
                what + ": " + got + " vs exact " + exact);
    }

    /** One breakdown row against the rows it stands for. */
    private static void assertRow(JsonNode row, List<Map<String, Object>> rows, String what) {
        assertEquals(rows.size(), row.path("requests").asLong(), what);
        assertEquals(rows.stream().filter(x -> !(Boolean) x.get("ok")).count(), row.path("errors").asLong(), what);
        long tokens = rows.stream().mapToLong(x -> (Integer) x.get("prompt_tokens") + (Integer) x.get("completion_tokens")).sum();
        assertEquals(tokens, row.path("total_tokens").asLong(), what);
        double[] lat = values(rows, "latency_ms");
        assertNear(UsageApiTest.exact(lat, 50), row.path("latency_p50_ms"), what + " latency p50");
        assertNear(UsageApiTest.exact(lat, 95), row.path("latency_p95_ms"), what + " latency p95");
        assertNear(UsageApiTest.exact(lat, 99), row.path("latency_p99_ms"), what + " latency p99");
        assertNear(UsageApiTest.exact(values(rows, "ttft_ms"), 95), row.path("ttft_p95_ms"), what + " ttft p95");
        assertEquals(java.util.Arrays.stream(lat).average().orElseThrow(), row.path("latency_avg_ms").asDouble(), 1e-3, what);
        Set<Object> devices = new HashSet<>();
        Set<Object> models = new HashSet<>();
        rows.forEach(x -> {
            devices.add(x.get("device"));
            models.add(x.get("model"));
        });
        assertEquals(devices.size(), row.path("devices_active").asInt(), what);
        assertEquals(models.size(), row.path("models").asInt(), what);
        JsonNode watts = row.path("extra").path("watts");
        double[] w = values(rows.stream().map(x -> Map.<String, Object>of("w", ((Map<?, ?>) x.get("extra")).get("watts")))
                .toList(), "w");
        assertEquals(w.length, watts.path("n").asLong(), what);
        assertEquals(java.util.Arrays.stream(w).min().orElseThrow(), watts.path("min").asDouble(), what);
        assertEquals(java.util.Arrays.stream(w).max().orElseThrow(), watts.path("max").asDouble(), what);
    }

    @Test
    void breakdownsByEveryPlaceInTheRollupKeyMatchTheRows() {
        String range = "from=" + FROM + "&to=" + TO;
        Map<String, Function<Map<String, Object>, String>> groupings = Map.of(
                "source_kind", x -> (String) x.get("source_kind"),
                "device", x -> (String) x.get("device"),
                "ok", x -> String.valueOf(x.get("ok")),
                "tag,model", x -> x.get("tag") + "|" + x.get("model"));
        groupings.forEach((groupBy, keyOf) -> {
            JsonNode rows = tenant.user().get("/usage?view=breakdown&group_by=" + groupBy + "&" + range).json().path("rows");
            Map<String, List<Map<String, Object>>> expected = new HashMap<>();
            ROWS.forEach(x -> expected.computeIfAbsent(keyOf.apply(x), k -> new ArrayList<>()).add(x));
            assertEquals(expected.size(), rows.size(), groupBy + ": " + rows);
            for (JsonNode row : rows) {
                List<String> parts = new ArrayList<>();
                for (String g : groupBy.split(",")) {
                    parts.add(row.path("key").path(g).asText());
                }
                String key = String.join("|", parts);
                assertTrue(expected.containsKey(key), groupBy + " key " + key);
                assertRow(row, expected.get(key), groupBy + "=" + key);
            }
        });
        JsonNode all = tenant.user().get("/usage?view=breakdown&" + range).json().path("rows");
        assertEquals(1, all.size());
        assertRow(all.get(0), ROWS, "no group");
    }

    @Test
    void anHourlySeriesByDeviceMatchesTheRowsOfEachHour() {
        JsonNode series = tenant.user().get("/usage?bucket=1h&group_by=device&from=" + FROM + "&to=" + TO).json()
                .path("series");
        assertEquals(DEVICES.length, series.size());
        for (JsonNode s : series) {
            String device = s.path("key").path("device").asText();
            assertEquals(10, s.path("points").size());
            for (JsonNode p : s.path("points")) {
                long t = Instant.parse(p.path("t").asText()).toEpochMilli();
                List<Map<String, Object>> rows = ROWS.stream().filter(x -> x.get("device").equals(device)
                        && Math.round((Double) x.get("ts") * 1000) >= t && Math.round((Double) x.get("ts") * 1000) < t + HOUR).toList();
                assertEquals(rows.size(), p.path("requests").asLong(), device + " at " + p.path("t").asText());
                assertNear(UsageApiTest.exact(values(rows, "latency_ms"), 50), p.path("latency_p50_ms"),
                        device + " p50 at " + p.path("t").asText());
                assertNear(UsageApiTest.exact(values(rows, "ttft_ms"), 95), p.path("ttft_p95_ms"),
                        device + " ttft p95 at " + p.path("t").asText());
                double[] watts = rows.stream().mapToDouble(x -> ((Number) ((Map<?, ?>) x.get("extra")).get("watts"))
                        .doubleValue()).toArray();
                JsonNode w = p.path("extra").path("watts");
                assertEquals(watts.length, w.path("n").asLong(), p.toString());
                assertEquals(java.util.Arrays.stream(watts).min().orElseThrow(), w.path("min").asDouble(), p.toString());
                assertEquals(java.util.Arrays.stream(watts).max().orElseThrow(), w.path("max").asDouble(), p.toString());
                assertEquals(java.util.Arrays.stream(watts).average().orElseThrow(), w.path("avg").asDouble(), 1e-3);
            }
        }
    }

    @Test
    void concatenatedHistogramsReadAsTheirMerge() {
        Random r = new Random(9);
        Histogram merged = new Histogram();
        Histogram direct = new Histogram();
        java.io.ByteArrayOutputStream concatenated = new java.io.ByteArrayOutputStream();
        for (int part = 0; part < 30; part++) {
            Histogram h = new Histogram();
            // each part reaches further down and up than the last: the counts grow on both sides
            for (int i = 0; i < 50; i++) {
                double v = (r.nextBoolean() ? 1 : -1) * Math.exp(part * 0.3 * r.nextGaussian()) * (i % 9 == 0 ? 0 : 1);
                h.add(v);
                direct.add(v);
            }
            concatenated.writeBytes(h.encode());
        }
        merged.mergeEncodedAll(concatenated.toByteArray());
        assertEquals(direct.total(), merged.total());
        for (double p : new double[] {0, 1, 5, 25, 50, 75, 95, 99, 100}) {
            assertEquals(direct.percentile(p), merged.percentile(p), "p" + p);
        }
        assertEquals(java.util.Arrays.toString(direct.encode()), java.util.Arrays.toString(merged.encode()));
    }
}
