-- scorebook: outside-transaction
-- Pages freed by retention go back to the file system: with auto_vacuum = INCREMENTAL the file keeps a
-- map of its free pages and PRAGMA incremental_vacuum(N) (run by the retention task after its deletes)
-- truncates up to N of them off the end of the file. Switching an existing file needs one VACUUM, which
-- rebuilds it (a one-time cost at the upgrade's start, about as long as copying the file) and cannot run
-- inside a transaction: the migration runner runs files marked as above statement by statement.
PRAGMA auto_vacuum = INCREMENTAL;
VACUUM;
