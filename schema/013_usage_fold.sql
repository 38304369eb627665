-- Usage rollups are folded off the request path (issue 10's write figures): an append or import commits only its
-- raw usage_events rows, and the single writer later adds the new rows to their rollup cells in bulk. folded_id is
-- the watermark: every usage_events row with id <= folded_id is in usage_rollups, no row above it is. It moves in
-- the transaction that writes the cells, so a row is folded exactly once, whatever crashes in between. New rows
-- take ids above both max(id) and folded_id (the writer assigns them), so an id below the watermark is never reused.
CREATE TABLE usage_fold (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    folded_id INTEGER NOT NULL
);
-- the rows stored so far were kept in their cells when they were written
INSERT INTO usage_fold (id, folded_id) SELECT 1, coalesce(max(id), 0) FROM usage_events;
