package scorebook.auth;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

import scorebook.store.Database;

/**
 * The owner of a data directory: created with it, with SCOREBOOK_TOKEN as the token or a random one
 * kept in {@code DATA/owner.token} (mode 0600), which the login link can then show.
 */
public final class Owner {
    private Owner() {
    }

    /** Makes sure the owner exists; returns the token the login link may show, when it is known. */
    public static Optional<String> ensure(AuthStore auth, Path dataDir, String envToken) {
        Path file = dataDir.resolve("owner.token");
        String wanted = envToken == null || envToken.isBlank() ? null : envToken;
        Optional<String> created = auth.createOwnerIfMissing(wanted);
        try {
            if (created.isPresent() && wanted == null) {
                Files.deleteIfExists(file);
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.writeString(file, created.get() + "\n");
            }
            Optional<String> candidate = Optional.ofNullable(wanted);
            if (candidate.isEmpty() && Files.isReadable(file)) {
                candidate = Optional.of(Files.readString(file).strip());
            }
            return candidate.filter(t -> auth.byUserToken(t).isPresent());
        } catch (IOException e) {
            throw new IllegalStateException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Opens a data folder for a command, the way the server opens it: the folder and its database are made
     * when missing, migrations run, and the owner is created (SCOREBOOK_TOKEN, or a token in owner.token).
     */
    public static Database open(Path dataDir) {
        Path dir = dataDir.toAbsolutePath().normalize();
        boolean fresh = !Files.exists(dir.resolve(Database.FILE_NAME));
        Database db = Database.open(dir);
        try {
            ensure(new AuthStore(db), dir, System.getenv("SCOREBOOK_TOKEN"));
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
        if (fresh) {
            System.err.println("scorebook: made the data folder " + dir + " (the owner's token is "
                    + (Files.exists(dir.resolve("owner.token")) ? "in " + dir.resolve("owner.token") : "SCOREBOOK_TOKEN") + ")");
        }
        return db;
    }

    /** The owner's user id. */
    public static long id(AuthStore auth) {
        return auth.users().stream().filter(AuthStore.User::isOwner).findFirst()
                .orElseThrow(() -> new IllegalStateException("the data directory has no owner")).id();
    }
}
