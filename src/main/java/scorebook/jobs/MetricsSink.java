package scorebook.jobs;

import java.util.Map;

/**
 * Where a job's metrics row goes when the job names a dataset ({@code adapter_id}): the datasets
 * feature appends it under that dataset adapter's field names. The jobs feature only needs these two
 * calls, so it does not depend on how datasets are stored.
 */
public interface MetricsSink {
    /** Whether the user has a dataset by that name (an unknown {@code adapter_id} is refused at enqueue). */
    boolean datasetExists(long userId, String dataset);

    /**
     * Appends a finished job's metrics row to the dataset. The row must not make a second usage row:
     * the job's own usage row already carries its metrics.
     */
    void append(long userId, String dataset, Map<String, Object> metricsRow);

    /** No datasets at all: every {@code adapter_id} is unknown. */
    MetricsSink NONE = new MetricsSink() {
        @Override
        public boolean datasetExists(long userId, String dataset) {
            return false;
        }

        @Override
        public void append(long userId, String dataset, Map<String, Object> metricsRow) {
            // nothing to append to
        }
    };
}
