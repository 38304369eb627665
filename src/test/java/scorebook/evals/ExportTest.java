package scorebook.evals;

import java.util.List;

import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import scorebook.server.Json;
import scorebook.testing.Client;
import scorebook.testing.TestServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The JSON, CSV and Markdown exports, and importing a run document. */
class ExportTest {
    /** Booleans, values, both on one key, none, empty lists and errors, with the expected aggregates. */
    static final String MIXED_ROWS = """
            {"results": [
              {"function": "both", "result": {"scores": [{"key": "mixed", "passed": true, "value": 0.2}, {"key": "val", "value": 2}], "latency": 0}},
              {"function": "values", "result": {"scores": [{"key": "mixed", "value": 0.9}, {"key": "val", "value": 4},
                                                            {"key": "flag", "passed": false}], "error": ""}},
              {"function": "empty", "result": {"scores": [], "error": "bad", "latency": 2}},
              {"function": "none", "result": {"scores": null, "latency": 1, "status": "not_started"}},
              {"function": "twice", "result": {"scores": [{"key": "flag", "passed": true, "notes": "n"}, {"key": "flag", "passed": true}],
                                               "latency": 3, "input": "café"}}
            ]}""";

    @AutoClose
    private static final TestServer server = TestServer.start();

    @Test
    void mixedScoresGiveTheRuleTotalsAndChipsThroughTheApiAndEveryExport() throws Exception {
        Client c = Fixtures.otherUser(server, "export-mixed");
        String id = Fixtures.run(c, "mixed", "m");
        assertEquals(200, c.post("/api/runs/" + id + "/results", MIXED_ROWS).status());
        JsonNode chips = Json.MAPPER.readTree("""
                [{"key":"mixed","type":"ratio","passed":1,"total":1},
                 {"key":"val","type":"avg","avg":3.0,"count":2},
                 {"key":"flag","type":"ratio","passed":2,"total":3}]""");
        JsonNode data = c.get("/api/runs/" + id + "/data").json();
        assertEquals(chips, data.path("score_chips"));
        assertEquals(5, data.path("total_evaluations").asInt());
        assertEquals(1, data.path("total_errors").asInt(), "an empty error is no error");
        assertEquals(2, data.path("total_passed").asInt(), "a row counts once however many passing scores it has");
        assertEquals(2.0, data.path("average_latency").asDouble(), 1e-12, "null and 0 latencies are left out");

        JsonNode doc = c.get("/api/runs/" + id + "/export/json").json();
        assertEquals(5, doc.path("total_evaluations").asInt());
        assertEquals(5, doc.path("total_functions").asInt());
        assertEquals(1, doc.path("total_errors").asInt());
        assertEquals(2, doc.path("total_passed").asInt());
        assertEquals(3, doc.path("total_with_scores").asInt(), "an empty list is no scores");
        assertEquals(2.0, doc.path("average_latency").asDouble(), 1e-12);

        String csv = c.get("/api/runs/" + id + "/export/csv").text();
        String[] lines = csv.split("\r\n");
        assertEquals(6, lines.length, csv);
        assertEquals("both,,,null,null,null,\"[{\"\"key\"\": \"\"mixed\"\", \"\"value\"\": 0.2, \"\"passed\"\": true, \"\"notes\"\": null}, "
                + "{\"\"key\"\": \"\"val\"\", \"\"value\"\": 2.0, \"\"passed\"\": null, \"\"notes\"\": null}]\",,0.0,null,null,null", lines[1]);
        assertEquals("empty,,,null,null,null,[],bad,2.0,null,null,null", lines[3]);
        assertEquals("none,,,null,null,null,null,,1.0,null,null,null", lines[4]);
        assertTrue(lines[5].startsWith("twice,,,\"\"\"caf\\u00e9\"\"\",null,null,\"[{\"\"key\"\": \"\"flag\"\", \"\"value\"\": null, \"\"passed\"\": true, \"\"notes\"\": \"\"n\"\"}, "), lines[5]);

        Client.Response md = c.post("/api/runs/" + id + "/export/markdown", "{\"session_name\": null}");
        assertEquals(200, md.status(), md.text());
        assertEquals(String.join("\n",
                "# m",
                "",
                "**5/5** tests · **1** errors · **2.00s** avg latency",
                "",
                "## Scores",
                "",
                "| Metric | Progress | Score |",
                "|--------|----------|-------|",
                "| **mixed** | ████████████████████ 🟢 | 100% (1/1) |",
                "| **val** | ████████████████████ 🟢 | 100% (avg: 3.00) |",
                "| **flag** | █████████████░░░░░░░ 🟡 | 67% (2/3) |",
                "",
                "## Results",
                "| Eval | Dataset | Input | Output | Reference | Scores | Error | Latency |",
                "|---|---|---|---|---|---|---|---|",
                "| both |  | null | null | null | ✅ mixed val:2.0 |  |  |",
                "| values |  | null | null | null | mixed:0.9 val:4.0 ❌ flag |  |  |",
                "| empty |  | null | null | null |  | bad | 2.00s |",
                "| none |  | null | null | null |  |  | 1.00s |",
                "| twice |  | \"caf\\u00e9\" | null | null | ✅ flag ✅ flag |  | 3.00s |"), md.text());
    }

