package scorebook.runner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SuiteLoaderTest {
    private final Path dir = TestServer.tempDir();

    @AfterEach
    void clean() {
        TestServer.deleteTree(dir);
    }

    private void write(String name, String text) throws IOException {
        Path p = dir.resolve(name);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
    }

    @Test
    void readsTheDocumentedSuiteFormat() throws IOException {
        write("math.yaml", """
                dataset: math
                labels: [smoke]
                target:
                  command: ["python3", "solve.py"]
                timeout: 30
                scorers:
                  - equals
                  - {type: contains, value: "4", key: has_four}
                cases:
                  - {name: add, input: "2+2", reference: "4", labels: [easy], metadata: {level: 1}}
                  - {input: "3*3", reference: "9"}
                  - {file: more_cases.jsonl}
                """);
        write("more_cases.jsonl", "{\"input\": \"1+1\", \"reference\": \"2\"}\n\n{\"name\": \"big\", \"input\": \"9*9\"}\n");
        SuiteLoader.Discovery d = SuiteLoader.discover(dir);
        assertEquals(List.of(), d.errors());
        Suite s = d.suites().getFirst();
        assertEquals("math.yaml", s.file());
        assertEquals("command", s.target().kind());
        assertEquals(30.0, s.timeout());
        assertEquals(List.of("equals", "has_four"), s.scorers().stream().map(Suite.ScorerSpec::key).toList());
        List<Case> cases = s.cases();
        assertEquals(List.of("add", "math[1]", "math[2]", "big"), cases.stream().map(Case::function).toList());
        assertEquals(List.of("smoke", "easy"), cases.get(0).labels());
        assertEquals(List.of("smoke"), cases.get(1).labels());
        assertEquals("math", cases.get(2).dataset());
        assertEquals(1, cases.get(0).metadata().get("level").asInt());
        assertEquals("2", cases.get(2).reference().asText());
        assertNull(cases.get(3).reference());
    }

    @Test
    void datasetDefaultsToTheFileStemAndJsonSuitesWorkRecursively() throws IOException {
        write("nested/deeper/greet.json", """
                {"target": {"http": {"url": "http://127.0.0.1:1/x"}}, "cases": [{"input": "hi"}]}
                """);
        write("_skipped.yaml", "this: [is not read");
        write("notes.txt", "not a suite");
        SuiteLoader.Discovery d = SuiteLoader.discover(dir);
        assertEquals(List.of(), d.errors());
        assertEquals(1, d.suites().size());
        assertEquals("greet", d.cases().getFirst().dataset());
        assertEquals("greet[0]", d.cases().getFirst().function());
        assertEquals(Path.of("nested/deeper/greet.json").toString(), d.suites().getFirst().file());
    }

    @Test
    void mistakesAreReportedWithFileAndLineAndDoNotStopOtherSuites() throws IOException {
        write("a_good.yaml", "target: {command: cat}\ncases:\n  - {input: 1}\n");
        write("bad_yaml.yaml", "target: {command: cat}\ncases:\n  - {input: [1, 2\n");
        write("bad_scorer.yaml", "target: {command: cat}\nscorers:\n  - equals\n  - {type: sentiment}\ncases:\n  - {input: 1}\n");
        write("missing_file.yaml", "target: {command: cat}\ncases:\n  - {input: 1}\n  - {file: nowhere.jsonl}\n");
        write("two_targets.yaml", "target:\n  command: cat\n  http: http://x\ncases:\n  - {input: 1}\n");
        write("bad_case.yaml", "target: {command: cat}\ncases:\n  - {name: x}\n");
        SuiteLoader.Discovery d = SuiteLoader.discover(dir);
        assertEquals(1, d.suites().size());
        assertEquals("a_good.yaml", d.suites().getFirst().file());
        assertEquals(5, d.errors().size(), d.errors().toString());
        SuiteError scorer = find(d, "bad_scorer.yaml");
        assertEquals(4, scorer.line());
        assertTrue(scorer.message().contains("unknown scorer 'sentiment'"), scorer.message());
        SuiteError missing = find(d, "missing_file.yaml");
        assertEquals(4, missing.line());
        assertTrue(missing.message().contains("nowhere.jsonl"), missing.message());
        SuiteError yaml = find(d, "bad_yaml.yaml");
        assertTrue(yaml.line() >= 3, yaml.toString());
        assertTrue(yaml.message().startsWith("cannot parse"), yaml.message());
        assertTrue(find(d, "two_targets.yaml").message().contains("exactly one of command, http, llm"));
        SuiteError noInput = find(d, "bad_case.yaml");
        assertEquals(3, noInput.line());
        assertTrue(noInput.message().contains("needs an input"));
    }

    @Test
    void aMissingEvalPathHasNoSuitesAndNoErrors() {
        SuiteLoader.Discovery d = SuiteLoader.discover(dir.resolve("absent"));
        assertTrue(d.suites().isEmpty() && d.errors().isEmpty());
    }

    private static SuiteError find(SuiteLoader.Discovery d, String file) {
        return d.errors().stream().filter(e -> e.file().equals(file)).findFirst()
                .orElseThrow(() -> new AssertionError("no error for " + file + " in " + d.errors()));
    }
}
