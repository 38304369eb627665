package scorebook.backup;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.regex.Pattern;

import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.auth.Principal;
import scorebook.server.ApiException;
import scorebook.server.Errors;
import scorebook.server.Json;

/**
 * Online backups of the database, by the owner.
 * <pre>
 * POST /api/admin/backup   {"name"?}  writes DATA/backups/NAME (default scorebook-YYYYMMDDTHHMMSSZ.db) while serving
 *   curl -H "X-User-Token: $OWNER" -X POST http://127.0.0.1:8080/api/admin/backup
 *   curl -H "X-User-Token: $OWNER" -d '{"name":"before-upgrade.db"}' http://127.0.0.1:8080/api/admin/backup
 * </pre>
 */
public final class BackupService implements HttpService {
    /** A plain file name: no folders, no leading dot, so a backup lands only in DATA/backups/. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private final Backups backups;
    private final Path folder;
    private final Clock clock;

    public BackupService(Backups backups, Path dataDir, Clock clock) {
        this.backups = backups;
        this.folder = dataDir.resolve("backups");
        this.clock = clock;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/api/admin/backup", this::backup)
                .any("/api/admin/backup", Errors.allow("POST"));
    }

    private void backup(ServerRequest req, ServerResponse res) {
        Principal.owner(req);
        ObjectNode body = Json.object(req);
        Path target = folder.resolve(name(body.get("name")));
        if (Files.exists(target)) {
            throw ApiException.conflict("a backup named '" + target.getFileName() + "' already exists");
        }
        long size = backups.backupTo(target);
        Json.send(res, Status.CREATED_201, Json.fields("ok", true, "path", target.toString(), "size", size));
    }

    private String name(JsonNode raw) {
        if (raw == null || raw.isNull()) {
            return "scorebook-" + Backups.STAMP.format(clock.instant()) + ".db";
        }
        if (!raw.isTextual() || !NAME.matcher(raw.asText()).matches() || raw.asText().endsWith(".partial")) {
            throw ApiException.invalid("'name' must be a file name of letters, digits, '.', '_' and '-' "
                    + "(at most 128, starting with a letter or digit)");
        }
        return raw.asText();
    }
}
