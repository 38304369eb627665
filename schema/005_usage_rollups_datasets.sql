-- Usage analytics and datasets (issue 10).
--
-- usage_events is rebuilt: it gains the dimensions tenant and dataset, the device metrics of the export
-- (prefill/decode speed, load time, battery, temperature, thermal status) and event_key, a 32-bit hash of
-- the row's event id (its request_id, else its content) that makes re-imports skip duplicates. ts becomes a
-- virtual column computed from ts_ms (same text as before, no bytes on disk). One index (user, time, key)
-- serves both time ranges and the duplicate check.
CREATE TABLE usage_events_new (
    id                 INTEGER PRIMARY KEY,
    user_id            INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    api_key_id         INTEGER REFERENCES api_keys (id) ON DELETE SET NULL,
    ts_ms              INTEGER NOT NULL,
    event_key          INTEGER NOT NULL,
    source_kind        TEXT NOT NULL,
    request_id         TEXT,                               -- the call's id; for imported rows their event_id
    device             TEXT,
    model              TEXT,
    tag                TEXT,
    prompt_tokens      INTEGER,
    completion_tokens  INTEGER,
    latency_ms         REAL,
    ttft_ms            REAL,
    tok_s              REAL,
    ok                 INTEGER NOT NULL CHECK (ok IN (0, 1)),
    error_type         TEXT,
    error_message      TEXT,
    job_id             TEXT,
    prompt_preview     TEXT,
    extra              TEXT,                               -- JSON object {label: number}
    tenant             TEXT,
    dataset            TEXT,
    prefill_tok_s      REAL,
    decode_tok_s       REAL,
    load_ms            REAL,
    battery_start_pct  REAL,
    battery_end_pct    REAL,
    temp_max_c         REAL,
    thermal_status_max REAL,
    ts                 TEXT GENERATED ALWAYS AS (
        strftime('%Y-%m-%dT%H:%M:%S', ts_ms / 1000, 'unixepoch') || printf('.%03dZ', ts_ms % 1000)) VIRTUAL
);
INSERT INTO usage_events_new (id, user_id, api_key_id, ts_ms, event_key, source_kind, request_id, device, model, tag,
                              prompt_tokens, completion_tokens, latency_ms, ttft_ms, tok_s, ok, error_type,
                              error_message, job_id, prompt_preview, extra)
SELECT id, user_id, api_key_id, ts_ms, -id, source_kind, request_id, device, model, tag, prompt_tokens,
       completion_tokens, latency_ms, ttft_ms, tok_s, ok, error_type, error_message, job_id, prompt_preview, extra
FROM usage_events;
DROP TABLE usage_events;
ALTER TABLE usage_events_new RENAME TO usage_events;
CREATE UNIQUE INDEX usage_events_user_ts ON usage_events (user_id, ts_ms, event_key);
CREATE INDEX usage_events_job ON usage_events (user_id, job_id) WHERE job_id IS NOT NULL;

-- Rollups, kept in the same transaction as the rows: one row per (user, level, bucket, dimensions).
-- level 0 = minute, 1 = hour, 2 = day (UTC); t = the bucket's start in epoch minutes. Absent dimensions
-- are '' (primary key columns of a WITHOUT ROWID table cannot be NULL). Histograms are sparse log-scale
-- buckets (ratio 1.015) encoded as varints; extra holds per label n, sum, min, max and a histogram.
CREATE TABLE usage_rollups (
    user_id           INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    level             INTEGER NOT NULL,
    t                 INTEGER NOT NULL,
    source_kind       TEXT NOT NULL,
    model             TEXT NOT NULL,
    device            TEXT NOT NULL,
    tag               TEXT NOT NULL,
    tenant            TEXT NOT NULL,
    dataset           TEXT NOT NULL,
    ok                INTEGER NOT NULL,
    requests          INTEGER NOT NULL,
    prompt_tokens     INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    latency_n         INTEGER NOT NULL,
    latency_sum       REAL NOT NULL,
    latency_max       REAL,
    ttft_n            INTEGER NOT NULL,
    ttft_sum          REAL NOT NULL,
    tok_s_n           INTEGER NOT NULL,
    tok_s_sum         REAL NOT NULL,
    tok_s_sq          REAL NOT NULL,
    prefill_n         INTEGER NOT NULL,
    prefill_sum       REAL NOT NULL,
    decode_n          INTEGER NOT NULL,
    decode_sum        REAL NOT NULL,
    latency_hist      BLOB,
    ttft_hist         BLOB,
    tok_s_hist        BLOB,
    extra             BLOB,
    PRIMARY KEY (user_id, level, t, source_kind, model, device, tag, tenant, dataset, ok)
) WITHOUT ROWID;

