package scorebook.evals;

import java.util.List;

/** Told after rows of a run changed through this service (an edited result), so that the run's live stream sends them. */
@FunctionalInterface
public interface RowsChanged {
    void changed(long userId, String runId, List<Integer> indices);

    /** No live stream (tools without a runner). */
    RowsChanged NONE = (userId, runId, indices) -> { };
}
