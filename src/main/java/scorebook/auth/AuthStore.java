package scorebook.auth;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import scorebook.server.ApiException;
import scorebook.store.Database;

/** SQL for users, API keys and login sessions. Secrets go in; only their hashes are kept. */
public final class AuthStore {
    static final Duration SESSION_LIFETIME = Duration.ofDays(30);

    /** A user as listed (never with a secret). */
    public record User(long id, String name, boolean isOwner, String createdAt) {
    }

    /** An API key as listed: its prefix tells keys apart without revealing them. */
    public record ApiKey(long id, String name, String prefix, String createdAt, String revokedAt) {
    }

    /** A new user together with the token, shown once. */
    public record NewUser(User user, String token) {
    }

    /** A new API key together with its secret, shown once. */
    public record NewKey(ApiKey key, String secret) {
    }

    /**
     * API keys and user tokens seen in the last seconds, so the gateway and the API do not hash and look up
     * the secret on every call (a quarter of a gateway call's CPU; 7 % of a job enqueue's). Revoking a key or
     * deleting a user here clears it; a revocation by another process (the command line) takes effect within
     * {@link #KEY_CACHE}.
     */
    private static final Duration KEY_CACHE = Duration.ofSeconds(2);
    private final ConcurrentHashMap<String, CachedKey> keyCache = new ConcurrentHashMap<>();
    private final AtomicLong keyGeneration = new AtomicLong();

    private record CachedKey(Principal principal, long expiresNs) {
    }

    private final Database db;

    public AuthStore(Database db) {
        this.db = db;
    }

    /**
     * Creates the owner when the database has no users yet. Returns the owner's token when it was
     * made now, else empty.
     */
    public Optional<String> createOwnerIfMissing(String wantedToken) {
        return db.write(h -> {
            boolean any = h.createQuery("SELECT EXISTS (SELECT 1 FROM users)").mapTo(boolean.class).one();
            if (any) {
                return Optional.<String>empty();
            }
            String token = wantedToken != null && !wantedToken.isBlank() ? wantedToken : Tokens.generate("sbu_");
            h.createUpdate("INSERT INTO users (name, token_hash, is_owner, created_at) VALUES ('owner', :hash, 1, :now)")
                    .bind("hash", Tokens.hash(token)).bind("now", now()).execute();
            return Optional.of(token);
        });
    }

    public NewUser addUser(String name) {
        String token = Tokens.generate("sbu_");
        return db.write(h -> {
            boolean taken = h.createQuery("SELECT EXISTS (SELECT 1 FROM users WHERE name = ?)").bind(0, name)
                    .mapTo(boolean.class).one();
            if (taken) {
                throw ApiException.conflict("a user named '" + name + "' already exists");
            }
            long id = h.createUpdate("INSERT INTO users (name, token_hash, is_owner, created_at) VALUES (:name, :hash, 0, :now)")
                    .bind("name", name).bind("hash", Tokens.hash(token)).bind("now", now())
                    .executeAndReturnGeneratedKeys("id").mapTo(long.class).one();
            return new NewUser(userIn(h, id).orElseThrow(), token);
        });
    }

    public List<User> users() {
        return db.read(h -> h.createQuery("SELECT id, name, is_owner, created_at FROM users ORDER BY id")
                .mapTo(User.class).list());
    }

    public Optional<User> user(long id) {
        return db.read(h -> userIn(h, id));
    }

    public Optional<User> userByName(String name) {
        return db.read(h -> h.createQuery("SELECT id, name, is_owner, created_at FROM users WHERE name = ?")
                .bind(0, name).mapTo(User.class).findOne());
    }

    /** Deletes a user and, through the foreign keys, everything they own. The owner cannot go. */
    public void deleteUser(long id) {
        try {
            db.write(h -> {
                User u = userIn(h, id).orElseThrow(() -> ApiException.notFound("no user with id " + id));
                if (u.isOwner()) {
                    throw ApiException.conflict("the owner cannot be deleted");
                }
                return h.createUpdate("DELETE FROM users WHERE id = ?").bind(0, id).execute();
            });
        } finally {
            forgetKeys();
        }
    }

    public NewKey addKey(long userId, String name) {
        String secret = Tokens.generate("sbk_");
        return db.write(h -> {
            long id = h.createUpdate("""
                            INSERT INTO api_keys (user_id, name, prefix, key_hash, created_at)
                            VALUES (:user, :name, :prefix, :hash, :now)""")
                    .bind("user", userId).bind("name", name).bind("prefix", secret.substring(0, 12))
                    .bind("hash", Tokens.hash(secret)).bind("now", now())
                    .executeAndReturnGeneratedKeys("id").mapTo(long.class).one();
            ApiKey key = h.createQuery("SELECT id, name, prefix, created_at, revoked_at FROM api_keys WHERE id = ?")
                    .bind(0, id).mapTo(ApiKey.class).one();
            return new NewKey(key, secret);
        });
    }

