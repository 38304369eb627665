package scorebook.evals;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.jdbi.v3.core.Handle;

/**
 * The rows endpoint's answer parts: a selection (which rows a query picks, in order, with their figures; made
 * by {@link RunColumns}) and the stored JSON of a page of rows.
 */
final class RowsSql {
    /**
     * The rows a query selects, in order, with their count, average latency and chips. {@code order} holds the
     * indices of every selected row in order, or is null when the query neither narrows nor sorts (then the
     * order is 0..total-1 and a page needs no list). {@code datasets} and {@code labels} are the run's, sorted.
     */
    record Selection(int total, int filtered, double averageLatency, List<EvalStore.Chip> chips, int[] order,
                     EvalStore.Live run, List<String> datasets, List<String> labels) {
        /** The indices of the page at {@code offset}, at most {@code limit} of them. */
        List<Integer> page(int offset, int limit) {
            int end = (int) Math.min((long) offset + limit, filtered);
            List<Integer> out = new ArrayList<>(Math.max(0, end - offset));
            for (int i = offset; i < end; i++) {
                out.add(order == null ? i : order[i]);
            }
            return out;
        }
    }

    /** A row with its index, as stored JSON. */
    record Indexed(int index, byte[] json) {
    }

    private RowsSql() {
    }

    /** The stored JSON of the rows at {@code indices}, in that order. */
    static List<Indexed> rows(Handle h, long runPk, List<Integer> indices) {
        if (indices.isEmpty()) {
            return List.of();
        }
        Map<Integer, byte[]> byIndex = new HashMap<>();
        // one SQL text whatever the number of indices (a list expanded into the text would be parsed again
        // for each length); the indices go in as a JSON array, each probed in the (run_pk, idx) index
        h.createQuery("SELECT idx, row_json FROM eval_results WHERE run_pk = :run AND idx IN (SELECT value FROM json_each(:indices))")
                .bind("run", runPk).bind("indices", indices.toString())
                .map((rs, ctx) -> byIndex.put(rs.getInt(1), rs.getBytes(2))).list();
        List<Indexed> out = new ArrayList<>(indices.size());
        indices.forEach(i -> out.add(new Indexed(i, byIndex.get(i))));
        return out;
    }
}
