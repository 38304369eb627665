package scorebook.evals;

import java.util.LinkedHashMap;
import java.util.Map;

import scorebook.store.Database;

/**
 * What the rows endpoint keeps between requests while nothing has been written to the database: each recent
 * run's filter and sort columns ({@link RunColumns}, so that a NEW filter, sort or search is a pass over memory)
 * and each recent view's selection (which rows a filter and sort pick, in order, with their count and chips, so
 * that paging through a view costs a lookup of 50 rows). An entry is used only while the database's write count
 * and SQLite's data version (which also sees commits by another process, such as the command line) are those
 * taken before the read that made it.
 */
final class RowsCache {
    private static final int SELECTIONS = 32;
    /** Runs whose columns are kept: about 1 MB each for 10,000 rows, plus the search text once searched (1 KB a row). */
    private static final int RUNS = 4;

    /** The database's state before a read: this process's write count and SQLite's data version. */
    record Version(long writes, long data) {
    }

    private record Key(long runPk, String runId, String query) {
    }

    private record Cached<T>(Version version, T value) {
    }

    private final Database db;
    private final Map<Key, Cached<RowsSql.Selection>> selections = lru(SELECTIONS);
    private final Map<Long, Cached<RunColumns>> runs = lru(RUNS);

    RowsCache(Database db) {
        this.db = db;
    }

    private static <K, V> Map<K, V> lru(int size) {
        return new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
                return size() > size;
            }
        };
    }

    /** The database's version: take it BEFORE the read transaction that {@link #select} runs in. */
    Version version() {
        return new Version(db.writeCount(), db.dataVersion());
    }

    /** The selection of {@code query} in the run {@code view} reads, from the cache while it is current. */
    RowsSql.Selection select(EvalStore.RunView view, RowQuery query, Version before) {
        Key key = new Key(view.run().pk(), view.run().runId(), query.selectionKey());
        synchronized (selections) {
            Cached<RowsSql.Selection> e = selections.get(key);
            if (e != null && e.version().equals(before)) {
                return e.value();
            }
        }
        RowsSql.Selection s = columns(view, before).select(query, (pk, size) -> view.searchText(size));
        synchronized (selections) {
            selections.put(key, new Cached<>(before, s));
        }
        return s;
    }

    /** The run's columns, read in the caller's transaction unless a current copy is kept. */
    private RunColumns columns(EvalStore.RunView view, Version before) {
        synchronized (runs) {
            Cached<RunColumns> e = runs.get(view.run().pk());
            if (e != null && e.version().equals(before)) {
                return e.value();
            }
        }
        RunColumns c = view.columns();
        synchronized (runs) {
            runs.put(view.run().pk(), new Cached<>(before, c));
        }
        return c;
    }
}
