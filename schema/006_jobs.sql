-- Jobs: the persistent queue of prompt jobs, their attempts, idempotency keys, webhook secrets and
-- callback deliveries; and what agents (pull devices) add to devices. Applied once, in order.
CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY,                 -- enqueue order (FIFO within a priority)
    job_id           TEXT NOT NULL UNIQUE,                -- public id, job_<hex>
    user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state            TEXT NOT NULL CHECK (state IN ('queued', 'running', 'retrying', 'done', 'failed', 'cancelled')),
    priority         INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 9),
    queue_tag        TEXT NOT NULL,
    model            TEXT,
    device_serial    TEXT,                                -- the device the job is pinned to, or null
    device           TEXT,                                -- the device that ran (or runs) the last attempt
    prompt           TEXT NOT NULL,
    system           TEXT,
    options          TEXT,                                -- JSON object
    adapter_id       TEXT,
    callback_url     TEXT,
    attempt          INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL CHECK (max_attempts BETWEEN 1 AND 10),
    backoff_s        REAL NOT NULL CHECK (backoff_s >= 0),
    cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1)),
    run_at_ms        INTEGER NOT NULL,                    -- claimable from then (retry backoff)
    lease_id         TEXT,
    lease_s          INTEGER,
    lease_expires_ms INTEGER,
    pushed           INTEGER NOT NULL DEFAULT 0,          -- 1: run by the server's own dispatcher
    error            TEXT,                                -- JSON {type, message}
    output           TEXT,                                -- JSON {text, done_reason}
    metrics          TEXT,                                -- JSON object
    raw              TEXT,                                -- JSON: the device's answer
    enqueued_at      TEXT NOT NULL,
    started_at       TEXT,
    finished_at      TEXT
);
-- claims walk this in order and stop at the first job a device may take
CREATE INDEX jobs_claimable ON jobs (user_id, priority, id) WHERE state IN ('queued', 'retrying');
CREATE INDEX jobs_user ON jobs (user_id, id);
CREATE INDEX jobs_leases ON jobs (lease_expires_ms) WHERE state = 'running';
CREATE INDEX jobs_failed ON jobs (id) WHERE state = 'failed';

-- Every attempt of a job, kept across requeues (attempt numbers then start again).
CREATE TABLE job_attempts (
    id            INTEGER PRIMARY KEY,
    job_row       INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    attempt       INTEGER NOT NULL,
    device        TEXT,
    lease_id      TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    ended_at      TEXT,
    outcome       TEXT,                                   -- done, retrying, failed, cancelled
    error_type    TEXT,
    error_message TEXT
);
CREATE INDEX job_attempts_job ON job_attempts (job_row, id);

-- Idempotency-Key of an enqueue: the same key (and body) gives the same job for 24 hours.
CREATE TABLE job_idempotency (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    body_hash  TEXT NOT NULL,
    job_id     TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
);

-- The user's webhook signing secret (kept in clear: it signs), and the one it replaced, which
-- signs too until previous_until_ms.
CREATE TABLE webhook_secrets (
    user_id           INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret            TEXT NOT NULL,
    previous          TEXT,
    previous_until_ms INTEGER,
    created_at        TEXT NOT NULL
);

-- One row per event sent to a job's callback_url; webhook_id is the same on every retry.
CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY,
    job_row     INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    webhook_id  TEXT NOT NULL UNIQUE,
    event       TEXT NOT NULL,                            -- job.done, job.failed, job.cancelled
    url         TEXT NOT NULL,
    body        TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed', 'gone')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at_ms  INTEGER NOT NULL,
    last_status INTEGER,
    last_error  TEXT,
    created_at  TEXT NOT NULL,
    last_attempt_at TEXT,
    delivered_at TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at_ms) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_job ON webhook_deliveries (job_row, id);

-- Agents: the queues a device takes jobs from, the hash of its device token, its last heartbeat.
ALTER TABLE devices ADD COLUMN queue_tags TEXT NOT NULL DEFAULT '["default"]';
ALTER TABLE devices ADD COLUMN token_hash TEXT;
ALTER TABLE devices ADD COLUMN agent_status TEXT;
ALTER TABLE devices ADD COLUMN last_seen_at TEXT;
CREATE UNIQUE INDEX devices_token ON devices (token_hash) WHERE token_hash IS NOT NULL;
