-- Eval results: runs (grouped into sessions by name), their result rows, each row's scores,
-- each user's active run and eval config. Totals and score chips are views over these tables,
-- so the API, the dashboard and the exports share one definition and are always live.

-- A run belongs to one user; a session is only a name and exists while it holds runs.
CREATE TABLE eval_runs (
    id             INTEGER PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    run_id         TEXT NOT NULL CHECK (length(run_id) = 8 AND run_id NOT GLOB '*[^0-9a-f]*'),
    session_name   TEXT NOT NULL,
    run_name       TEXT NOT NULL,
    eval_path      TEXT,              -- "path" in the run document: where the suites came from
    dataset        TEXT,              -- discovery filters a rerun reuses
    labels         TEXT,              -- JSON text
    function_name  TEXT,
    selected_total INTEGER,           -- size of the last selective run; null after a full one
    created_at     INTEGER NOT NULL,  -- epoch seconds, "timestamp" in listings
    UNIQUE (user_id, run_id)
);
CREATE INDEX eval_runs_session ON eval_runs (user_id, session_name, created_at);

-- One row per result, index 0..n-1 (contiguous). row_json is the row as the API serves it,
-- {"function", "dataset", "labels", "result": {input, output, reference, scores, error, latency,
-- metadata, trace_data, status, annotation, annotations}}, compact JSON text spliced into
-- responses as it is. The other columns and the row's eval_scores are derived from it by the
-- store in the same transaction as every write, for the views and for a runner's queries
-- (status: not_started, pending, running, completed, error, cancelled; rows change in place).
CREATE TABLE eval_results (
    id        INTEGER PRIMARY KEY,
    run_pk    INTEGER NOT NULL REFERENCES eval_runs (id) ON DELETE CASCADE,
    idx       INTEGER NOT NULL CHECK (idx >= 0),
    function  TEXT NOT NULL,
    status    TEXT NOT NULL CHECK (status IN ('not_started', 'pending', 'running', 'completed', 'error', 'cancelled')),
    has_error INTEGER NOT NULL CHECK (has_error IN (0, 1)),  -- error is set and not empty
    latency   REAL,
    row_json  TEXT NOT NULL,
    UNIQUE (run_pk, idx)
);
-- covering for the totals view and a runner's status queries, which so never read the (large) rows
CREATE INDEX eval_results_totals ON eval_results (run_pk, function, has_error, latency, status);

-- A result's scores in their order (pos); at least one of value/passed is set. Keyed by score key
-- first, so that the chips view reads each key's scores in order without a second index; a result's
-- scores are found by (run_pk, key, idx) for each of its keys. They go with their run (the store
-- writes and replaces them together with their row).
CREATE TABLE eval_scores (
    run_pk INTEGER NOT NULL REFERENCES eval_runs (id) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    idx    INTEGER NOT NULL,
    pos    INTEGER NOT NULL CHECK (pos >= 0 AND pos < 1048576),
    value  REAL,
    passed INTEGER CHECK (passed IN (0, 1)),
    notes  TEXT,
    PRIMARY KEY (run_pk, key, idx, pos),
    CHECK (value IS NOT NULL OR passed IS NOT NULL)
) WITHOUT ROWID;

-- The run each user is looking at ("latest" in URLs); kept here so it survives a restart.
CREATE TABLE eval_active (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    run_pk  INTEGER NOT NULL REFERENCES eval_runs (id) ON DELETE CASCADE
);

-- Settings a runner reads at the start of each run.
CREATE TABLE eval_config (
    user_id     INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    concurrency INTEGER NOT NULL DEFAULT 1 CHECK (concurrency BETWEEN 1 AND 256),
    timeout     REAL CHECK (timeout IS NULL OR timeout > 0),
    verbose     INTEGER NOT NULL DEFAULT 0 CHECK (verbose IN (0, 1))
);

-- Totals of a run, live: an error is a non-empty error text; a passed row has at least one
-- passing score; the average latency leaves out null and zero latencies (0 when none).
CREATE VIEW eval_run_totals AS
SELECT ru.id AS run_pk,
       (SELECT count(*) FROM eval_results r WHERE r.run_pk = ru.id) AS total_evaluations,
       (SELECT count(DISTINCT r.function) FROM eval_results r WHERE r.run_pk = ru.id) AS total_functions,
       (SELECT count(*) FROM eval_results r WHERE r.run_pk = ru.id AND r.has_error) AS total_errors,
       (SELECT count(DISTINCT s.idx) FROM eval_scores s WHERE s.run_pk = ru.id AND s.passed = 1) AS total_passed,
       (SELECT count(DISTINCT s.idx) FROM eval_scores s WHERE s.run_pk = ru.id) AS total_with_scores,
       (SELECT coalesce(avg(r.latency), 0.0) FROM eval_results r
         WHERE r.run_pk = ru.id AND r.latency IS NOT NULL AND r.latency <> 0) AS average_latency
FROM eval_runs ru;

-- Score chips of a run, one per key, ordered by first appearance (first_seen = idx, then pos):
-- "ratio" (passed/total over the scores that carry passed) when any score of the key carries
-- passed, else "avg" (avg/count over the values; every score has a value or passed).
CREATE VIEW eval_score_chips AS
SELECT run_pk,
       key,
       min(idx * 1048576 + pos) AS first_seen,
       CASE WHEN count(passed) > 0 THEN 'ratio' ELSE 'avg' END AS type,
       coalesce(sum(passed), 0) AS passed,
       count(passed) AS total,
       avg(value) AS avg,
       count(value) AS count
FROM eval_scores
GROUP BY run_pk, key;
