-- Old hours with minute cells (issue 10: reads over 10 M rows). A range that starts or ends inside an hour older
-- than the minute-cell horizon (schema/011) read that partial hour row by row: up to 14,000 rows, most of a 30-day
-- summary's time. The first answer that needs such an hour makes its minute cells (and their cuts) from the hour's
-- raw rows; later answers read cells (a rolling range's until its edge moves to the next hour). The fold keeps them up to date (a row
-- folded into a listed hour gets its minute cell as a recent row does), the horizon's move leaves them, and only the
-- most recently made hours per user are kept (UsageStore.MINUTE_HOURS_KEPT), so they cost a bounded size.
CREATE TABLE usage_minute_hours (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hour    INTEGER NOT NULL, -- epoch minute the hour starts at
    made    INTEGER NOT NULL, -- 1, 2, ... in the order the user's hours were made: the oldest go first
    PRIMARY KEY (user_id, hour)
) WITHOUT ROWID;
