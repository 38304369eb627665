-- The fold's mark on each hour whose rollup cells it changed (issue 10: an hourly series over a month in
-- milliseconds). A month of hourly points by model reads some 5,800 cells and decodes their histograms: 40-60 ms
-- however the cells are laid out. A series answer therefore keeps the points of whole, closed hours between answers
-- (UsageSeriesCache) and uses them again only while the marks of their hours are what they were when the points were
-- made. The fold writes the mark in the transaction that writes the cells, so any process's fold (an import from the
-- command line, say) makes a kept point stale; a deleted user's marks go with them.
CREATE TABLE usage_hour_marks (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hour    INTEGER NOT NULL, -- epoch minute the hour starts at (as usage_rollups.t)
    fold_id INTEGER NOT NULL, -- usage_fold.folded_id after the fold that last changed the hour's cells
    PRIMARY KEY (user_id, hour)
) WITHOUT ROWID;