    @Test
    void jsonExportIsTheRunDocumentForAnyRunAndRoundTripsThroughImport() throws Exception {
        Client c = Fixtures.otherUser(server, "export-json");
        String id = Fixtures.mini(c, "mini", "frosty-reef");
        assertEquals(200, c.patch("/api/runs/" + id + "/results/0", "{\"result\": {\"annotation\": \"é ok\"}}").status());
        Fixtures.run(c, "mini", "another");  // the mini run is no longer active: exports still work

        Client.Response r = c.get("/api/runs/" + id + "/export/json");
        assertEquals(200, r.status(), r.text());
        assertEquals("application/json", r.header("Content-Type").orElseThrow());
        assertEquals("attachment; filename=\"" + id + ".json\"", r.header("Content-Disposition").orElseThrow());
        String doc = r.text();
        assertTrue(doc.startsWith("{\n  \"session_name\": \"mini\",\n  \"run_name\": \"frosty-reef\",\n  \"run_id\": \"" + id + "\",\n"), doc);
        assertTrue(doc.contains("\"annotation\": \"\\u00e9 ok\""), "non-ASCII escaped as the original writes run files");
        assertTrue(doc.contains("\"labels\": []"), "empty lists as Python writes them");
        JsonNode j = Json.MAPPER.readTree(doc);
        assertEquals(List.of("session_name", "run_name", "run_id", "created_at", "total_evaluations", "total_functions",
                "total_errors", "total_passed", "total_with_scores", "average_latency", "results", "path", "dataset",
                "labels", "function_name"), Fixtures.fields(j));
        assertEquals(9, j.path("results").size());
        assertEquals(8, j.path("total_with_scores").asInt());
        assertEquals("evals", j.path("path").asText());
        assertEquals(c.get("/api/runs/" + id + "/results/3").json().path("result"), j.path("results").get(3));

        assertEquals(409, c.post("/api/runs/import", doc).status(), "the id is taken");
        assertEquals(200, c.delete("/api/runs/" + id).status());
        Client.Response imported = c.post("/api/runs/import", doc);
        assertEquals(201, imported.status(), imported.text());
        assertEquals("{\"ok\":true,\"run_id\":\"" + id + "\",\"run_name\":\"frosty-reef\",\"count\":9}", imported.text());
        assertEquals(doc, c.get("/api/runs/" + id + "/export/json").text(), "export, import, export: the same document");
        assertEquals(id, c.get("/results").json().path("run_id").asText(), "an imported run becomes active");
        assertEquals(doc, c.get("/api/runs/latest/export/json").text());

        Client other = Fixtures.otherUser(server, "export-json-2");
        assertEquals(404, other.get("/api/runs/" + id + "/export/json").status());
        assertEquals(201, other.post("/api/runs/import", doc).status(), "ids are per user");
        assertEquals(doc, other.get("/api/runs/" + id + "/export/json").text());
        assertEquals(404, c.get("/api/runs/0badc0de/export/json").status());
        assertEquals(404, c.get("/api/runs/0badc0de/export/csv").status());
        assertEquals(404, other.get("/api/runs/0badc0de/export/csv").status());
        assertEquals(404, c.post("/api/runs/0badc0de/export/markdown", "{}").status());
        assertEquals(405, c.post("/api/runs/" + id + "/export/json", "{}").status());
        assertEquals(405, c.get("/api/runs/" + id + "/export/markdown").status());
    }

