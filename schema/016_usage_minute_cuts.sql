-- Minute cells get their cuts too (issue 12: a day's series in 15-minute buckets by device read every full
-- minute cell of the day, about 40,000 at 10 M rows a month, 200+ ms; its device cut is a seventh of that).
-- Minute cuts live at levels 3, 6, ... (level + 3 × cut, as schema/015) and go with their full minute cells
-- when the horizon moves. The cuts are made again from the full cells by the next fold (cuts_built = 0), all
-- levels at once, so none is counted twice.
DELETE FROM usage_rollups WHERE level >= 3;
UPDATE usage_fold SET cuts_built = 0 WHERE EXISTS (SELECT 1 FROM usage_rollups WHERE level IN (0, 1, 2));
