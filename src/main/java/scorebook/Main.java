package scorebook;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import io.helidon.logging.common.LogConfig;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;

import scorebook.auth.AuthFilter;
import scorebook.backup.BackupCommands;
import scorebook.backup.BackupService;
import scorebook.backup.Backups;
import scorebook.auth.AuthService;
import scorebook.auth.AuthStore;
import scorebook.auth.Owner;
import scorebook.auth.UserCommands;
import scorebook.datasets.DataCommands;
import scorebook.datasets.DatasetService;
import scorebook.datasets.DatasetStore;
import scorebook.datasets.Datasets;
import scorebook.datasets.JobMetricsSink;
import scorebook.devices.DeviceCommands;
import scorebook.devices.DeviceService;
import scorebook.devices.Devices;
import scorebook.evals.ConfigStore;
import scorebook.evals.EvalService;
import scorebook.evals.EvalStore;
import scorebook.gateway.GatewayService;
import scorebook.jobs.JobAgent;
import scorebook.jobs.JobCommands;
import scorebook.jobs.Jobs;
import scorebook.jobs.JobsHttp;
import scorebook.retention.Retention;
import scorebook.retention.RetentionService;
import scorebook.retention.RetentionStore;
import scorebook.metrics.Metrics;
import scorebook.metrics.MetricsService;
import scorebook.runner.EvalRunner;
import scorebook.share.ShareService;
import scorebook.share.ShareStore;
import scorebook.runner.GatewayModels;
import scorebook.runner.RunCommand;
import scorebook.runner.RunEvents;
import scorebook.runner.RunnerService;
import scorebook.server.ApiException;
import scorebook.server.Errors;
import scorebook.server.HttpGuard;
import scorebook.server.Json;
import scorebook.server.OpenApi;
import scorebook.server.Options;
import scorebook.server.Ports;
import scorebook.server.ServerConfig;
import scorebook.server.StaticFiles;
import scorebook.server.Training;
import scorebook.store.DataLock;
import scorebook.store.Database;
import scorebook.usage.ImportKeys;
import scorebook.usage.UsageCommands;
import scorebook.usage.UsageQueries;
import scorebook.usage.UsageReports;
import scorebook.usage.UsageService;

/** The command line and the wiring: builds the store, the services and the web server. */
public final class Main {
    private static final String USAGE = """
            usage: scorebook COMMAND [options]        (scorebook COMMAND --help: that command's usage)
              serve [--host H] [--port P] [--data DIR] [--evals PATH] [--public-url URL] [--web-dir DIR] [--max-body-mb N]
                    [--allow-private-callbacks] [--metrics-token T]
              run PATH [--session S] [--run-name R] [--concurrency N] [--timeout S] [--dataset D] [--label L]
                       [--data DIR] [--junit FILE]
              user add NAME | user list | user delete NAME            [--data DIR]
              key add [--user NAME] [--name N] | key list [--user NAME] | key revoke ID [--user NAME]   [--data DIR]
              device add --serial S --kind ollama|openai|agent [--url U] [--model M]... [--weight W] [--concurrency C]
                         [--api-key K] | device list | device remove SERIAL            [--user NAME] [--data DIR]
              usage summary|export|import ...   (scorebook usage --help)        [--user NAME] [--data DIR]
              data append DATASET FILE | data list                              [--user NAME] [--data DIR]
              job add --prompt P [--model M] [--priority N] [--tag T] [--device S] | job list [--state S]
                | job show ID | job cancel ID                  [--user NAME] [--data DIR]
              dlq list | dlq requeue ID | dlq delete ID          [--user NAME] [--data DIR]
              backup FILE [--data DIR]      a consistent copy of the database, safe while a server runs
              restore FILE [--data DIR]     replaces the database with FILE (only while no server holds DIR)
              agent --server URL --token T --model M [--upstream URL] [--kind ollama|openai] [--serial S] [--tag T]
            Paths are relative to the current folder; --data defaults to ./data, --evals to ./evals.
            """;
    private static final String SERVE_USAGE = """
            usage: scorebook serve [--host H] [--port P] [--data DIR] [--evals PATH] [--public-url URL]
                                   [--web-dir DIR] [--max-body-mb N] [--metrics-token T]
              --host H          interface to listen on (default 127.0.0.1; 0.0.0.0 for every interface)
              --port P          port (default 8080; 0 picks a free one)
              --data DIR        the data folder: database, owner token (default ./data; made if missing)
              --evals PATH      the eval suites the dashboard runs (default ./evals)
              --public-url URL  the address users open behind a reverse proxy (https://evals.example.com):
                                the login link uses it and dashboard writes from it are accepted
              --web-dir DIR     serve the dashboard from this folder instead of the jar (for its development)
              --max-body-mb N   largest request body in MiB (default 32)
              --allow-private-callbacks  job callback_url may point at loopback, link-local and private addresses
              --metrics-token T a token that may read GET /metrics and /metrics/summary (as Authorization: Bearer T)
                                and nothing else, for a Prometheus scraper (or environment SCOREBOOK_METRICS_TOKEN)
            Environment SCOREBOOK_TOKEN: the owner's token when the data folder is new.
            """;
    private static final Set<String> SERVE_OPTIONS = Set.of("host", "port", "data", "evals", "web-dir", "max-body-mb",
            "public-url", "metrics-token");
    private static final String ALLOW_PRIVATE_CALLBACKS = "allow-private-callbacks";