    @Test
    void importTakesTheOriginalToolsRunFilesAndRecomputesTotals() throws Exception {
        Client c = Fixtures.otherUser(server, "export-import");
        String file = """
                {"session_name": "mini", "run_name": "frosty-reef", "run_id": "8b11895d", "created_at": 1795317926,
                 "total_evaluations": 2, "total_functions": 2, "total_errors": 0, "total_passed": 7, "total_with_scores": 2,
                 "average_latency": 0.5,
                 "results": [
                   {"function": "a", "dataset": "x", "labels": [], "result": {"input": "i", "output": "o", "reference": null,
                     "scores": [{"key": "k", "value": null, "passed": true, "notes": null}], "error": null, "latency": 0.5,
                     "metadata": null, "trace_data": null}},
                   {"function": "b", "dataset": "x", "labels": [], "result": {"input": "i", "output": null, "reference": null,
                     "scores": null, "error": "boom", "latency": 0.1, "metadata": null, "trace_data": null}}],
                 "path": "evals", "dataset": null, "labels": null, "function_name": null}""";
        Client.Response r = c.post("/api/runs/import", file);
        assertEquals(201, r.status(), r.text());
        assertEquals("{\"ok\":true,\"run_id\":\"8b11895d\",\"run_name\":\"frosty-reef\",\"count\":2}", r.text());
        JsonNode run = c.get("/results").json();
        assertEquals(1, run.path("total_passed").asInt(), "stored totals are recomputed, not trusted");
        assertEquals(1, run.path("total_errors").asInt());
        assertEquals("completed", run.at("/results/0/result/status").asText(), "a missing status follows the error");
        assertEquals("error", run.at("/results/1/result/status").asText());
        assertEquals(1795317926, c.get("/api/sessions/mini/runs").json().at("/runs/0/timestamp").asLong());

        Client.Response fresh = c.post("/api/runs/import", "{\"run_id\": \"1704067200\", \"results\": []}");
        assertEquals(201, fresh.status(), fresh.text());
        assertTrue(fresh.json().path("run_id").asText().matches("[0-9a-f]{8}"), "an id that is not 8 hex gets a fresh one");
        assertTrue(fresh.json().path("run_name").asText().matches("[a-z]+-[a-z]+"));
        assertEquals("default", c.get("/results").json().path("session_name").asText());

        String sessions = c.get("/api/sessions").text();
        String active = c.get("/results").json().path("run_id").asText();
        Fixtures.assertInvalid(c.post("/api/runs/import", "{\"session_name\": \"s\"}"), "results");
        Fixtures.assertInvalid(c.post("/api/runs/import", "{\"results\": [{\"function\": \"f\", \"result\": {\"scores\": [{}]}}]}"),
                "results[0].result.scores[0].key");
        Fixtures.assertInvalid(c.post("/api/runs/import", "{\"results\": [], \"owner\": \"x\"}"), "owner");
        Fixtures.assertInvalid(c.post("/api/runs/import", "{\"results\": [], \"created_at\": \"yesterday\"}"), "created_at");
        Fixtures.assertInvalid(c.post("/api/runs/import", "{\"results\": [], \"run_name\": \"a\\u0000b\"}"), "run_name");
        assertEquals(400, c.post("/api/runs/import", "{\"results\": [").status());
        assertEquals(sessions, c.get("/api/sessions").text(), "nothing was created");
        assertEquals(active, c.get("/results").json().path("run_id").asText(), "the active run did not change");
    }

