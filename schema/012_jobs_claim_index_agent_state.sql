-- Claims read only the index: every column the claim's WHERE and ORDER BY use is in it, walked in
-- (priority, id) order, so jobs a device may not take are skipped without reading their rows.
DROP INDEX jobs_claimable;
CREATE INDEX jobs_claimable ON jobs (user_id, priority, id, state, run_at_ms, queue_tag, model, device_serial)
    WHERE state IN ('queued', 'retrying');

-- What the server asks of an agent in its heartbeat answer (Faktory's worker states): running, quiet
-- (finish the jobs you hold, take no new ones) or terminate (stop). Set by its user.
ALTER TABLE devices ADD COLUMN agent_state TEXT NOT NULL DEFAULT 'running'
    CHECK (agent_state IN ('running', 'quiet', 'terminate'));

-- Device tokens that were replaced (registering again) or whose agent was removed: their heartbeats are
-- answered "terminate", so the old agent process stops instead of failing with 401 forever.
CREATE TABLE retired_device_tokens (
    token_hash TEXT PRIMARY KEY,
    serial     TEXT NOT NULL                              -- the agent it belonged to, for people reading the table
);
