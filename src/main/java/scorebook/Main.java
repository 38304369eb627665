package scorebook;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import io.helidon.logging.common.LogConfig;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;

import scorebook.auth.AuthFilter;
import scorebook.auth.AuthService;
import scorebook.auth.AuthStore;
import scorebook.auth.Owner;
import scorebook.auth.UserCommands;
import scorebook.devices.DeviceCommands;
import scorebook.devices.DeviceService;
import scorebook.devices.Devices;
import scorebook.evals.ConfigStore;
import scorebook.evals.EvalService;
import scorebook.evals.EvalStore;
import scorebook.gateway.GatewayService;
import scorebook.runner.EvalRunner;
import scorebook.runner.GatewayModels;
import scorebook.runner.RunCommand;
import scorebook.runner.RunEvents;
import scorebook.runner.RunnerService;
import scorebook.server.ApiException;
import scorebook.server.Errors;
import scorebook.server.Json;
import scorebook.server.Options;
import scorebook.server.ServerConfig;
import scorebook.server.StaticFiles;
import scorebook.server.Training;
import scorebook.store.Database;

/** The command line and the wiring: builds the store, the services and the web server. */
public final class Main {
    private static final String USAGE = """
            usage: scorebook COMMAND [options]
              serve [--host H] [--port P] [--data DIR] [--evals PATH] [--web-dir DIR] [--max-body-mb N]
              run PATH [--session S] [--run-name R] [--concurrency N] [--timeout S] [--dataset D] [--label L]
                       [--data DIR] [--junit FILE]
              user add NAME | user list | user delete NAME            [--data DIR]
              key add [--user NAME] [--name N] | key list [--user NAME] | key revoke ID [--user NAME]   [--data DIR]
              device add --serial S --kind ollama|openai|agent [--url U] [--model M]... [--weight W] [--concurrency C]
                | device list | device remove SERIAL            [--user NAME] [--data DIR]
            """;
    private static final Set<String> SERVE_OPTIONS = Set.of("host", "port", "data", "evals", "web-dir", "max-body-mb");

    private Main() {
    }

    public static void main(String[] args) {
        LogConfig.configureRuntime();
        List<String> words = Arrays.asList(args);
        String command = words.isEmpty() ? "serve" : words.getFirst();
        List<String> rest = words.isEmpty() ? List.of() : words.subList(1, words.size());
        try {
            switch (command) {
                case "serve" -> serve(Options.parse(rest, SERVE_OPTIONS));
                case "user", "key" -> System.exit(UserCommands.run(command, rest));
                case "run" -> System.exit(RunCommand.run(rest));
                case "device" -> System.exit(DeviceCommands.run(rest));
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

    private static void serve(Options o) {
        Path data = Path.of(o.get("data", "data")).toAbsolutePath();
        ServerConfig config = new ServerConfig(
                o.get("host", "127.0.0.1"),
                o.integer("port", 8080, 0, 65535),
                data,
                Path.of(o.get("evals", "evals")).toAbsolutePath(),
                o.has("web-dir") ? Path.of(o.get("web-dir", "web")).toAbsolutePath() : null,
                o.integer("max-body-mb", 32, 1, 4096) * 1024L * 1024L,
                System.getenv("SCOREBOOK_TOKEN"),
                Clock.systemUTC());
        Running running = start(config);
        Runtime.getRuntime().addShutdownHook(new Thread(running::close));
        String url = "http://" + config.host() + ":" + running.server().port();
        System.out.println("Scorebook listening on " + url);
        System.out.println(running.loginToken()
                .map(t -> "Dashboard: " + url + "/?token=" + t)
                .orElse("Dashboard: " + url + "/?token=YOUR_TOKEN"));
        System.out.flush();
    }

    /** Opens the data directory and starts serving; the tests start servers the same way. */
    public static Running start(ServerConfig config) {
        Database db = Database.open(config.dataDir());
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
                    .routing(routing -> routing(routing, db, config, parts))
                    .build()
                    .start();
            return new Running(server, db, loginToken, parts);
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    /**
     * The features' long-lived pieces, made once per server and shared by its services. {@code clock} is the
     * one source of time new features take (leases, backoff, buckets), so tests move time instead of waiting.
     */
    public record Parts(Clock clock, AuthStore auth, EvalStore evals, RunEvents events, Devices devices,
                        EvalRunner runner) {
        static Parts open(Database db, ServerConfig config) {
            EvalStore evals = new EvalStore(db);
            RunEvents events = new RunEvents();
            // the device service starts and stops the health loop and usage writer with the server
            Devices devices = new Devices(db);
            EvalRunner runner = new EvalRunner(evals, new ConfigStore(db), events, new GatewayModels(devices.models()),
                    config.evalPath());
            return new Parts(config.clock(), new AuthStore(db), evals, events, devices, runner);
        }
    }

    /** The whole route table. */
    static void routing(HttpRouting.Builder routing, Database db, ServerConfig config, Parts parts) {
        Errors.register(routing);
        routing.addFilter(new AuthFilter(parts.auth()))
                .get("/health", (req, res) -> Json.send(res, Map.of("status", "ok")))
                .register(new AuthService(parts.auth()))
                .register(new EvalService(db, parts.clock(), parts.runner()::notStarted, config.evalPath().toString()))
                .register(new RunnerService(parts.runner(), parts.evals(), parts.events()))
                .register(new DeviceService(parts.devices()))
                .register(new GatewayService(parts.devices()))
                .register(new StaticFiles(config.webDir()));
    }

    private static void fail(String message) {
        System.err.println("scorebook: " + message);
        System.exit(2);
    }

    /** A started server, its database and its parts; closing stops them all. */
    public record Running(WebServer server, Database db, Optional<String> loginToken, Parts parts) implements AutoCloseable {
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
            server.stop();
            db.close();
        }
    }
}
