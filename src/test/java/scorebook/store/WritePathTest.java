package scorebook.store;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;

import scorebook.testing.Client;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;

class WritePathTest {

    @Test
    void manyConcurrentWritersThroughTheApiAllSucceed() throws Exception {
        try (TestServer server = TestServer.start(); ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Client.Response>> results = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                int n = i;
                results.add(pool.submit(() -> server.owner().post("/api/keys", "{\"name\": \"k" + n + "\"}")));
            }
            for (Future<Client.Response> f : results) {
                Client.Response r = f.get();
                assertEquals(201, r.status(), r.text());
            }
            assertEquals(200, server.owner().get("/api/keys").json().path("keys").size());
        }
    }

    @Test
    void aSecondProcessWritingTheSameFileWaitsInsteadOfFailing() throws Exception {
        Path dir = TestServer.tempDir();
        try (Database a = Database.open(dir); Database b = Database.open(dir);
             ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> writes = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                int n = i;
                Database db = n % 2 == 0 ? a : b;
                writes.add(pool.submit(() -> db.write(h -> h.execute(
                        "INSERT INTO users (name, token_hash, created_at) VALUES (?, ?, 'now')", "u" + n, "h" + n))));
            }
            for (Future<?> f : writes) {
                f.get();
            }
            assertEquals(100, (int) a.read(h -> h.createQuery("SELECT count(*) FROM users").mapTo(int.class).one()));
        } finally {
            TestServer.deleteTree(dir);
        }
    }
}
