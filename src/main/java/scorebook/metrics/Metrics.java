package scorebook.metrics;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.helidon.webserver.http.Filter;

import scorebook.devices.DeviceRegistry;
import scorebook.devices.Devices;
import scorebook.jobs.JobStore;
import scorebook.runner.EvalRunner;
import scorebook.store.Database;
import scorebook.usage.UsageStore;

/**
 * What {@code /metrics} reports, read fresh on each scrape from counters kept in memory and from live state:
 * requests (counted by a filter), model calls (told by {@link scorebook.devices.Models}), devices (the registry),
 * the job queue (one read over the jobs table's partial indexes), the usage writer's backlog, runs executing
 * and the database's file sizes. Nothing reads usage rows, so a scrape costs the same at a million rows as at none.
 */
public final class Metrics {
    private final RequestCounter requests = new RequestCounter();
    private final CallStats calls = new CallStats();
    private final DeviceRegistry registry;
    private final UsageStore usage;
    private final JobStore jobs;
    private final EvalRunner runner;
    private final Path dbFile;
    private final Path walFile;
    /** The server's clock ({@code Main.Parts.clock}): agent presence and the oldest job's age read it. */
    private final Clock clock;
    private final Map<Long, String> userIds = new ConcurrentHashMap<>();

    public Metrics(Devices devices, JobStore jobs, EvalRunner runner, Database db, Clock clock) {
        this.registry = devices.registry();
        this.usage = devices.usage();
        this.jobs = jobs;
        this.runner = runner;
        this.dbFile = db.file();
        this.walFile = dbFile.resolveSibling(dbFile.getFileName() + "-wal");
        this.clock = clock;
        devices.models().observe(calls);
    }

    /** The filter that counts requests; the routing puts it in front of every other. */
    public Filter requestCounter() {
        return requests;
    }

    /** Every family, in a fixed order, into {@code out}. */
    void write(Exposition out) {
        requests.write(out);
        calls.write(out);
        devices(out);
        jobs(out);
        out.family("scorebook_usage_writer_backlog", "gauge", "usage rows recorded and not yet written by the background writer");
        out.sample(usage.backlog());
        out.family("scorebook_runs_executing", "gauge", "eval runs executing now");
        out.sample(runner.executing());
        out.family("scorebook_database_size_bytes", "gauge", "size of the SQLite database file");
        out.sample(size(dbFile));
        out.family("scorebook_database_wal_size_bytes", "gauge", "size of the SQLite write-ahead log");
        out.sample(size(walFile));
    }

    private void devices(Exposition out) {
        List<DeviceRegistry.Snapshot> all = registry.all();
        out.family("scorebook_device_inflight", "gauge", "calls in flight on the device (gateway and jobs)");
        for (DeviceRegistry.Snapshot s : all) {
            out.sample(s.inflight(), "user", user(s), "device", s.device().serial(), "kind", s.device().kind());
        }
        out.family("scorebook_device_max_concurrency", "gauge", "calls the device takes at once");
        for (DeviceRegistry.Snapshot s : all) {
            out.sample(s.device().maxConcurrency(), "user", user(s), "device", s.device().serial(), "kind", s.device().kind());
        }
        out.family("scorebook_device_healthy", "gauge", "1 when the model server's last health check passed");
        for (DeviceRegistry.Snapshot s : all) {
            if (s.device().push()) {
                out.sample(s.healthy() ? 1 : 0, "user", user(s), "device", s.device().serial());
            }
        }
        out.family("scorebook_device_circuit_open", "gauge",
                "1 while the model server rests after failures in a row (its circuit breaker is open)");
        for (DeviceRegistry.Snapshot s : all) {
            if (s.device().push()) {
                out.sample(s.circuitOpen() ? 1 : 0, "user", user(s), "device", s.device().serial());
            }
        }
        out.family("scorebook_device_consecutive_failures", "gauge", "failed calls or checks in a row");
        for (DeviceRegistry.Snapshot s : all) {
            if (s.device().push()) {
                out.sample(s.consecutiveFailures(), "user", user(s), "device", s.device().serial());
            }
        }
        out.family("scorebook_agent_present", "gauge", "1 when the agent sent a heartbeat in the last 45 s");
        long now = clock.millis();
        for (DeviceRegistry.Snapshot s : all) {
            if (!s.device().push()) {
                out.sample(s.present(now) ? 1 : 0, "user", user(s), "device", s.device().serial());
            }
        }
    }

    /** The device's user id as a label value (ids are few; their text is kept). */
    private String user(DeviceRegistry.Snapshot s) {
        return userIds.computeIfAbsent(s.device().userId(), id -> Long.toString(id));
    }

    private void jobs(Exposition out) {
        JobStore.Gauges g = jobs.gauges();
        out.family("scorebook_jobs", "gauge", "jobs waiting, running or dead-lettered, by state");
        out.sample(g.queued(), "state", "queued");
        out.sample(g.retrying(), "state", "retrying");
        out.sample(g.running(), "state", "running");
        out.sample(g.failed(), "state", "failed");
        double age = g.oldestQueuedAt() == null ? 0
                : Math.max(0, (clock.millis() - Instant.parse(g.oldestQueuedAt()).toEpochMilli()) / 1000.0);
        out.family("scorebook_jobs_oldest_queued_age_seconds", "gauge",
                "how long the oldest queued job has waited (0 when none waits)");
        out.sample(age);
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0; // no WAL between checkpoints, or the file is being replaced
        }
    }
}
