package scorebook.store;

import java.nio.file.Path;

/** Opens a database as an older Scorebook left it (migrations before {@code version} only), to test an upgrade. */
public final class OlderSchema {
    private OlderSchema() {
    }

    public static Database openBefore(Path dir, int version) {
        return Database.open(dir, Migrations.packaged().stream().filter(m -> m.version() < version).toList());
    }
}
