package scorebook.jobs;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.testing.Client;
import scorebook.testing.Tenant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static scorebook.jobs.JobsFixture.agent;
import static scorebook.jobs.JobsFixture.claimOne;
import static scorebook.jobs.JobsFixture.enqueue;

/** {@code scorebook job ...} and {@code scorebook dlq ...} on the data directory of a running server. */
class JobCommandsTest {
    @AutoClose
    static final JobsFixture F = new JobsFixture();

    /** Runs a command, returning its exit code and what it printed. */
    private record Ran(int code, String out) {
    }

    private static synchronized Ran cli(String noun, String... args) {
        PrintStream saved = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            List<String> all = new java.util.ArrayList<>(List.of(args));
            all.addAll(List.of("--data", F.server.dataDir().toString()));
            int code = JobCommands.run(noun, all);
            return new Ran(code, buf.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(saved);
        }
    }

    @Test
    void helpPrintsTheUsage() {
        assertTrue(cli("job", "--help").out().contains("scorebook job add --prompt P"));
        assertTrue(cli("dlq", "--help").out().contains("scorebook dlq requeue ID"));
    }

    @Test
    void jobsAddedListShowAndCancelThroughTheSameRules() {
        Ran added = cli("job", "add", "--prompt", "hello", "--model", "m", "--priority", "2", "--tag", "cli");
        assertEquals(0, added.code());
        String id = added.out().strip().split("\t")[0];
        JsonNode j = F.server.owner().get("/api/jobs/" + id).json();
        assertEquals(2, j.path("priority").asInt());
        assertEquals("cli", j.path("queue_tag").asText());
        assertTrue(cli("job", "list", "--state", "queued").out().contains(id));
        assertTrue(cli("job", "show", id).out().contains("\"state\" : \"queued\""));
        assertTrue(cli("job", "cancel", id).out().contains("cancelled"));
        assertEquals("cancelled", F.server.owner().get("/api/jobs/" + id).json().path("state").asText());
        assertEquals(1, cli("job", "cancel", id).code(), "an ended job cannot be cancelled");
        assertThrows(IllegalArgumentException.class, () -> cli("job", "add", "--prompt", "x", "--priority", "12"));
        assertEquals(1, cli("job", "add", "--prompt", "x", "--user", "nobody").code());
    }

    @Test
    void theDeadLetterQueueListsRequeuesAndDeletes() {
        Tenant t = F.tenant();
        Client a = agent(t, "dlq-cli", "[\"m\"]", null);
        String id = enqueue(t, "{\"prompt\":\"x\",\"model\":\"m\",\"max_attempts\":1}").path("job_id").asText();
        JsonNode c = claimOne(a, "{}");
        a.post("/worker/jobs/" + id + "/fail", "{\"lease_id\":\"" + c.path("lease_id").asText()
                + "\",\"error\":{\"type\":\"oom\",\"message\":\"too big\"}}");
        Ran listed = cli("dlq", "list");
        assertTrue(listed.out().contains(id) && listed.out().contains("oom: too big") && listed.out().contains(t.name()),
                "the owner's view shows every user's failed jobs: " + listed.out());
        assertEquals(0, cli("dlq", "list", "--user", t.name()).code());
        assertTrue(cli("dlq", "requeue", id, "--user", t.name(), "--priority", "0").out().contains("queued"));
        assertEquals(0, t.user().get("/api/jobs/" + id).json().path("priority").asInt());
        F.clock.advance(java.time.Duration.ofMinutes(1)); // the command line runs on the real clock, ahead of the server's
        JsonNode again = claimOne(a, "{}");
        a.post("/worker/jobs/" + id + "/fail", "{\"lease_id\":\"" + again.path("lease_id").asText()
                + "\",\"error\":{\"type\":\"oom\",\"message\":\"still\"}}");
        assertTrue(cli("dlq", "delete", id, "--user", t.name()).out().contains("deleted"));
        assertEquals(404, t.user().get("/api/jobs/" + id).status());
    }
}
