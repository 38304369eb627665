package scorebook.runner;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Suites are parsed again only when a file changed, and every change is seen, even one of the same size. */
class SuiteCacheTest {
    private final Path evals = TestServer.tempDir();

    @AfterEach
    void clean() {
        TestServer.deleteTree(evals);
    }

    @Test
    void anUnchangedSuiteIsNotParsedAgainAndEveryEditIsSeen() throws Exception {
        Files.writeString(evals.resolve("math.yaml"), "target: {command: cat}\ncases:\n  - {input: a, reference: '4'}\n  - {file: more.jsonl}\n");
        Files.writeString(evals.resolve("more.jsonl"), "{\"input\": \"b\", \"reference\": \"7\"}\n");
        Suite first = SuiteLoader.discover(evals).suites().getFirst();
        assertSame(first, SuiteLoader.discover(evals).suites().getFirst());

        // the same size, written at once: a modification time could miss it, the checksum does not
        Files.writeString(evals.resolve("math.yaml"), "target: {command: cat}\ncases:\n  - {input: a, reference: '5'}\n  - {file: more.jsonl}\n");
        Suite edited = SuiteLoader.discover(evals).suites().getFirst();
        assertEquals("5", edited.cases().getFirst().reference().asText());

        // a case file the suite names counts as part of it
        Files.writeString(evals.resolve("more.jsonl"), "{\"input\": \"b\", \"reference\": \"8\"}\n");
        assertEquals("8", SuiteLoader.discover(evals).suites().getFirst().cases().get(1).reference().asText());

        // a mistake is seen at once too, and its fix
        Files.writeString(evals.resolve("math.yaml"), "target: {command: cat}\ncases: []\n");
        assertTrue(SuiteLoader.discover(evals).suites().isEmpty());
        assertEquals(1, SuiteLoader.discover(evals).errors().size());
        Files.writeString(evals.resolve("math.yaml"), "target: {command: cat}\ncases: [{input: z}]\n");
        assertEquals("z", SuiteLoader.discover(evals).suites().getFirst().cases().getFirst().input().asText());
    }
}