    @Test
    void csvExportHasTheOriginalColumnsAndQuotingAndNeutralisesFormulas() {
        Client c = Fixtures.otherUser(server, "export-csv");
        String id = Fixtures.mini(c, "s", "r");
        Client.Response r = c.get("/api/runs/" + id + "/export/csv");
        assertEquals(200, r.status(), r.text());
        assertEquals("text/csv; charset=utf-8", r.header("Content-Type").orElseThrow());
        assertEquals("attachment; filename=" + id + ".csv", r.header("Content-Disposition").orElseThrow());
        String[] lines = r.text().split("\r\n");
        assertEquals("function,dataset,labels,input,output,reference,scores,error,latency,metadata,trace_data,annotations", lines[0]);
        assertEquals("test_pass,qa,smoke,\"\"\"2+2\"\"\",\"\"\"4\"\"\",\"\"\"4\"\"\",\"[{\"\"key\"\": \"\"accuracy\"\", \"\"value\"\": null, "
                + "\"\"passed\"\": true, \"\"notes\"\": \"\"ok\"\"}, {\"\"key\"\": \"\"quality\"\", \"\"value\"\": 0.8, \"\"passed\"\": null, "
                + "\"\"notes\"\": null}]\",,9.822845458984375e-05,\"{\"\"model\"\": \"\"m1\"\"}\",\"{\"\"messages\"\": [{\"\"role\"\": "
                + "\"\"user\"\", \"\"content\"\": \"\"2+2\"\"}], \"\"trace_url\"\": \"\"http://example.invalid/t/1\"\", \"\"tokens\"\": 12}\",null",
                lines[1]);
        assertEquals("test_fail,qa,smoke;hard,\"\"\"capital of France\"\"\",\"\"\"Lyon\"\"\",null,\"[{\"\"key\"\": \"\"accuracy\"\", "
                + "\"\"value\"\": null, \"\"passed\"\": false, \"\"notes\"\": \"\"wrong city\"\"}, {\"\"key\"\": \"\"quality\"\", \"\"value\"\": 0.3, "
                + "\"\"passed\"\": null, \"\"notes\"\": null}]\",,2.1219253540039062e-05,null,null,null", lines[2]);
        assertTrue(lines[3].startsWith("test_error,misc,,\"\"\"boom\"\"\",null,null,null,\"kaboom"), "errors keep their newlines, quoted");
        assertTrue(lines[3].contains("kaboom\nTraceback"), "a newline inside a quoted cell stays as it is");
        assertEquals(10, lines.length, "header and 9 rows, each ended by CRLF");

        String formulas = "{\"results\": [{\"function\": \"=HYPERLINK(\\\"http://x\\\")\", \"dataset\": \"+d\", \"labels\": [\"@l\"],"
                + " \"result\": {\"error\": \"-1+1\", \"output\": \"=1+1\"}}]}";
        assertEquals(200, c.post("/api/runs/" + id + "/results", formulas).status());
        String[] after = c.get("/api/runs/" + id + "/export/csv").text().split("\r\n");
        assertEquals("\"'=HYPERLINK(\"\"http://x\"\")\",'+d,'@l,null,\"\"\"=1+1\"\"\",null,null,'-1+1,,null,null,null", after[after.length - 1]);
    }

    @Test
    void markdownReportOfTheVisibleRowsAsTheOriginalLaysItOut() {
        Client c = Fixtures.otherUser(server, "export-md");
        String id = Fixtures.mini(c, "mini", "r");
        Client.Response r = c.post("/api/runs/latest/export/markdown", """
                {"visible_indices": [0, 1, 2, 5, 50],
                 "visible_columns": ["function", "dataset", "input", "output", "scores", "error", "latency", "labels"],
                 "stats": {"total": 9, "filtered": 4, "avgLatency": 0.45,
                           "chips": [{"key": "accuracy", "type": "ratio", "passed": 1, "total": 2},
                                     {"key": "quality", "type": "avg", "avg": 0.55, "count": 2}]},
                 "run_name": "my run", "session_name": "mini", "comparison_mode": false, "comparison_runs": null}""");
        assertEquals(200, r.status(), r.text());
        assertEquals("text/markdown; charset=utf-8", r.header("Content-Type").orElseThrow());
        assertEquals("attachment; filename=" + id + ".md", r.header("Content-Disposition").orElseThrow());
        assertEquals(String.join("\n",
                "# my run",
                "**Session:** mini",
                "",
                "**4/9** tests · **1** errors · **0.45s** avg latency",
                "",
                "## Scores",
                "",
                "| Metric | Progress | Score |",
                "|--------|----------|-------|",
                "| **accuracy** | ██████████░░░░░░░░░░ 🟡 | 50% (1/2) |",
                "| **quality** | ███████████░░░░░░░░░ 🟡 | 55% (avg: 0.55) |",
                "",
                "## Results",
                "| Eval | Dataset | Input | Output | Scores | Error | Latency | Labels |",
                "|---|---|---|---|---|---|---|---|",
                "| test_pass | qa | \"2+2\" | \"4\" | ✅ accuracy quality:0.8 |  | 0.00s |  |",
                "| test_fail | qa | \"capital of France\" | \"Lyon\" | ❌ accuracy quality:0.3 |  | 0.00s |  |",
                "| test_error | misc | \"boom\" | null |  | kaboom Traceback (most recent call last): RuntimeError: kaboom  | 0.00s |  |",
                "| test_multi | batch | \"b\" | \"2\" | num:0.5 |  |  |  |"), r.text());

        Client.Response empty = c.post("/api/runs/" + id + "/export/markdown", """
                {"visible_indices": [], "visible_columns": [], "stats": {"total": 9, "filtered": 0, "avgLatency": 0, "chips": []},
                 "run_name": "r", "session_name": ""}""");
        assertEquals("# r\n\n**0/9** tests\n\n## Results\n*No results*", empty.text());

        Client.Response evalColumn = c.post("/api/runs/" + id + "/export/markdown",
                "{\"visible_indices\": [-1], \"visible_columns\": [\"eval\", \"trace_data\"], \"session_name\": null}");
        assertTrue(evalColumn.text().endsWith("| Eval | Trace_Data |\n|---|---|\n| test_slow[three] |  |"), evalColumn.text());

        Fixtures.assertInvalid(c.post("/api/runs/" + id + "/export/markdown", "{\"visible_indices\": [\"a\"]}"), "visible_indices[0]");
        Fixtures.assertInvalid(c.post("/api/runs/" + id + "/export/markdown", "{\"stats\": {\"chips\": [{\"key\": \"k\"}]}}"), "stats.chips[0]");
        Fixtures.assertInvalid(c.post("/api/runs/" + id + "/export/markdown", "{\"visible\": []}"), "visible");
        assertEquals(404, server.owner().post("/api/runs/" + id + "/export/markdown", "{}").status());
    }

