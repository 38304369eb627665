package scorebook.evals;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import scorebook.server.Json;
import scorebook.testing.Client;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GET /api/runs/{id}/rows over the nine mini rows: every filter, search, sorting, paging and bad parameters. */
class RowsTest {
    @AutoClose
    private static final TestServer server = TestServer.start();

    @Test
    void unfilteredPageMatchesResults() throws Exception {
        Client c = Fixtures.otherUser(server, "rows-plain");
        String id = Fixtures.mini(c, "mini", "one");
        JsonNode results = c.get("/results").json();
        Client.Response r = c.get("/api/runs/" + id + "/rows");
        assertEquals(200, r.status(), r.text());
        JsonNode j = r.json();
        assertEquals(List.of("run_id", "session_name", "run_name", "total", "filtered", "offset", "limit", "rows", "chips",
                "average_latency", "totals", "datasets", "labels"), Fixtures.fields(j));
        assertEquals(id, j.path("run_id").asText());
        assertEquals(9, j.path("total").asInt());
        assertEquals(9, j.path("filtered").asInt());
        assertEquals(0, j.path("offset").asInt());
        assertEquals(50, j.path("limit").asInt());
        assertEquals(results.path("score_chips"), j.path("chips"));
        assertEquals(results.path("average_latency"), j.path("average_latency"));
        for (String f : List.of("total_evaluations", "selected_total", "total_errors", "total_passed", "average_latency")) {
            assertEquals(results.path(f), j.path("totals").path(f), f);
        }
        assertEquals(9, j.path("rows").size());
        for (int i = 0; i < 9; i++) {
            ObjectNode expected = Json.MAPPER.createObjectNode().put("index", i);
            expected.setAll((ObjectNode) results.path("results").get(i));
            assertEquals(expected, j.path("rows").get(i));
            assertEquals("index", j.path("rows").get(i).fieldNames().next());
        }
        // latest is the active run
        assertEquals(j, c.get("/api/runs/latest/rows").json());
        // the run's datasets and labels, sorted, whichever rows a page shows
        java.util.TreeSet<String> datasets = new java.util.TreeSet<>();
        java.util.TreeSet<String> labels = new java.util.TreeSet<>();
        results.path("results").forEach(row -> {
            if (row.hasNonNull("dataset")) {
                datasets.add(row.path("dataset").asText());
            }
            row.path("labels").forEach(l -> labels.add(l.asText()));
        });
        assertTrue(datasets.size() > 1 && !labels.isEmpty(), datasets + " " + labels);
        JsonNode narrow = c.get("/api/runs/" + id + "/rows?limit=1&dataset_in=" + datasets.first()).json();
        assertEquals(List.copyOf(datasets), Json.MAPPER.convertValue(narrow.path("datasets"), List.class));
        assertEquals(List.copyOf(labels), Json.MAPPER.convertValue(narrow.path("labels"), List.class));
    }

    @Test
    void aWriteByAnotherProcessIsSeenAtOnce() {
        Client c = Fixtures.otherUser(server, "rows-other-writer");
        String id = Fixtures.mini(c, "mini", "one");
        String path = "/api/runs/" + id + "/rows?sort=-latency&status=completed";
        List<Integer> before = indices(c, path);
        assertEquals(before, indices(c, path));   // now cached
        // another connection to the file, as the command line has: the server's write count does not see it
        try (var other = scorebook.store.Database.open(server.dataDir())) {
            other.write(h -> h.createUpdate("UPDATE eval_results SET status = 'error' WHERE idx = :idx"
                            + " AND run_pk = (SELECT id FROM eval_runs WHERE run_id = :id)")
                    .bind("idx", before.getFirst()).bind("id", id).execute());
        }
        assertEquals(before.subList(1, before.size()), indices(c, path));
    }

