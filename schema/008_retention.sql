-- Retention (issue 14): per user, how many days raw usage rows, dataset rows and finished jobs are kept.
-- NULL keeps them forever (a user without a row keeps everything). Usage rollups are never dropped by
-- retention, so long-range charts stay whole after the raw rows behind them go.
CREATE TABLE retention_settings (
    user_id      INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    usage_days   INTEGER CHECK (usage_days IS NULL OR usage_days > 0),
    dataset_days INTEGER CHECK (dataset_days IS NULL OR dataset_days > 0),
    job_days     INTEGER CHECK (job_days IS NULL OR job_days > 0),
    updated_at   TEXT NOT NULL
);
-- the retention task walks a user's finished jobs oldest first
CREATE INDEX jobs_finished ON jobs (user_id, finished_at) WHERE finished_at IS NOT NULL;
