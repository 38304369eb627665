package scorebook.jobs;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;

import org.jdbi.v3.core.Handle;

/**
 * Prepared statements of the job queue's hot writes, kept open on the database's single writer connection and
 * used only inside its write transactions (so only under the writer lock, one thread at a time). Through Jdbi, each
 * complete and claim prepared its statements again, bound them by name and looked their columns up by name: most
 * of their CPU in the profile of the jobs benchmark.
 */
final class WriterStatements {
    private final Map<String, PreparedStatement> open = new HashMap<>();
    private Connection connection;

    /** The statement for {@code sql} on the handle's connection, its parameters cleared. Inside db.write only. */
    PreparedStatement get(Handle h, String sql) throws SQLException {
        Connection c = h.getConnection();
        if (c != connection) {
            for (PreparedStatement ps : open.values()) {
                try {
                    ps.close();
                } catch (SQLException e) {
                    // the old connection is gone with its statements
                }
            }
            open.clear();
            connection = c;
        }
        PreparedStatement ps = open.get(sql);
        if (ps == null || ps.isClosed()) {
            ps = c.prepareStatement(sql);
            open.put(sql, ps);
        } else {
            ps.clearParameters();
        }
        return ps;
    }
}