    @Test
    void everyFilterSelectsItsRows() {
        Client c = Fixtures.otherUser(server, "rows-filters");
        String id = Fixtures.mini(c, "mini", "one");
        Client.Response edit = c.patch("/api/runs/latest/results/1", "{\"result\": {\"annotation\": \"look again\"}}");
        assertEquals(200, edit.status(), edit.text());
        String rows = "/api/runs/" + id + "/rows?";
        assertEquals(List.of(1), indices(c, rows + "annotation=yes"));
        assertEquals(List.of(0, 2, 3, 4, 5, 6, 7, 8), indices(c, rows + "annotation=no"));
        assertEquals(9, indices(c, rows + "annotation=any").size());
        assertEquals(List.of(2), indices(c, rows + "has_error=1"));
        assertEquals(List.of(0, 1, 3, 4, 5, 6, 7, 8), indices(c, rows + "has_error=0"));
        assertEquals(List.of(0), indices(c, rows + "has_url=1"));
        assertEquals(8, indices(c, rows + "has_url=0").size());
        assertEquals(List.of(0), indices(c, rows + "has_messages=1"));
        assertEquals(8, indices(c, rows + "has_messages=0").size());
        assertEquals(List.of(0), indices(c, rows + "score_value=quality,gt,0.5"));
        assertEquals(List.of(0, 1), indices(c, rows + "score_value=quality,gte,0.3"));
        assertEquals(List.of(1), indices(c, rows + "score_value=quality,lt,0.8"));
        assertEquals(List.of(0, 1), indices(c, rows + "score_value=quality,lte,0.8"));
        assertEquals(List.of(5), indices(c, rows + "score_value=num,eq,0.5"));
        assertEquals(List.of(1), indices(c, rows + "score_value=quality,neq,0.8"));
        assertEquals(List.of(0, 6, 7, 8), indices(c, rows + "score_passed=accuracy,true"));
        assertEquals(List.of(1), indices(c, rows + "score_passed=accuracy,false"));
        assertEquals(List.of(0, 1, 6, 7, 8), indices(c, rows + "dataset_in=qa&dataset_in=slow"));
        assertEquals(List.of(0, 1, 5, 6, 7, 8), indices(c, rows + "dataset_out=misc"));
        assertEquals(List.of(5), indices(c, rows + "dataset_out=misc&dataset_out=qa&dataset_out=slow"));
        assertEquals(List.of(1), indices(c, rows + "label_in=hard"));
        assertEquals(List.of(0, 1), indices(c, rows + "label_in=hard&label_in=smoke"));
        assertEquals(List.of(2, 3, 4, 5, 6, 7, 8), indices(c, rows + "label_out=smoke"));
        assertEquals(List.of(0), indices(c, rows + "label_in=smoke&label_out=hard"));
        assertEquals(List.of(2), indices(c, rows + "status=error"));
        assertEquals(9, indices(c, rows + "status=completed&status=error").size());
        // filters combine with AND; a rule on a key the row lacks fails it
        assertEquals(List.of(0), indices(c, rows + "dataset_in=qa&score_passed=accuracy,true"));
        assertEquals(List.of(), indices(c, rows + "score_value=missing,gt,0"));
        // a score key holding commas: the op and value are the last two parts
        assertEquals(List.of(), indices(c, rows + "score_value=" + enc("a,b") + ",gt,0"));
    }

    @Test
    void searchIsCaseInsensitiveTextOrRegex() {
        Client c = Fixtures.otherUser(server, "rows-search");
        String id = Fixtures.mini(c, "mini", "one");
        c.patch("/api/runs/latest/results/4", "{\"result\": {\"annotation\": \"Needs a Second look\"}}");
        String rows = "/api/runs/" + id + "/rows?search=";
        assertEquals(List.of(1), indices(c, rows + "LYON"));                      // output
        assertEquals(List.of(1), indices(c, rows + enc("capital of")));           // input
        assertEquals(List.of(0, 1), indices(c, rows + "smoke"));                  // labels
        assertEquals(List.of(2), indices(c, rows + "runtimeerror"));              // error
        assertEquals(List.of(4), indices(c, rows + "second"));                    // annotation
        assertEquals(List.of(6, 7, 8), indices(c, rows + "slow"));                // function and dataset
        assertEquals(List.of(5), indices(c, rows + enc("num 0.5")));              // a score as "key value passed"
        assertEquals(List.of(0, 6, 7, 8), indices(c, rows + enc("accuracy true")));
        assertEquals(List.of(0), indices(c, rows + enc("accuracy true") + "&score_value=quality,gte,0"));
        assertEquals(List.of(), indices(c, rows + "nothing-like-this"));
        // regex: /…/, or regex=1 with the bare pattern; case-insensitive too
        assertEquals(List.of(6, 7), indices(c, rows + enc("/^TEST_slow\\[\\d\\]/")));
        assertEquals(List.of(6, 7), indices(c, rows + enc("^test_slow\\[\\d\\]") + "&regex=1"));
        assertEquals(List.of(1, 2), indices(c, rows + enc("/lyon|kaboom/")));
        // a search narrows the chips to the rows found
        JsonNode j = c.get(rows + "slow").json();
        assertEquals(3, j.path("filtered").asInt());
        assertEquals(9, j.path("total").asInt());
        assertEquals(Json.MAPPER.valueToTree(List.of(Json.fields("key", "accuracy", "type", "ratio", "passed", 3, "total", 3))),
                j.path("chips"));
    }