-- What every usage answer is computed from: the same columns over rollup cells and over raw rows (the
-- sub-minute edges of a range, and job_id filters). Summaries, series, breakdowns and comparisons add these
-- up; errors are the requests of ok = 0 cells; raw rows carry their single value in *_sum (and *_max).
CREATE VIEW usage_rollup_facts AS
SELECT user_id, level, t, t * 60000 AS ts_ms, nullif(source_kind, '') AS source_kind, nullif(model, '') AS model,
       nullif(device, '') AS device, nullif(tag, '') AS tag, nullif(tenant, '') AS tenant,
       nullif(dataset, '') AS dataset, ok,
       requests, CASE ok WHEN 1 THEN requests ELSE 0 END AS ok_requests,
       CASE ok WHEN 0 THEN requests ELSE 0 END AS errors,
       prompt_tokens, completion_tokens, prompt_tokens + completion_tokens AS total_tokens,
       latency_n, latency_sum, latency_max, ttft_n, ttft_sum, tok_s_n, tok_s_sum, tok_s_sq,
       prefill_n, prefill_sum, decode_n, decode_sum, latency_hist, ttft_hist, tok_s_hist, extra
FROM usage_rollups;

CREATE VIEW usage_event_facts AS
SELECT user_id, -1 AS level, ts_ms / 60000 AS t, ts_ms, source_kind, model, device, tag, tenant, dataset, ok,
       1 AS requests, ok AS ok_requests, 1 - ok AS errors,
       coalesce(prompt_tokens, 0) AS prompt_tokens, coalesce(completion_tokens, 0) AS completion_tokens,
       coalesce(prompt_tokens, 0) + coalesce(completion_tokens, 0) AS total_tokens,
       latency_ms IS NOT NULL AS latency_n, coalesce(latency_ms, 0) AS latency_sum, latency_ms AS latency_max,
       ttft_ms IS NOT NULL AS ttft_n, coalesce(ttft_ms, 0) AS ttft_sum,
       tok_s IS NOT NULL AS tok_s_n, coalesce(tok_s, 0) AS tok_s_sum, coalesce(tok_s * tok_s, 0) AS tok_s_sq,
       prefill_tok_s IS NOT NULL AS prefill_n, coalesce(prefill_tok_s, 0) AS prefill_sum,
       decode_tok_s IS NOT NULL AS decode_n, coalesce(decode_tok_s, 0) AS decode_sum,
       NULL AS latency_hist, NULL AS ttft_hist, NULL AS tok_s_hist, extra, job_id
FROM usage_events;

-- The metrics /usage/compare puts in delta, and which side of each is better: lower or higher values.
CREATE VIEW usage_compare_metrics (metric, better_when) AS
VALUES ('requests', NULL),
       ('error_rate', 'lower'),
       ('total_tokens', NULL),
       ('latency_ms.avg', 'lower'),
       ('latency_ms.p50', 'lower'),
       ('latency_ms.p95', 'lower'),
       ('latency_ms.p99', 'lower'),
       ('ttft_ms.avg', 'lower'),
       ('ttft_ms.p50', 'lower'),
       ('ttft_ms.p95', 'lower'),
       ('tok_s.avg', 'higher'),
       ('tok_s.p50', 'higher'),
       ('throughput_tok_per_min', 'higher');

-- Datasets: named row collections per user, with an optional adapter (JSON of the save_adapter body)
-- that turns rows into usage rows. Rows keep the JSON object as sent plus the _meta_* fields.
CREATE TABLE datasets (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    rows       INTEGER NOT NULL DEFAULT 0,
    first_ts   TEXT,
    last_ts    TEXT,
    adapter    TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (user_id, name)
);

CREATE TABLE dataset_rows (
    id         INTEGER PRIMARY KEY,
    dataset_id INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    data       TEXT NOT NULL
);
CREATE INDEX dataset_rows_dataset ON dataset_rows (dataset_id, id);