    @Test
    void markdownComparisonOfRuns() {
        Client c = Fixtures.otherUser(server, "export-compare");
        Client.Response r = c.post("/api/runs/latest/export/markdown", """
                {"comparison_mode": true, "session_name": "s", "visible_indices": [], "visible_columns": [], "run_name": "x",
                 "comparison_runs": [
                   {"run_id": "aaaaaaaa", "run_name": "base", "chips": [{"key": "acc", "type": "ratio", "passed": 1, "total": 2}],
                    "avg_latency": 1.0,
                    "results": [{"function": "g", "dataset": "d", "result": {"input": "q2", "output": "b", "scores": [{"key": "acc", "passed": false}]}},
                                {"function": "f", "dataset": "d", "result": {"input": "q1", "output": "a1", "scores": [{"key": "acc", "passed": true}]}}]},
                   {"run_id": "bbbbbbbb", "run_name": "new",
                    "chips": [{"key": "q", "type": "avg", "avg": 0.5, "count": 1}, {"key": "acc", "type": "ratio", "passed": 1, "total": 1}],
                    "avg_latency": 0.5,
                    "results": [{"function": "f", "dataset": "d", "result": {"input": "q1", "output": "a2|x",
                                 "scores": [{"key": "acc", "passed": true}, {"key": "q", "value": 0.5}]}}]}]}""");
        assertEquals(200, r.status(), r.text());
        assertEquals("attachment; filename=comparison.md", r.header("Content-Disposition").orElseThrow());
        assertEquals(String.join("\n",
                "# Comparison: base vs new",
                "**Session:** s",
                "",
                "## Scores",
                "",
                "### acc",
                "",
                "| Run | Progress | Score |",
                "|-----|----------|-------|",
                "| base | ![](https://geps.dev/progress/50) | 50% (1/2) |",
                "| new | ![](https://geps.dev/progress/100) | 100% (1/1) |",
                "",
                "### q",
                "",
                "| Run | Progress | Score |",
                "|-----|----------|-------|",
                "| base | — | — |",
                "| new | ![](https://geps.dev/progress/50) | 50% (avg: 0.50) |",
                "",
                "### latency",
                "",
                "| Run | Progress | Value |",
                "|-----|----------|-------|",
                "| base | ![](https://geps.dev/progress/100) | 1.00s |",
                "| new | ![](https://geps.dev/progress/50) | 0.50s |",
                "",
                "## Results",
                "",
                "| Eval | Input | base | new |",
                "|---|---|---|---|",
                "| f | \"q1\" | \"a1\"<br>✅ acc | \"a2\\|x\"<br>✅ acc |",
                "| g | \"q2\" | \"b\"<br>❌ acc | — |"), r.text());
    }
}
