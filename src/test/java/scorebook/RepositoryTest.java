package scorebook;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** What the repository holds: no data folder, database or token, and the ignore rules that keep them out. */
class RepositoryTest {
    private static final Path ROOT = Path.of("").toAbsolutePath();

    @Test
    void noDatabaseTokenOrLockIsCommitted() throws Exception {
        assumeTrue(Files.isDirectory(ROOT.resolve(".git")) || Files.isRegularFile(ROOT.resolve(".git")),
                "skipped: not a git checkout (a source archive has no history to check)");
        Process p = new ProcessBuilder("git", "ls-files").directory(ROOT.toFile()).redirectErrorStream(true).start();
        List<String> files = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join("\n", files));
        List<String> strays = files.stream().filter(f -> {
            String name = Path.of(f).getFileName().toString();
            return name.equals("owner.token") || name.equals("server.lock") || name.matches(".*\\.db(-wal|-shm|-journal)?")
                    || name.endsWith(".aot") || f.startsWith("data/") || f.startsWith("target/");
        }).toList();
        assertEquals(List.of(), strays, "generated files are committed");
    }

    @Test
    void theIgnoreRulesCoverDataFolders() throws Exception {
        List<String> rules = Files.readAllLines(ROOT.resolve(".gitignore"));
        for (String rule : List.of("data/", "*.db", "*.db-wal", "*.db-shm", "owner.token", "*.aot", "server.lock", "target/")) {
            assertTrue(rules.contains(rule), ".gitignore lacks " + rule);
        }
    }
}
