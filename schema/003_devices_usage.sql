-- Devices (model servers Scorebook calls, and agents that pull jobs) and the usage rows every
-- model call writes. Devices belong to one user; a serial is unique per user.
CREATE TABLE devices (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    serial          TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('ollama', 'openai', 'agent')),
    mode            TEXT NOT NULL CHECK (mode IN ('push', 'pull')),
    name            TEXT,
    base_url        TEXT,
    models          TEXT NOT NULL DEFAULT '[]',           -- JSON array of model names
    weight          INTEGER NOT NULL DEFAULT 1 CHECK (weight >= 1),
    max_concurrency INTEGER NOT NULL DEFAULT 1 CHECK (max_concurrency >= 1),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (user_id, serial),
    CHECK ((mode = 'push') = (base_url IS NOT NULL))
);

-- One row per model call (gateway, job, eval target, judge, warm-up) and per imported row.
-- ts is ISO-8601 UTC with milliseconds for people; ts_ms the same instant in epoch ms for buckets.
CREATE TABLE usage_events (
    id                INTEGER PRIMARY KEY,
    user_id           INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    api_key_id        INTEGER REFERENCES api_keys (id) ON DELETE SET NULL,
    ts                TEXT NOT NULL,
    ts_ms             INTEGER NOT NULL,
    source_kind       TEXT NOT NULL,                      -- gateway, v1, warmup, job, eval, judge, import, ...
    request_id        TEXT,
    device            TEXT,                               -- device serial
    model             TEXT,
    tag               TEXT,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    latency_ms        REAL,
    ttft_ms           REAL,
    tok_s             REAL,
    ok                INTEGER NOT NULL CHECK (ok IN (0, 1)),
    error_type        TEXT,
    error_message     TEXT,
    job_id            TEXT,
    prompt_preview    TEXT,
    extra             TEXT                                -- JSON object of extra numeric metrics
);
CREATE INDEX usage_events_user_ts ON usage_events (user_id, ts_ms);
