-- Imported usage rows staged for the fold (issue 10's import figure). An import checks its rows against the stored
-- ones and the staged ones, stores the new ones here as one line (the rows in time order, in StagedRows' encoding)
-- and answers; the fold inserts them into usage_events and drops the line in one transaction, before it folds, and
-- every read of usage rows makes it do so first. AUTOINCREMENT: an id is never given twice, so the rows' keys can be
-- cached by id.
CREATE TABLE usage_import_batches (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    received_ms INTEGER NOT NULL,
    row_count   INTEGER NOT NULL,
    first_ts_ms INTEGER NOT NULL,
    last_ts_ms  INTEGER NOT NULL,
    rows        BLOB NOT NULL
);
CREATE INDEX usage_import_batches_user ON usage_import_batches (user_id, id);