    @Test
    void filteredChipsAndLatencyFollowTheRowsShown() throws Exception {
        Client c = Fixtures.otherUser(server, "rows-chips");
        String id = Fixtures.mini(c, "mini", "one");
        JsonNode j = c.get("/api/runs/" + id + "/rows?dataset_in=qa").json();
        assertEquals(2, j.path("filtered").asInt());
        assertEquals(Json.MAPPER.readTree("""
                [{"key":"accuracy","type":"ratio","passed":1,"total":2},
                 {"key":"quality","type":"avg","avg":0.55,"count":2}]"""), j.path("chips"));
        assertEquals((9.822845458984375e-05 + 2.1219253540039062e-05) / 2, j.path("average_latency").asDouble(), 1e-15);
        // the run's totals stay the whole run's
        assertEquals(9, j.path("totals").path("total_evaluations").asInt());
        JsonNode none = c.get("/api/runs/" + id + "/rows?dataset_in=nowhere").json();
        assertEquals(0, none.path("filtered").asInt());
        assertEquals(0, none.path("chips").size());
        assertEquals(0.0, none.path("average_latency").asDouble());
        // an edited score moves the row between filters and changes the chips (no stale cached selection)
        assertEquals(List.of(0, 6, 7, 8), indices(c, "/api/runs/" + id + "/rows?score_passed=accuracy,true"));
        JsonNode chipsBefore = c.get("/api/runs/" + id + "/rows").json().path("chips");
        c.patch("/api/runs/latest/results/1", "{\"result\": {\"scores\": [{\"key\": \"accuracy\", \"passed\": true}]}}");
        assertEquals(List.of(0, 1, 6, 7, 8), indices(c, "/api/runs/" + id + "/rows?score_passed=accuracy,true"));
        JsonNode chipsAfter = c.get("/api/runs/" + id + "/rows").json().path("chips");
        assertEquals(c.get("/results").json().path("score_chips"), chipsAfter);
        assertEquals(4, chipsBefore.get(0).path("passed").asInt());
        assertEquals(5, chipsAfter.get(0).path("passed").asInt());
    }

    @Test
    void sortsByColumnsAndScoresWithSecondaryKeys() {
        Client c = Fixtures.otherUser(server, "rows-sort");
        String id = Fixtures.mini(c, "mini", "one");
        String rows = "/api/runs/" + id + "/rows?sort=";
        assertEquals(List.of(5, 4, 1, 0, 2, 3, 6, 7, 8), indices(c, rows + "latency"));
        assertEquals(List.of(6, 7, 8, 3, 2, 0, 1, 4, 5), indices(c, rows + "-latency"));
        assertEquals(List.of(8, 7, 6, 5, 4, 3, 2, 1, 0), indices(c, rows + "-index"));
        assertEquals(List.of(3, 2, 1, 5, 4, 0, 6, 7, 8), indices(c, rows + "function"));
        assertEquals(List.of(5, 4, 3, 2, 1, 0, 8, 7, 6), indices(c, rows + "dataset&sort=-index"));
        assertEquals(List.of(5, 2, 3, 4, 0, 1, 6, 7, 8), indices(c, rows + "dataset&sort=index"));
        assertEquals(List.of(2, 0, 1, 3, 4, 5, 6, 7, 8), indices(c, rows + "-status"));
        // a score key: its value, else 1/0 for passed/failed; rows without it last either way
        assertEquals(List.of(1, 0, 6, 7, 8, 2, 3, 4, 5), indices(c, rows + "score:accuracy"));
        assertEquals(List.of(0, 6, 7, 8, 1, 2, 3, 4, 5), indices(c, rows + "-score:accuracy"));
        assertEquals(List.of(1, 0, 2, 3, 4, 5, 6, 7, 8), indices(c, rows + "score:quality"));
        assertEquals(List.of(6, 7, 8, 0, 1, 3, 2, 4, 5), indices(c, rows + "-score:accuracy&sort=-latency"));
        // sorting and filtering together
        assertEquals(List.of(8, 7, 6, 1, 0), indices(c, rows + "-dataset&sort=-index&dataset_in=qa&dataset_in=slow"));
    }

