package scorebook.store;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Applies the numbered {@code schema/NNN_name.sql} files packaged in the jar, in order, each in
 * its own transaction and recorded in {@code schema_migrations}; refuses a newer database.
 */
public final class Migrations {
    private static final Pattern FILE = Pattern.compile("(\\d{3})_([a-z0-9_]+)\\.sql");

    /** First line of a migration that must run outside a transaction (VACUUM, auto_vacuum): statement by statement. */
    static final String OUTSIDE_TRANSACTION = "-- scorebook: outside-transaction";

    /** One migration file: its version number, name and SQL text. */
    public record Migration(int version, String name, String sql) {
        boolean outsideTransaction() {
            return sql.startsWith(OUTSIDE_TRANSACTION);
        }
    }

    private Migrations() {
    }

    static void apply(Database db, List<Migration> known) {
        int newestKnown = known.isEmpty() ? 0 : known.getLast().version();
        db.writeWithoutTransaction(h -> {
            h.execute("""
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version    INTEGER PRIMARY KEY,
                        name       TEXT NOT NULL,
                        applied_at TEXT NOT NULL
                    )""");
            int applied = h.createQuery("SELECT coalesce(max(version), 0) FROM schema_migrations").mapTo(int.class).one();
            if (applied > newestKnown) {
                throw new IllegalStateException("the database " + db.file() + " has schema version " + applied
                        + " but this Scorebook knows only up to " + newestKnown
                        + "; it was written by a newer Scorebook: upgrade Scorebook, or use another --data directory");
            }
            for (Migration m : known) {
                if (m.version() <= applied) {
                    continue;
                }
                if (m.outsideTransaction()) {
                    // VACUUM and some PRAGMAs refuse to run in a transaction; such a file must be safe to run again
                    h.createScript(m.sql()).execute();
                }
                h.useTransaction(tx -> {
                    if (!m.outsideTransaction()) {
                        tx.createScript(m.sql()).execute();
                    }
                    tx.createUpdate("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)")
                            .bind(0, m.version()).bind(1, m.name()).bind(2, Instant.now().toString()).execute();
                });
            }
            return null;
        });
    }

    /** The migrations inside the jar (or target/classes), ordered by version. */
    public static List<Migration> packaged() {
        URL url = Migrations.class.getClassLoader().getResource("schema");
        if (url == null) {
            throw new IllegalStateException("no schema/ folder on the classpath: the jar is incomplete");
        }
        try {
            URI uri = url.toURI();
            if ("jar".equals(uri.getScheme())) {
                try (FileSystem fs = FileSystems.newFileSystem(uri, Map.of())) {
                    return read(fs.getPath("/schema"));
                } catch (FileSystemAlreadyExistsException e) {
                    return read(FileSystems.getFileSystem(uri).getPath("/schema"));
                }
            }
            return read(Path.of(uri));
        } catch (IOException | URISyntaxException e) {
            throw new IllegalStateException("cannot read the packaged schema: " + e.getMessage(), e);
        }
    }

    private static List<Migration> read(Path dir) throws IOException {
        List<Migration> found = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.toList()) {
                String fileName = p.getFileName().toString();
                Matcher m = FILE.matcher(fileName);
                if (!m.matches()) {
                    continue;
                }
                try (InputStream in = Files.newInputStream(p)) {
                    found.add(new Migration(Integer.parseInt(m.group(1)), m.group(2),
                            new String(in.readAllBytes(), StandardCharsets.UTF_8)));
                }
            }
        }
        found.sort(Comparator.comparingInt(Migration::version));
        for (int i = 1; i < found.size(); i++) {
            if (found.get(i).version() == found.get(i - 1).version()) {
                throw new IllegalStateException("two migrations share version " + found.get(i).version());
            }
        }
        return found;
    }
}
