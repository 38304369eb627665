-- The rows endpoint (GET /api/runs/{id}/rows): more columns derived from each result's row_json, so
-- that filters, sorting and search run in SQL on small columns instead of parsing the stored JSON.
-- Like the columns of 002, the store writes them in the same transaction as row_json. Rows stored
-- before this migration have search_text NULL; the store derives their columns at start-up.
ALTER TABLE eval_results ADD COLUMN dataset TEXT;
ALTER TABLE eval_results ADD COLUMN labels TEXT NOT NULL DEFAULT '[]';              -- JSON array of strings
ALTER TABLE eval_results ADD COLUMN has_annotation INTEGER NOT NULL DEFAULT 0 CHECK (has_annotation IN (0, 1));
ALTER TABLE eval_results ADD COLUMN has_url INTEGER NOT NULL DEFAULT 0 CHECK (has_url IN (0, 1));
ALTER TABLE eval_results ADD COLUMN has_messages INTEGER NOT NULL DEFAULT 0 CHECK (has_messages IN (0, 1));
-- lower-cased text the search box looks in: function, dataset, labels, input, output, reference,
-- error, annotation and each score as "key value passed"
ALTER TABLE eval_results ADD COLUMN search_text TEXT;

-- covering for the filters and sorts of the rows endpoint, so a page query reads only the index
-- (plus row_json of the rows on the page)
CREATE INDEX eval_results_rows ON eval_results (run_pk, idx, status, has_error, has_annotation, has_url, has_messages,
                                                latency, dataset, function, labels);

-- How many rows of a run are in each status (a run's progress: pending and running left to do).
CREATE VIEW eval_status_counts AS
SELECT run_pk, status, count(*) AS n
FROM eval_results
GROUP BY run_pk, status;
