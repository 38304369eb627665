package scorebook.testing;

import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import org.sqlite.SQLiteConfig;

/**
 * A checksum of every table's content in a server's SQLite file, read through a read-only connection of its own
 * (WAL mode lets it read beside the running server): equal checksums before and after a request mean the request
 * changed no stored data.
 */
public final class DbChecksum {
    private DbChecksum() {
    }

    /** Table name → SHA-256 of its rows in the order of their columns, for every table but those named in {@code ignored}. */
    public static Map<String, String> of(Path dataDir, Set<String> ignored) {
        SQLiteConfig config = new SQLiteConfig();
        config.setReadOnly(true);
        config.setBusyTimeout(10_000);
        String url = "jdbc:sqlite:" + dataDir.resolve("scorebook.db");
        try (Connection c = DriverManager.getConnection(url, config.toProperties()); Statement s = c.createStatement()) {
            List<String> tables = new ArrayList<>();
            try (ResultSet t = s.executeQuery(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")) {
                while (t.next()) {
                    tables.add(t.getString(1));
                }
            }
            Map<String, String> sums = new TreeMap<>();
            for (String table : tables) {
                if (!ignored.contains(table)) {
                    sums.put(table, hash(s, table));
                }
            }
            return sums;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read " + url + ": " + e.getMessage(), e);
        }
    }

    public static Map<String, String> of(Path dataDir) {
        return of(dataDir, Set.of());
    }

    private static String hash(Statement s, String table) throws SQLException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        int n;
        try (ResultSet none = s.executeQuery("SELECT * FROM \"" + table + "\" LIMIT 0")) {
            n = none.getMetaData().getColumnCount();
        }
        // ordered by every column: tables WITHOUT ROWID have no rowid to order by
        StringBuilder order = new StringBuilder("1");
        for (int i = 2; i <= n; i++) {
            order.append(", ").append(i);
        }
        try (ResultSet rows = s.executeQuery("SELECT * FROM \"" + table + "\" ORDER BY " + order)) {
            while (rows.next()) {
                for (int i = 1; i <= n; i++) {
                    byte[] b = rows.getBytes(i);
                    digest.update(b == null ? new byte[] {0} : b);
                    digest.update((byte) 0x1f);
                }
                digest.update((byte) 0x1e);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** The names of the tables whose checksum differs, for a message. */
    public static List<String> changed(Map<String, String> before, Map<String, String> after) {
        List<String> out = new ArrayList<>();
        after.forEach((t, h) -> {
            if (!h.equals(before.get(t))) {
                out.add(t);
            }
        });
        before.keySet().stream().filter(t -> !after.containsKey(t)).forEach(out::add);
        return out;
    }
}