    @Test
    void pagesThroughTheFilteredRows() {
        Client c = Fixtures.otherUser(server, "rows-paging");
        String id = Fixtures.mini(c, "mini", "one");
        String rows = "/api/runs/" + id + "/rows?";
        assertEquals(List.of(3, 4), indices(c, rows + "offset=3&limit=2"));
        assertEquals(List.of(8), indices(c, rows + "offset=8&limit=2"));
        assertEquals(List.of(7, 8), indices(c, rows + "offset=3&limit=10&dataset_in=slow&dataset_in=qa"));
        assertEquals(List.of(2, 1), indices(c, rows + "sort=-index&offset=6&limit=2"));
        JsonNode past = c.get(rows + "offset=100").json();
        assertEquals(0, past.path("rows").size());
        assertEquals(9, past.path("filtered").asInt());
        assertEquals(100, past.path("offset").asInt());
        JsonNode counts = c.get(rows + "limit=0&has_error=0").json();
        assertEquals(0, counts.path("rows").size());
        assertEquals(8, counts.path("filtered").asInt());
        assertEquals(0, counts.path("limit").asInt());
    }

    @Test
    void badParametersAre422NamingThemAndChangeNothing() {
        Client c = Fixtures.otherUser(server, "rows-bad");
        String id = Fixtures.mini(c, "mini", "one");
        String before = c.get("/api/runs/" + id + "/export/json").text();
        String rows = "/api/runs/" + id + "/rows?";
        String[][] cases = {
            {"limit=abc", "limit"}, {"limit=1001", "limit"}, {"limit=-1", "limit"}, {"offset=-1", "offset"},
            {"offset=1.5", "offset"}, {"limit=5&limit=6", "limit"}, {"sort=bogus", "sort"}, {"sort=-", "sort"},
            {"sort=score:", "sort"}, {"score_value=quality,zz,1", "score_value"}, {"score_value=quality,gt,x", "score_value"},
            {"score_value=quality,gt,NaN", "score_value"}, {"score_value=quality", "score_value"},
            {"score_value=,gt,1", "score_value"}, {"score_passed=accuracy,maybe", "score_passed"},
            {"score_passed=accuracy", "score_passed"}, {"annotation=maybe", "annotation"}, {"has_error=2", "has_error"},
            {"has_url=yes", "has_url"}, {"has_messages=true", "has_messages"}, {"status=done", "status"},
            {"regex=2", "regex"}, {"search=" + enc("/(unclosed/"), "search"}, {"search=" + enc("[") + "&regex=1", "search"},
            {"bogus=1", "bogus"}};
        for (String[] bad : cases) {
            Fixtures.assertInvalid(c.get(rows + bad[0]), "'" + bad[1] + "'");
        }
        assertEquals(before, c.get("/api/runs/" + id + "/export/json").text());
        // parameters starting with _ are the client's own (cache busting) and ignored
        assertEquals(200, c.get(rows + "_=123").status());
    }

    @Test
    void unknownOrOthersRunsAre404AndOnlyGetIsAllowed() {
        Client c = Fixtures.otherUser(server, "rows-404");
        Client other = Fixtures.otherUser(server, "rows-404-other");
        assertEquals(404, c.get("/api/runs/latest/rows").status());
        String id = Fixtures.mini(c, "mini", "one");
        assertEquals(404, other.get("/api/runs/" + id + "/rows").status());
        assertEquals(404, c.get("/api/runs/deadbeef/rows").status());
        assertEquals(405, c.post("/api/runs/" + id + "/rows", "{}").status());
        assertEquals(401, server.client(null).get("/api/runs/" + id + "/rows").status());
    }

    @Test
    void rowsStoredBeforeTheDerivedColumnsAreFilledInAtStartUp() {
        Client c = Fixtures.otherUser(server, "rows-backfill");
        String id = Fixtures.mini(c, "mini", "one");
        var db = server.running().db();
        long runPk = db.read(h -> h.createQuery("SELECT id FROM eval_runs WHERE run_id = ?").bind(0, id).mapTo(long.class).one());
        db.write(h -> h.createUpdate("""
                        UPDATE eval_results SET dataset = NULL, labels = '[]', has_url = 0, has_messages = 0, search_text = NULL
                        WHERE run_pk = ?""").bind(0, runPk).execute());
        assertEquals(List.of(), indices(c, "/api/runs/" + id + "/rows?label_in=smoke"));
        assertTrue(new EvalStore(db).deriveMissingColumns() >= 9);
        assertEquals(List.of(0, 1), indices(c, "/api/runs/" + id + "/rows?label_in=smoke"));
        assertEquals(List.of(0), indices(c, "/api/runs/" + id + "/rows?has_url=1&dataset_in=qa&search=2%2B2"));
    }

    /** The indices of the rows a GET answers, in order (and checks it answered 200). */
    static List<Integer> indices(Client c, String path) {
        Client.Response r = c.get(path);
        assertEquals(200, r.status(), path + " → " + r.text());
        List<Integer> out = new ArrayList<>();
        r.json().path("rows").forEach(row -> out.add(row.path("index").asInt()));
        assertEquals(r.json().path("filtered").asInt() >= out.size(), true);
        return out;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
