package scorebook.datasets;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.node.ObjectNode;

import scorebook.jobs.MetricsSink;
import scorebook.server.Json;

/**
 * A finished job's metrics row appended to the dataset its {@code adapter_id} names, under that
 * dataset adapter's field names, so it reaches the dataset's charts. No usage row is made: the
 * job's own usage row already counts the call.
 */
public final class JobMetricsSink implements MetricsSink {
    private final Datasets datasets;

    public JobMetricsSink(Datasets datasets) {
        this.datasets = datasets;
    }

    @Override
    public boolean datasetExists(long userId, String dataset) {
        return datasets.exists(userId, dataset);
    }

    @Override
    public void append(long userId, String dataset, Map<String, Object> metricsRow) {
        ObjectNode row = Json.MAPPER.valueToTree(metricsRow);
        datasets.adapter(userId, dataset).ifPresent(a -> rename(row, a));
        datasets.append(userId, dataset, List.of(row), false);
    }

    /** The job's standard names (ts, device, model, tokens, latency, ttft, extra labels) moved to the adapter's fields. */
    private static void rename(ObjectNode row, Adapter a) {
        move(row, "ts", a.xField());
        move(row, "device", a.deviceField());
        move(row, "model", a.modelField());
        move(row, "prompt_tokens", a.promptTokensField());
        move(row, "completion_tokens", a.completionTokensField());
        move(row, "latency_ms", a.latencyMsField());
        move(row, "ttft_ms", a.ttftMsField());
        for (Adapter.ExtraField e : a.extraFields()) {
            if (!row.has(e.label()) && row.path("extra").has(e.label())) {
                row.set(e.label(), row.path("extra").get(e.label()));
            }
            move(row, e.label(), e.field());
        }
    }

    private static void move(ObjectNode row, String from, String to) {
        if (to != null && !to.equals(from) && row.has(from) && !row.has(to)) {
            row.set(to, row.remove(from));
        }
    }
}
