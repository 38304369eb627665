-- Minute rollup cells are kept for recent rows only (issue 10: bytes per row and write speed). Per user, t is
-- the epoch minute from which minute cells are complete: a row older than it gets hour and day cells but no
-- minute cell, and a minute-sized piece of an answer older than it is read from raw rows instead. t only
-- moves forward (the writer sets it to its clock minus two days, on whole hours) and minute cells below it are
-- deleted as it moves, so the rule holds whatever the clock does.
CREATE TABLE usage_minute_horizon (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    t       INTEGER NOT NULL
);
-- existing data: minute cells older than two days go now (the writer keeps the horizon moving from here)
INSERT INTO usage_minute_horizon (user_id, t)
SELECT DISTINCT user_id, (unixepoch() / 3600 - 48) * 60 FROM usage_rollups;
DELETE FROM usage_rollups
WHERE level = 0 AND t < (SELECT h.t FROM usage_minute_horizon h WHERE h.user_id = usage_rollups.user_id);
