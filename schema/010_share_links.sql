-- Share links (issue 14): a random token (only its SHA-256 kept) that opens one scope of a user's data
-- read-only without a login. scope is the JSON object given ({"kind": "run", "run_id": ...}, usage with its
-- filters, jobs, devices), a run's id resolved when the link was made. expires_ms NULL: no expiry.
CREATE TABLE share_links (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,
    prefix      TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('run', 'usage', 'jobs', 'devices')),
    scope       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_ms  INTEGER,
    revoked_at  TEXT
);
CREATE INDEX share_links_user ON share_links (user_id, id);
