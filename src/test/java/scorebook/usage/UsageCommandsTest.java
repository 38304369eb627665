package scorebook.usage;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.datasets.DataCommands;
import scorebook.server.Json;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code scorebook usage ...} and {@code scorebook data ...} on a data directory a server is running on. */
class UsageCommandsTest {
    @AutoClose
    static final TestServer server = TestServer.start();

    /** Runs a command, answering its exit code and what it printed. */
    private static String[] run(Callable<Integer> command) throws Exception {
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            int rc = command.call();
            return new String[] {String.valueOf(rc), out.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setOut(old);
        }
    }

    @Test
    void dataAppendThenUsageSummaryExportImport() throws Exception {
        String data = server.dataDir().toString();
        server.owner().post("/user/data/save_adapter", "{\"dataset\": \"cli\", \"x_field\": \"ts\", \"latency_ms_field\": \"ms\"}");
        Path rows = server.dataDir().resolve("rows.jsonl");
        long now = System.currentTimeMillis();
        Files.writeString(rows, "{\"ts\": " + (now - 60_000) + ", \"ms\": 100}\n{\"ts\": " + (now - 30_000) + ", \"ms\": 300}\n");
        String[] appended = run(() -> DataCommands.run(List.of("append", "cli", rows.toString(), "--data", data)));
        assertEquals("0", appended[0], appended[1]);
        JsonNode a = Json.MAPPER.readTree(appended[1]);
        assertEquals(2, a.path("appended").asInt());
        assertEquals(2, a.path("usage_recorded").asInt());
        String[] list = run(() -> DataCommands.run(List.of("list", "--data", data)));
        assertTrue(list[1].startsWith("cli\t2 rows"), list[1]);

        String[] summary = run(() -> UsageCommands.run(List.of("summary", "--minutes", "10", "--dataset", "cli", "--data", data)));
        assertEquals("0", summary[0]);
        JsonNode s = Json.MAPPER.readTree(summary[1]);
        assertEquals(2, s.path("requests").asInt());
        assertEquals(300.0, s.path("latency_ms").path("max").asDouble());

        Path csv = server.dataDir().resolve("usage.csv");
        assertEquals("0", run(() -> UsageCommands.run(List.of("export", "--out", csv.toString(), "--minutes", "10",
                "--data", data)))[0]);
        assertEquals(3, Files.readAllLines(csv).size());
        String[] again = run(() -> UsageCommands.run(List.of("import", csv.toString(), "--data", data)));
        JsonNode r = Json.MAPPER.readTree(again[1]);
        assertEquals(0, r.path("imported").asInt());
        assertEquals(2, r.path("duplicates").asInt());
        Path bad = server.dataDir().resolve("bad.jsonl");
        Files.writeString(bad, "{\"ts\": \"never\"}\n");
        assertEquals("1", run(() -> UsageCommands.run(List.of("import", bad.toString(), "--strict", "--data", data)))[0]);

        String[] help = run(() -> UsageCommands.run(List.of("--help")));
        assertTrue(help[1].contains("usage: scorebook usage summary"));
        assertTrue(run(() -> DataCommands.run(List.of("--help")))[1].contains("scorebook data append"));
    }
}
