-- Dataset appends (issue 10's append figure): a row is stored as sent, its _meta_* fields made when it is read back
-- (_meta_user_id and _meta_dataset from its dataset, _meta_ts from received_ms). Rows stored before have received_ms
-- NULL and their _meta_* fields inside data.
ALTER TABLE dataset_rows ADD COLUMN received_ms INTEGER;

-- Appended dataset rows whose usage rows are not made yet: one line per append under an enabled adapter, written in
-- the append's transaction, with the rows' id range, when they were received and the adapter's mapping as it was
-- then. The usage fold makes their usage rows (event key ds:ROW_ID) and drops the line in one transaction, before it
-- folds, so every usage answer counts them.
CREATE TABLE usage_from_datasets (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    dataset      TEXT NOT NULL,
    first_row_id INTEGER NOT NULL,
    last_row_id  INTEGER NOT NULL,
    received_ms  INTEGER NOT NULL,
    mapping      TEXT NOT NULL
);