    public List<ApiKey> keys(long userId) {
        return db.read(h -> h.createQuery("""
                        SELECT id, name, prefix, created_at, revoked_at FROM api_keys
                        WHERE user_id = ? ORDER BY id""")
                .bind(0, userId).mapTo(ApiKey.class).list());
    }

    /** Revokes one of the user's keys; a key of another user is not found. */
    public void revokeKey(long userId, long keyId) {
        try {
            db.write(h -> {
                int n = h.createUpdate("""
                                UPDATE api_keys SET revoked_at = coalesce(revoked_at, :now)
                                WHERE id = :id AND user_id = :user""")
                        .bind("now", now()).bind("id", keyId).bind("user", userId).execute();
                if (n == 0) {
                    throw ApiException.notFound("no API key with id " + keyId);
                }
                return n;
            });
        } finally {
            forgetKeys(); // after the commit: a lookup racing with it cannot cache the key again
        }
    }

    /** The user holding this token; found users are cached like API keys (every user call asks). */
    public Optional<Principal> byUserToken(String token) {
        return cached("u:" + token, () -> db.read(h -> h.createQuery("SELECT id, name, is_owner FROM users WHERE token_hash = ?")
                .bind(0, Tokens.hash(token))
                .map((rs, ctx) -> new Principal(rs.getLong(1), rs.getString(2), rs.getBoolean(3), null))
                .findOne()));
    }

    public Optional<Principal> byApiKey(String secret) {
        return cached("k:" + secret, () -> lookUpApiKey(secret));
    }

    /** A secret's principal from the cache while it is fresh, else looked up (and kept when found). */
    private Optional<Principal> cached(String key, java.util.function.Supplier<Optional<Principal>> lookUp) {
        CachedKey hit = keyCache.get(key);
        if (hit != null && hit.expiresNs() - System.nanoTime() > 0) {
            return Optional.of(hit.principal());
        }
        long generation = keyGeneration.get();
        Optional<Principal> found = lookUp.get();
        if (found.isPresent()) {
            if (keyCache.size() > 10_000) {
                keyCache.clear();
            }
            keyCache.put(key, new CachedKey(found.get(), System.nanoTime() + KEY_CACHE.toNanos()));
            if (keyGeneration.get() != generation) {
                keyCache.remove(key); // a revocation raced with the read: do not keep what it may have missed
            }
        }
        return found;
    }

    private void forgetKeys() {
        keyGeneration.incrementAndGet();
        keyCache.clear();
    }

    private Optional<Principal> lookUpApiKey(String secret) {
        return db.read(h -> h.createQuery("""
                        SELECT u.id, u.name, u.is_owner, k.id FROM api_keys k JOIN users u ON u.id = k.user_id
                        WHERE k.key_hash = ? AND k.revoked_at IS NULL""")
                .bind(0, Tokens.hash(secret))
                .map((rs, ctx) -> new Principal(rs.getLong(1), rs.getString(2), rs.getBoolean(3), rs.getLong(4)))
                .findOne());
    }

    /** Starts a dashboard session; returns the cookie value (only its hash is stored). */
    public String startSession(long userId) {
        String id = Tokens.generate("sbs_");
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        db.write(h -> h.createUpdate("""
                        INSERT INTO login_sessions (id_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)""")
                .bind(0, Tokens.hash(id)).bind(1, userId).bind(2, now.toString())
                .bind(3, now.plus(SESSION_LIFETIME).toString()).execute());
        return id;
    }

    public Optional<Principal> bySession(String sessionId) {
        return db.read(h -> h.createQuery("""
                        SELECT u.id, u.name, u.is_owner FROM login_sessions s JOIN users u ON u.id = s.user_id
                        WHERE s.id_hash = ? AND s.expires_at > ?""")
                .bind(0, Tokens.hash(sessionId)).bind(1, now())
                .map((rs, ctx) -> new Principal(rs.getLong(1), rs.getString(2), rs.getBoolean(3), null))
                .findOne());
    }

    public void endSession(String sessionId) {
        db.write(h -> h.createUpdate("DELETE FROM login_sessions WHERE id_hash = ?").bind(0, Tokens.hash(sessionId)).execute());
    }

    private static Optional<User> userIn(org.jdbi.v3.core.Handle h, long id) {
        return h.createQuery("SELECT id, name, is_owner, created_at FROM users WHERE id = ?").bind(0, id)
                .mapTo(User.class).findOne();
    }

    private static String now() {
        return Instant.now().truncatedTo(ChronoUnit.MILLIS).toString();
    }
}
