package scorebook.retention;

import java.util.List;
import java.util.Optional;

import scorebook.store.Database;

/** The per-user retention settings ({@code retention_settings}) and the file's free pages. */
public final class RetentionStore {
    private final Database db;

    public RetentionStore(Database db) {
        this.db = db;
    }

    /**
     * How long a user keeps each kind of row, in days; null keeps it forever.
     *
     * @param usageDays   raw usage rows (the rollups are kept)
     * @param datasetDays dataset rows
     * @param jobDays     finished jobs (done, failed, cancelled) and their attempts
     */
    public record Settings(Integer usageDays, Integer datasetDays, Integer jobDays) {
        public static final Settings FOREVER = new Settings(null, null, null);

        boolean keepsEverything() {
            return usageDays == null && datasetDays == null && jobDays == null;
        }
    }

    /** A user's settings as the task reads them. */
    public record UserSettings(long userId, Integer usageDays, Integer datasetDays, Integer jobDays) {
        Settings settings() {
            return new Settings(usageDays, datasetDays, jobDays);
        }
    }

    public Settings get(long userId) {
        Optional<Settings> s = db.read(h -> h.createQuery("""
                        SELECT usage_days, dataset_days, job_days FROM retention_settings WHERE user_id = :user""")
                .bind("user", userId).mapTo(Settings.class).findOne());
        return s.orElse(Settings.FOREVER);
    }

    public void put(long userId, Settings s, String nowIso) {
        db.write(h -> h.createUpdate("""
                        INSERT INTO retention_settings (user_id, usage_days, dataset_days, job_days, updated_at)
                        VALUES (:user, :usage, :dataset, :job, :now)
                        ON CONFLICT (user_id) DO UPDATE SET usage_days = excluded.usage_days,
                            dataset_days = excluded.dataset_days, job_days = excluded.job_days, updated_at = excluded.updated_at""")
                .bind("user", userId).bind("usage", s.usageDays()).bind("dataset", s.datasetDays())
                .bind("job", s.jobDays()).bind("now", nowIso).execute());
    }

    /** Every user who drops something. */
    public List<UserSettings> limited() {
        return db.read(h -> h.createQuery("""
                        SELECT user_id, usage_days, dataset_days, job_days FROM retention_settings
                        WHERE usage_days IS NOT NULL OR dataset_days IS NOT NULL OR job_days IS NOT NULL
                        ORDER BY user_id""")
                .mapTo(UserSettings.class).list());
    }

    /** Free pages in the file (deleted rows' pages not yet given back). */
    public long freePages() {
        return db.read(h -> h.createQuery("PRAGMA freelist_count").mapTo(long.class).one());
    }

    /** Gives up to {@code pages} free pages back to the file system (auto_vacuum = INCREMENTAL); one short write. */
    public void returnFreePages(int pages) {
        db.write(h -> h.execute("PRAGMA incremental_vacuum(" + pages + ")"));
    }
}
