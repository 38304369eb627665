package scorebook.jobs;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.testing.Client;
import scorebook.testing.Tenant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static scorebook.jobs.JobsFixture.agent;
import static scorebook.jobs.JobsFixture.claimOne;
import static scorebook.jobs.JobsFixture.enqueue;

/** A job naming a dataset (adapter_id) appends its metrics row there, under the adapter's field names, counted once. */
class JobToDatasetTest {
    @AutoClose
    static final JobsFixture F = new JobsFixture();

    private static final String ADAPTER = """
            {"dataset": "phones", "enabled": true, "x_field": "when", "device_field": "phone", "model_field": "llm",
             "latency_ms_field": "lat", "prompt_tokens_field": "p_tok",
             "extra_fields": [{"label": "battery_end_pct", "field": "battery", "kind": "number"}]}""";

    @Test
    void aFinishedJobsMetricsRowReachesItsDatasetUnderTheAdaptersNamesWithoutASecondUsageRow() {
        Tenant t = F.tenant();
        assertEquals(422, t.user().post("/api/jobs", "{\"prompt\":\"x\",\"model\":\"m\",\"adapter_id\":\"phones\"}").status(),
                "an adapter_id naming no dataset of the user is refused");
        assertEquals(200, t.user().post("/user/data/save_adapter", ADAPTER).status());
        Client.Response first = t.user().post("/user/data/append_jsonl",
                "{\"dataset\":\"phones\",\"rows\":[{\"when\":\"2026-11-30T00:00:00Z\",\"phone\":\"p0\",\"llm\":\"m\",\"lat\":99}]}");
        assertEquals(1, first.json().path("usage_recorded").asInt(), first.text());

        String id = enqueue(t, "{\"prompt\":\"x\",\"model\":\"m\",\"adapter_id\":\"phones\"}").path("job_id").asText();
        Client a = agent(t, "pixel", "[\"m\"]", null);
        JsonNode c = claimOne(a, "{}");
        Client.Response done = a.post("/worker/jobs/" + id + "/complete", "{\"lease_id\":\"" + c.path("lease_id").asText()
                + "\",\"output\":{\"text\":\"4\"},\"metrics\":{\"prompt_tokens\":7,\"latency_ms\":321.5,"
                + "\"extra\":{\"battery_end_pct\":81}}}");
        assertEquals(200, done.status(), done.text());

        JsonNode rows = t.user().get("/user/data/get?dataset=phones&order=desc").json().path("rows");
        assertEquals(2, rows.size(), rows.toString());
        JsonNode row = rows.get(0);
        assertEquals(id, row.path("job_id").asText(), row.toString());
        assertEquals(321.5, row.path("lat").asDouble(), row.toString());
        assertEquals(7, row.path("p_tok").asInt(), row.toString());
        assertEquals("pixel", row.path("phone").asText(), row.toString());
        assertEquals("m", row.path("llm").asText(), row.toString());
        assertEquals(81, row.path("battery").asInt(), row.toString());
        assertTrue(row.hasNonNull("when"), row.toString());

        List<Map<String, Object>> usage = t.usage(2);
        assertEquals(2, usage.size(), "the dataset's own row and the job's; the job's appended row adds none: " + usage);
        Map<String, Object> job = usage.stream().filter(u -> "job".equals(u.get("source_kind"))).findFirst().orElseThrow();
        assertEquals("phones", job.get("dataset"));
        assertEquals(id, job.get("job_id"));
    }
}