    private Main() {
    }

    public static void main(String[] args) {
        LogConfig.configureRuntime();
        List<String> words = Arrays.asList(args);
        String command = words.isEmpty() ? "serve" : words.getFirst();
        List<String> rest = words.isEmpty() ? List.of() : words.subList(1, words.size());
        try {
            if (command.equals("help") && !rest.isEmpty()) {
                System.out.print(usage(rest.getFirst(), rest.subList(1, rest.size())));
                return;
            }
            if (Options.wantsHelp(rest)) {
                System.out.print(usage(command, rest));
                return;
            }
            switch (command) {
                case "serve" -> serve(rest);
                case "user", "key" -> System.exit(UserCommands.run(command, rest));
                case "run" -> System.exit(RunCommand.run(rest));
                case "device" -> System.exit(DeviceCommands.run(rest));
                case "usage" -> System.exit(UsageCommands.run(rest));
                case "data" -> System.exit(DataCommands.run(rest));
                case "job", "dlq" -> System.exit(JobCommands.run(command, rest));
                case "agent" -> System.exit(JobAgent.run(rest));
                case "backup", "restore" -> System.exit(BackupCommands.run(command, rest));
                case "train" -> Training.run();
                case "help", "--help", "-h" -> System.out.print(USAGE);
                default -> fail("unknown command '" + command + "'\n" + USAGE);
            }
        } catch (IllegalArgumentException | IllegalStateException | ApiException e) {
            fail(e.getMessage());
        } catch (IOException e) {
            fail(e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail("interrupted");
        }
    }

    /** The usage of a command (and of its verb, for those that have verbs), for --help and {@code help COMMAND}. */
    static String usage(String command, List<String> rest) {
        String verb = rest.stream().filter(w -> !w.startsWith("-")).findFirst().orElse("");
        return switch (command) {
            case "serve" -> SERVE_USAGE;
            case "run" -> RunCommand.USAGE;
            case "user", "key" -> UserCommands.usage(command, verb);
            case "device" -> DeviceCommands.usage(verb);
            case "usage" -> UsageCommands.USAGE;
            case "data" -> DataCommands.USAGE;
            case "backup", "restore" -> BackupCommands.USAGE;
            default -> USAGE;
        };
    }

    private static void serve(List<String> args) {
        // a flag without a value
        boolean allowPrivateCallbacks = args.contains("--" + ALLOW_PRIVATE_CALLBACKS);
        Options o = Options.parse(args.stream().filter(a -> !a.equals("--" + ALLOW_PRIVATE_CALLBACKS)).toList(),
                SERVE_OPTIONS);
        Path data = Path.of(o.get("data", "data")).toAbsolutePath().normalize();
        ServerConfig config = new ServerConfig(
                o.get("host", "127.0.0.1"),
                o.integer("port", 8080, 0, 65535),
                data,
                Path.of(o.get("evals", "evals")).toAbsolutePath().normalize(),
                o.has("web-dir") ? Path.of(o.get("web-dir", "web")).toAbsolutePath() : null,
                o.integer("max-body-mb", 32, 1, 4096) * 1024L * 1024L,
                System.getenv("SCOREBOOK_TOKEN"),
                Clock.systemUTC(),
                o.has("public-url") ? ServerConfig.checkPublicUrl(o.get("public-url", "")) : null,
                allowPrivateCallbacks,
                null);
        String metricsToken = o.has("metrics-token") ? o.get("metrics-token", "") : System.getenv("SCOREBOOK_METRICS_TOKEN");
        if (metricsToken != null && !metricsToken.isEmpty()) {
            config = config.withMetricsToken(metricsToken);
        }
        Running running = start(config);
        Runtime.getRuntime().addShutdownHook(new Thread(running::close));
        String url = "http://" + config.host() + ":" + running.server().port();
        String dashboard = config.publicUrl() != null ? config.publicUrl() : url;
        System.out.println("Scorebook listening on " + url);
        System.out.println(running.loginToken()
                .map(t -> "Dashboard: " + dashboard + "/?token=" + t)
                .orElse("Dashboard: " + dashboard + "/?token=YOUR_TOKEN"));
        System.out.flush();
    }

    /** Opens the data directory and starts serving; the tests start servers the same way. */
    public static Running start(ServerConfig config) {
        DataLock lock = DataLock.acquire(config.dataDir());
        Database db;
        try {
            Ports.checkFree(config.host(), config.port());
            db = Database.open(config.dataDir());
        } catch (RuntimeException e) {
            lock.close();
            throw e;
        }
        try {
            Parts parts = Parts.open(db, config);
            Optional<String> loginToken = Owner.ensure(parts.auth(), config.dataDir(), config.ownerToken());
            parts.evals().markInterrupted();
            parts.evals().deriveMissingColumns();
            WebServer server = WebServer.builder()
                    .host(config.host())
                    .port(config.port())
                    .maxPayloadSize(config.maxBodyBytes())
                    // streamed tokens go out as written: no Nagle wait for the client's delayed ACK
                    .connectionOptions(o -> o.tcpNoDelay(true))
                    .directHandlers(Errors.directHandlers())
                    // Helidon's own message for a request it refuses before routing (framing, headers), in the envelope
                    .errorHandling(e -> e.includeEntity(true))
                    .routing(routing -> routing(routing, db, config, parts))
                    .build()
                    .start();
            if (!server.isRunning() || server.port() < 0) {
                // taken between the check and the bind
                server.stop();
                throw Ports.inUse(config.host(), config.port());
            }
            parts.jobs().start(parts.scheduler());
            parts.retention().start(parts.scheduler());
            return new Running(server, db, loginToken, parts, lock);
        } catch (RuntimeException e) {
            db.close();
            lock.close();
            throw e;
        }
    }

    /**
     * The features' long-lived pieces, made once per server and shared by its services. {@code clock} is the
     * one source of time new features take (leases, backoff, buckets), so tests move time instead of waiting.
     */
    public record Parts(Clock clock, ScheduledExecutorService scheduler, AuthStore auth, EvalStore evals,
                        RunEvents events, Devices devices, EvalRunner runner, UsageQueries usage, UsageReports reports,
                        DatasetStore datasetStore, Datasets datasets, Jobs jobs, Retention retention,
                        Metrics metrics) {
        static Parts open(Database db, ServerConfig config) {
            EvalStore evals = new EvalStore(db, config.clock());
            RunEvents events = new RunEvents();
            // the device service starts and stops the health loop and usage writer with the server
            Devices devices = new Devices(db, config.clock());
            EvalRunner runner = new EvalRunner(evals, new ConfigStore(db), events, new GatewayModels(devices.models()),
                    config.evalPath());
            UsageQueries usage = new UsageQueries(db);
            UsageReports reports = new UsageReports(usage, config.clock());
            DatasetStore datasetStore = new DatasetStore(db);
            Datasets datasets = new Datasets(datasetStore, reports, config.clock());
            ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(
                    Thread.ofPlatform().daemon().name("scheduler").factory());
            Jobs jobs = new Jobs(db, devices, new JobMetricsSink(datasets), config.clock(),
                    config.allowPrivateCallbacks());
            Retention retention = new Retention(new RetentionStore(db), devices.usage(), datasetStore,
                    jobs.service().store(), config.clock());
            Metrics metrics = new Metrics(devices, jobs.service().store(), runner, db, config.clock());
            return new Parts(config.clock(), scheduler, new AuthStore(db), evals, events, devices, runner, usage,
                    reports, datasetStore, datasets, jobs, retention, metrics);
        }
    }

    /** The whole route table. */
    static void routing(HttpRouting.Builder routing, Database db, ServerConfig config, Parts parts) {
        Errors.register(routing);
        routing.addFilter(parts.metrics().requestCounter())
                .addFilter(new HttpGuard())
                .addFilter(new AuthFilter(parts.auth(), config.publicOrigin(), config.metricsToken()))
                .get("/health", (req, res) -> Json.send(res, Map.of("status", "ok")))
                .any("/health", Errors.allow("GET"))
                // first: the worker protocol and enqueues are the busiest requests, and a request is matched against
                // every route registered before its own (8 % of a job's CPU behind the ~110 routes of the others)
                .register(new JobsHttp(parts.jobs().service()))
                .register(new AuthService(parts.auth()))
                .register(new EvalService(parts.evals(), db, parts.runner()::notStarted, parts.runner()::publishAll,
                        config.evalPath().toString()))
                .register(new RunnerService(parts.runner(), parts.evals(), parts.events()))
                .register(new DeviceService(parts.devices()))
                .register(new GatewayService(parts.devices()))
                .register(new OpenApi())
                .register(new UsageService(parts.reports(), parts.devices().usage(), new ImportKeys(db),
                        parts.clock()))
                .register(new DatasetService(parts.datasets(), parts.datasetStore()))
                .register(new ShareService(new ShareStore(db), parts.evals(), parts.clock(), config.publicUrl()))
                .register(new RetentionService(parts.retention().store(), parts.clock()))
                .register(new BackupService(new Backups(db), config.dataDir(), parts.clock()))
                .register(new MetricsService(parts.metrics()))
                .register(new StaticFiles(config.webDir()));
    }

    private static void fail(String message) {
        System.err.println("scorebook: " + message);
        System.exit(2);
    }

    /** A started server, its database and its parts; closing stops them all. */
    public record Running(WebServer server, Database db, Optional<String> loginToken, Parts parts, DataLock lock)
            implements AutoCloseable {
        public int port() {
            return server.port();
        }

        public EvalRunner runner() {
            return parts.runner();
        }

        @Override
        public void close() {
            parts.events().close();
            parts.runner().shutdown();
            parts.jobs().close();
            parts.retention().close();
            parts.scheduler().shutdownNow();
            server.stop();
            db.close();
            lock.close();
        }
    }
}
