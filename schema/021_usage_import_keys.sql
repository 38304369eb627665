-- Idempotency-Key of a usage import (§3.12): the answer of the first import sent with a key, replayed for 24 hours
-- when the same key comes with the same request again (body, content type, strict, dry_run and source_kind, as
-- body_hash). The same key with another request is a 409.
CREATE TABLE usage_import_keys (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    body_hash  TEXT NOT NULL,
    status     INTEGER NOT NULL,
    answer     TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
) WITHOUT ROWID;
