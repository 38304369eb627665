package scorebook.share;

import java.util.List;
import java.util.Optional;

import scorebook.store.Database;

/** Share links ({@code share_links}): tokens go in, only their hashes are kept. */
public final class ShareStore {
    private final Database db;

    public ShareStore(Database db) {
        this.db = db;
    }

    /**
     * A link as stored.
     *
     * @param id        its number (the list and DELETE name it by this too)
     * @param userId    whose data it opens
     * @param userName  their name
     * @param prefix    the token's first characters, to tell links apart
     * @param kind      run, usage, jobs or devices
     * @param scope     the scope's JSON
     * @param createdAt when made
     * @param expiresMs when it stops working (epoch ms), or null
     * @param revokedAt when revoked, or null
     */
    public record Link(long id, long userId, String userName, String prefix, String kind, String scope, String createdAt,
                       Long expiresMs, String revokedAt) {
    }

    private static final String SELECT = """
            SELECT s.id, s.user_id, u.name AS user_name, s.prefix, s.kind, s.scope, s.created_at, s.expires_ms, s.revoked_at
            FROM share_links s JOIN users u ON u.id = s.user_id""";

    public Link add(long userId, String tokenHash, String prefix, String kind, String scope, String nowIso, Long expiresMs) {
        return db.write(h -> {
            long id = h.createUpdate("""
                            INSERT INTO share_links (user_id, token_hash, prefix, kind, scope, created_at, expires_ms)
                            VALUES (:user, :hash, :prefix, :kind, :scope, :now, :expires)""")
                    .bind("user", userId).bind("hash", tokenHash).bind("prefix", prefix).bind("kind", kind)
                    .bind("scope", scope).bind("now", nowIso).bind("expires", expiresMs)
                    .executeAndReturnGeneratedKeys("id").mapTo(long.class).one();
            return h.createQuery(SELECT + " WHERE s.id = :id").bind("id", id).mapTo(Link.class).one();
        });
    }

    /** The link with this token's hash, revoked or not. */
    public Optional<Link> byHash(String tokenHash) {
        return db.read(h -> h.createQuery(SELECT + " WHERE s.token_hash = :hash").bind("hash", tokenHash)
                .mapTo(Link.class).findOne());
    }

    /** The user's links, newest first, revoked ones included. */
    public List<Link> list(long userId) {
        return db.read(h -> h.createQuery(SELECT + " WHERE s.user_id = :user ORDER BY s.id DESC").bind("user", userId)
                .mapTo(Link.class).list());
    }

    /** Revokes the user's link named by its token hash or its id; false when the user has no such live link. */
    public boolean revoke(long userId, String tokenHash, Long id, String nowIso) {
        return db.write(h -> h.createUpdate("""
                        UPDATE share_links SET revoked_at = :now
                        WHERE user_id = :user AND revoked_at IS NULL AND (token_hash = :hash OR id = :id)""")
                .bind("now", nowIso).bind("user", userId).bind("hash", tokenHash).bind("id", id).execute() > 0);
    }
}
