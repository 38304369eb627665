package scorebook.usage;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;
import scorebook.server.ServerConfig;
import scorebook.testing.Client;
import scorebook.testing.Tenant;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The usage endpoints over a real server whose clock stands still at NOW: summary, series, breakdown, raw, compare. */
class UsageApiTest {
    static final Instant NOW = Instant.parse("2026-06-15T12:00:00Z");
    private static final long HOUR = 3_600_000L;

    @AutoClose
    static final TestServer server = TestServer.start(ServerConfig.local(TestServer.tempDir(), TestServer.OWNER_TOKEN)
            .withClock(Clock.fixed(NOW, ZoneOffset.UTC)));

    /** n rows spread over the last {@code hours} hours; latencies 100..(100+n) ms in a shuffled order. */
    static String rows(int n, int hours, String model, long seed) {
        Random r = new Random(seed);
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < n; i++) {
            long ts = NOW.toEpochMilli() - 1 - (long) (r.nextDouble() * hours * HOUR);
            if (i > 0) {
                b.append(',');
            }
            b.append(Json.text(Json.fields("ts", ts / 1000.0, "event_id", model + "-" + seed + "-" + i, "model", model,
                    "device", "dev" + (i % 3), "tag", "t", "prompt_tokens", 10, "completion_tokens", 20,
                    "latency_ms", 100.0 + (i * 7919 % n), "ttft_ms", 10.0 + i % 50, "ok", i % 10 != 0,
                    "extra", Json.fields("GPU power (W)", 40.0 + i % 11))));
        }
        return b.append(']').toString();
    }

    static double exact(double[] values, double p) {
        double[] s = values.clone();
        Arrays.sort(s);
        int rank = (int) Math.ceil(p / 100 * s.length);
        return s[Math.max(0, rank - 1)];
    }

    @Test
    void summaryPercentilesAreWithinOnePercentOfExactNearestRank() {
        Tenant t = Tenant.create(server);
        int n = 2_000;
        Client.Response imp = t.user().post("/usage/import", rows(n, 20, "m1", 1));
        assertEquals(200, imp.status(), imp.text());
        assertEquals(n, imp.json().path("imported").asInt());
        JsonNode s = t.user().get("/usage/summary").json();
        assertEquals(n, s.path("requests").asInt());
        assertEquals(n / 10, s.path("errors").asInt());
        assertEquals(n - n / 10, s.path("ok").asInt());
        assertEquals(0.1, s.path("error_rate").asDouble(), 1e-9);
        assertEquals(n * 30L, s.path("total_tokens").asLong());
        double[] lat = new double[n];
        double[] ttft = new double[n];
        for (int i = 0; i < n; i++) {
            lat[i] = 100.0 + (i * 7919 % n);
            ttft[i] = 10.0 + i % 50;
        }
        for (int p : new int[] {50, 90, 95, 99}) {
            double want = exact(lat, p);
            double got = s.path("latency_ms").path("p" + p).asDouble();
            assertTrue(Math.abs(got - want) / want <= 0.01, "latency p" + p + ": " + got + " vs exact " + want);
        }
        for (int p : new int[] {50, 95, 99}) {
            double want = exact(ttft, p);
            double got = s.path("ttft_ms").path("p" + p).asDouble();
            assertTrue(Math.abs(got - want) / want <= 0.01, "ttft p" + p + ": " + got + " vs exact " + want);
        }
        assertEquals(Arrays.stream(lat).average().orElseThrow(), s.path("latency_ms").path("avg").asDouble(), 0.01);
        assertEquals(3, s.path("devices_active").asInt());
        assertEquals(1, s.path("models").asInt());
        JsonNode gpu = s.path("extra").path("GPU power (W)");
        assertEquals(n, gpu.path("n").asInt());
        assertEquals(40.0, gpu.path("min").asDouble());
        assertEquals(50.0, gpu.path("max").asDouble());
        // a range that is not minute-aligned reads raw rows at the edges: still every row once
        long from = NOW.toEpochMilli() - 20 * HOUR - 12_345;
        assertEquals(n, t.user().get("/usage/summary?from=" + from + "&to=" + NOW).json().path("requests").asInt());
    }

    @Test
    void seriesHasEveryBucketWithZerosAndGroupsByModel() {
        Tenant t = Tenant.create(server);
        t.user().post("/usage/import", rows(300, 3, "a", 2));
        t.user().post("/usage/import", rows(100, 3, "b", 3));
        JsonNode s = t.user().get("/usage?bucket=1h&group_by=model&minutes=360").json();
        assertEquals("1h", s.path("bucket").asText());
        assertEquals(2, s.path("series").size());
        JsonNode a = s.path("series").get(0);
        assertEquals("a", a.path("key").path("model").asText());
        assertEquals(6, a.path("points").size());
        int sum = 0;
        for (JsonNode p : a.path("points")) {
            sum += p.path("requests").asInt();
        }
        assertEquals(300, sum);
        JsonNode first = a.path("points").get(0);
        assertEquals("2026-06-15T06:00:00.000Z", first.path("t").asText());
        assertEquals(0, first.path("requests").asInt());
        assertEquals(0, first.path("errors").asInt());
        assertTrue(first.path("latency_p50_ms").isNull());
        assertTrue(first.has("ttft_p95_ms") && first.path("ttft_p95_ms").isNull(), first.toString());
        JsonNode busy = first;
        for (JsonNode p : a.path("points")) {
            busy = p.path("requests").asInt() > busy.path("requests").asInt() ? p : busy;
        }
        assertTrue(busy.path("requests").asInt() > 0 && busy.path("ttft_p50_ms").isNumber(), busy.toString());
        assertTrue(busy.path("ttft_p95_ms").asDouble() >= busy.path("ttft_p50_ms").asDouble(), busy.toString());
        // no group: one series; filters narrow it
        // a call without latency and TTFT counts in requests, not in their n (§3.8: every aggregate carries n)
        t.user().post("/usage/import", "[{\"ts\": " + (NOW.getEpochSecond() - 600) + ", \"model\": \"b\"}]");
        JsonNode one = t.user().get("/usage?bucket=15m&minutes=60&model=b").json();
        assertEquals(1, one.path("series").size());
        assertEquals(4, one.path("series").get(0).path("points").size());
        int[] sums = new int[4];
        for (JsonNode p : one.path("series").get(0).path("points")) {
            sums[0] += p.path("requests").asInt();
            sums[1] += p.path("latency_n").asInt();
            sums[2] += p.path("ttft_n").asInt();
            sums[3] += p.path("tok_s_n").asInt();
        }
        assertTrue(sums[0] > 1, one.toString());
        assertEquals(sums[0] - 1, sums[1], "latency_n");
        assertEquals(sums[0] - 1, sums[2], "ttft_n");
        assertEquals(sums[0] - 1, sums[3], "tok_s_n");
        JsonNode b = t.user().get("/usage?view=breakdown&group_by=model&minutes=360&model=b").json().path("rows").get(0);
        assertEquals(101, b.path("requests").asInt(), b.toString());
        assertEquals(100, b.path("latency_n").asInt());
        assertEquals(100, b.path("ttft_n").asInt());
        assertEquals(100, b.path("tok_s_n").asInt());
        // align moves the start back to a whole unit, by the server's clock; the rows of the hour before NOW are all in
        JsonNode aligned = t.user().get("/usage?bucket=1h&minutes=90&align=1h").json();
        assertEquals("2026-06-15T10:00:00.000Z", aligned.path("from").asText(), aligned.toString());
        assertEquals(2, aligned.path("series").get(0).path("points").size());
        assertEquals(t.user().get("/usage/summary?from=2026-06-15T10:00:00Z&to=" + NOW.toEpochMilli()).json().path("requests"),
                t.user().get("/usage/summary?minutes=90&align=1h").json().path("requests"));
        Client.Response badAlign = t.user().get("/usage?minutes=90&align=7m");
        assertEquals(422, badAlign.status());
        assertTrue(badAlign.text().contains("'align'"), badAlign.text());
        // two keys at most, known keys only
        assertEquals(422, t.user().get("/usage?group_by=model,device,tag").status());
        assertEquals(422, t.user().get("/usage?group_by=colour").status());
        assertEquals(422, t.user().get("/usage?bucket=7m").status());
        assertEquals(422, t.user().get("/usage?from=yesterday").status());
        assertEquals(422, t.user().get("/usage?view=pie").status());
    }

    @Test
    void breakdownRawAndWarmupExclusion() {
        Tenant t = Tenant.create(server);
        t.user().post("/usage/import", rows(50, 2, "a", 4));
        t.user().post("/usage/import?source_kind=warmup", rows(5, 2, "w", 5));
        JsonNode b = t.user().get("/usage?view=breakdown&group_by=device").json();
        assertEquals(3, b.path("rows").size());
        int sum = 0;
        for (JsonNode r : b.path("rows")) {
            sum += r.path("requests").asInt();
            assertTrue(r.path("key").has("device"));
        }
        assertEquals(50, sum);
        assertEquals(55, t.user().get("/usage/summary?source_kind=import,warmup").json().path("requests").asInt());
        assertEquals(5, t.user().get("/usage/summary?source_kind=warmup").json().path("requests").asInt());
        // raw pages newest first, cursor to the end
        List<String> seen = new ArrayList<>();
        String cursor = null;
        long last = Long.MAX_VALUE;
        do {
            JsonNode page = t.user().get("/usage?view=raw&limit=20" + (cursor == null ? "" : "&cursor=" + cursor)).json();
            for (JsonNode e : page.path("events")) {
                seen.add(e.path("event_id").asText());
                assertTrue(e.path("ts_ms").asLong() <= last);
                last = e.path("ts_ms").asLong();
            }
            cursor = page.path("next_cursor").isNull() ? null : page.path("next_cursor").asText();
        } while (cursor != null);
        assertEquals(50, seen.size());
        assertEquals(50, seen.stream().distinct().count());
        assertEquals(422, t.user().get("/usage?view=raw&cursor=zzz").status());
        assertEquals(422, t.user().get("/usage?view=raw&limit=5000").status());
    }

    @Test
    void compareTwoModelsWithDeltasAndLowSampleWarnings() {
        Tenant t = Tenant.create(server);
        StringBuilder rows = new StringBuilder("[");
        for (int i = 0; i < 40; i++) {
            rows.append(i == 0 ? "" : ",").append(Json.text(Json.fields("ts", NOW.getEpochSecond() - 60 - i,
                    "model", i < 30 ? "fast" : "slow", "device", "d" + i % 2, "latency_ms", i < 30 ? 100.0 : 200.0,
                    "completion_tokens", 10, "tok_s", i < 30 ? 50.0 : 25.0)));
        }
        t.user().post("/usage/import", rows.append(']').toString());
        JsonNode c = t.user().get("/usage/compare?a_model=fast&b_model=slow&group_by=device").json();
        assertEquals(30, c.path("a").path("summary").path("requests").asInt());
        assertEquals(10, c.path("b").path("summary").path("requests").asInt());
        JsonNode p50 = c.path("delta").path("latency_ms.p50");
        assertEquals(100.0, p50.path("abs").asDouble(), 1.5);
        assertEquals(100.0, p50.path("pct").asDouble(), 1.5);
        assertEquals("a", p50.path("better").asText());
        assertEquals("a", c.path("delta").path("tok_s.avg").path("better").asText());
        // every KPI of the summary with a direction is compared (schema/022)
        for (String lower : new String[] {"latency_ms.p90", "latency_ms.p99", "latency_ms.max"}) {
            assertEquals("a", c.path("delta").path(lower).path("better").asText(), lower + ": " + c.path("delta"));
        }
        assertEquals("a", c.path("delta").path("tok_s.p05").path("better").asText());
        assertEquals(-20.0, c.path("delta").path("requests").path("abs").asDouble());
        assertTrue(c.path("delta").path("requests").path("better").isNull(), "no direction for a count");
        assertTrue(c.path("warnings").isEmpty(), c.path("warnings").toString());
        assertEquals(2, c.path("rows").size());
        assertTrue(c.path("rows").get(0).path("warnings").toString().contains("low_sample:b"));
        JsonNode few = t.user().get("/usage/compare?a_model=fast&b_model=none").json();
        assertTrue(few.path("warnings").toString().contains("low_sample:b"));
        assertTrue(few.path("delta").path("latency_ms.p50").path("pct").isNull());
        // unprefixed parameters apply to both sides
        JsonNode both = t.user().get("/usage/compare?device=d0&a_model=fast&b_model=slow").json();
        assertEquals(15, both.path("a").path("summary").path("requests").asInt());
        assertEquals(5, both.path("b").path("summary").path("requests").asInt());
    }

    @Test
    void usersSeeOnlyTheirOwnUsage() {
        Tenant a = Tenant.create(server);
        Tenant b = Tenant.create(server);
        a.user().post("/usage/import", rows(20, 2, "x", 6));
        assertEquals(20, a.user().get("/usage/summary").json().path("requests").asInt());
        assertEquals(0, b.user().get("/usage/summary").json().path("requests").asInt());
        assertEquals(0, b.user().get("/usage?view=raw").json().path("events").size());
        assertFalse(b.user().get("/usage/export.csv").text().contains("x-6-"));
        assertEquals(401, server.client(null).get("/usage/summary").status());
        assertNull(null);
    }
}
