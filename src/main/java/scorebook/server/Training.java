package scorebook.server;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

import scorebook.Main;

/**
 * The {@code train} command: a short, typical session against a throw-away data directory, run
 * once by run.sh under {@code -XX:AOTCacheOutput} so that later starts load classes from the cache.
 */
public final class Training {
    private Training() {
    }

    public static void run() {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("scorebook-train");
            String token = "train-token";
            try (Main.Running running = Main.start(ServerConfig.local(dir, token))) {
                HttpClient client = HttpClient.newHttpClient();
                String base = "http://127.0.0.1:" + running.port();
                for (String path : new String[] {"/health", "/api/me", "/api/keys", "/", "/no-such-page"}) {
                    send(client, HttpRequest.newBuilder(URI.create(base + path)).header("X-User-Token", token).GET().build());
                }
                send(client, HttpRequest.newBuilder(URI.create(base + "/api/keys")).header("X-User-Token", token)
                        .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"train\"}")).build());
                send(client, HttpRequest.newBuilder(URI.create(base + "/api/keys")).header("X-User-Token", token)
                        .POST(HttpRequest.BodyPublishers.ofString("{bad json")).build());
            }
        } catch (IOException e) {
            throw new IllegalStateException("training run failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            deleteTree(dir);
        }
    }

    private static void send(HttpClient client, HttpRequest request) throws IOException, InterruptedException {
        client.send(request, HttpResponse.BodyHandlers.ofByteArray());
    }

    private static void deleteTree(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temp folder left behind is harmless
        }
    }
}
