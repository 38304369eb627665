package scorebook.metrics;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

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
    private final Clock clock;

    public Metrics(Devices devices, JobStore jobs, EvalRunner runner, Database db, Clock clock) {
        this.registry = devices.registry();
        this.usage = devices.usage();
        this.jobs = jobs;
        this.runner = runner;
        this.dbFile = db.file();
        this.clock = clock;
        devices.models().observe(calls);
    }

    /** The filter that counts requests; the routing puts it in front of every other. */
    public Filter requestCounter() {
        return requests;
    }

    /** Every family, in a fixed order. */
    List<Family> collect() {
        List<Family> out = new ArrayList<>();
        requests.collect(out);
        calls.collect(out);
        devices(out);
        jobs(out);
        out.add(Family.of("scorebook_usage_writer_backlog", "gauge",
                "usage rows recorded and not yet written by the background writer").add(usage.backlog()));
        out.add(Family.of("scorebook_runs_executing", "gauge", "eval runs executing now").add(runner.executing()));
        out.add(Family.of("scorebook_database_size_bytes", "gauge", "size of the SQLite database file").add(size(dbFile)));
        out.add(Family.of("scorebook_database_wal_size_bytes", "gauge", "size of the SQLite write-ahead log")
                .add(size(dbFile.resolveSibling(dbFile.getFileName() + "-wal"))));
        return out;
    }

    private void devices(List<Family> out) {
        Family inflight = Family.of("scorebook_device_inflight", "gauge", "calls in flight on the device (gateway and jobs)");
        Family limit = Family.of("scorebook_device_max_concurrency", "gauge", "calls the device takes at once");
        Family healthy = Family.of("scorebook_device_healthy", "gauge", "1 when the model server's last health check passed");
        Family circuit = Family.of("scorebook_device_circuit_open", "gauge",
                "1 while the model server rests after failures in a row (its circuit breaker is open)");
        Family failures = Family.of("scorebook_device_consecutive_failures", "gauge", "failed calls or checks in a row");
        Family present = Family.of("scorebook_agent_present", "gauge", "1 when the agent sent a heartbeat in the last 45 s");
        long now = clock.millis();
        for (DeviceRegistry.Snapshot s : registry.all()) {
            String user = Long.toString(s.device().userId());
            String serial = s.device().serial();
            inflight.add(s.inflight(), "user", user, "device", serial, "kind", s.device().kind());
            limit.add(s.device().maxConcurrency(), "user", user, "device", serial, "kind", s.device().kind());
            if (s.device().push()) {
                healthy.add(s.healthy() ? 1 : 0, "user", user, "device", serial);
                circuit.add(s.circuitOpen() ? 1 : 0, "user", user, "device", serial);
                failures.add(s.consecutiveFailures(), "user", user, "device", serial);
            } else {
                present.add(s.present(now) ? 1 : 0, "user", user, "device", serial);
            }
        }
        out.addAll(List.of(inflight, limit, healthy, circuit, failures, present));
    }

    private void jobs(List<Family> out) {
        JobStore.Gauges g = jobs.gauges();
        out.add(Family.of("scorebook_jobs", "gauge", "jobs waiting, running or dead-lettered, by state")
                .add(g.queued(), "state", "queued").add(g.retrying(), "state", "retrying")
                .add(g.running(), "state", "running").add(g.failed(), "state", "failed"));
        double age = g.oldestQueuedAt() == null ? 0
                : Math.max(0, (now() - Instant.parse(g.oldestQueuedAt()).toEpochMilli()) / 1000.0);
        out.add(Family.of("scorebook_jobs_oldest_queued_age_seconds", "gauge",
                "how long the oldest queued job has waited (0 when none waits)").add(age));
    }

    private long now() {
        return clock.millis();
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0; // no WAL between checkpoints, or the file is being replaced
        }
    }
}
