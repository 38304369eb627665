package scorebook.evals;

import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;

import scorebook.store.Database;

/**
 * The selections of the rows endpoint (which rows a filter and sort pick, in order, with their count and
 * chips), kept while nothing has been written to the database, so that paging through a view costs a
 * lookup of 50 rows instead of filtering, sorting and aggregating the whole run again. Entries also expire
 * after {@link #MAX_AGE_MS}, for writers in another process (the command line), which the count misses.
 */
final class RowsCache {
    private static final int SIZE = 32;
    private static final long MAX_AGE_MS = 2000;

    private record Key(long runPk, String runId, String query) {
    }

    private record Cached(long writes, long at, RowsSql.Selection selection) {
    }

    private final Database db;
    private final Clock clock;
    private final Map<Key, Cached> entries = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, Cached> eldest) {
            return size() > SIZE;
        }
    };

    RowsCache(Database db, Clock clock) {
        this.db = db;
        this.clock = clock;
    }

    /** The database's write count: take it BEFORE the read transaction that {@link #select} runs in. */
    long writes() {
        return db.writeCount();
    }

    /** The selection of {@code query} in the run {@code view} reads, from the cache while it is current. */
    RowsSql.Selection select(EvalStore.RunView view, RowQuery query, long writesBefore) {
        Key key = new Key(view.run().pk(), view.run().runId(), query.selectionKey());
        long now = clock.millis();
        synchronized (entries) {
            Cached e = entries.get(key);
            if (e != null && e.writes() == writesBefore && now - e.at() <= MAX_AGE_MS && now >= e.at()) {
                return e.selection();
            }
        }
        RowsSql.Selection s = view.select(query);
        synchronized (entries) {
            entries.put(key, new Cached(writesBefore, now, s));
        }
        return s;
    }
}
