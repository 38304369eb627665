-- Dataset rows are kept in segments: an append's rows as the one JSON array it sent, up to about 1,000 rows a segment
-- (issue 10's append figure: one record and one index entry per row cost about five times one record per segment).
-- A segment's rows have consecutive ids from first_row_id; readers read them through the view dataset_rows (below)
-- and add the _meta_* fields (received_ms is _meta_ts).
CREATE TABLE dataset_segments (
    first_row_id INTEGER PRIMARY KEY,
    dataset_id   INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    row_count    INTEGER NOT NULL,
    received_ms  INTEGER NOT NULL,
    json         TEXT NOT NULL
);
CREATE INDEX dataset_segments_dataset ON dataset_segments (dataset_id, first_row_id);

-- Row ids are never given twice (a usage row's event key is ds:ROW_ID): the next one is kept here.
CREATE TABLE dataset_row_ids (
    only        INTEGER PRIMARY KEY CHECK (only = 1),
    next_row_id INTEGER NOT NULL
);
INSERT INTO dataset_row_ids (only, next_row_id) SELECT 1, coalesce(max(id), 0) + 1 FROM dataset_rows;

-- The rows stored one per record become segments: each run of a dataset's rows with consecutive ids and one receive
-- time, 1,000 rows at most. Rows stored before migration 017 carry their _meta_* fields in data: they lose them
-- (readers make them like every other row's), and their time is read from _meta_ts (else their dataset's creation).
INSERT INTO dataset_segments (first_row_id, dataset_id, row_count, received_ms, json)
SELECT min(id), dataset_id, count(*), t,
       json_group_array(json(CASE WHEN legacy THEN json_remove(data, '$._meta_user_id', '$._meta_dataset', '$._meta_ts')
                                  ELSE data END) ORDER BY id)
FROM (SELECT id, dataset_id, t, data, legacy, run, row_number() OVER (PARTITION BY run ORDER BY id) - 1 AS n
      FROM (SELECT id, dataset_id, t, data, legacy, sum(starts) OVER (ORDER BY id) AS run
            FROM (SELECT id, dataset_id, t, data, legacy,
                         CASE WHEN lag(dataset_id) OVER byId IS dataset_id AND lag(t) OVER byId IS t
                                   AND lag(id) OVER byId = id - 1 THEN 0 ELSE 1 END AS starts
                  FROM (SELECT r.id, r.dataset_id, r.data, r.received_ms IS NULL AS legacy,
                               coalesce(r.received_ms,
                                        CAST(round(unixepoch(json_extract(r.data, '$._meta_ts'), 'subsec') * 1000) AS INTEGER),
                                        CAST(round(unixepoch(d.created_at, 'subsec') * 1000) AS INTEGER), 0) AS t
                        FROM dataset_rows r JOIN datasets d ON d.id = r.dataset_id)
                  WINDOW byId AS (ORDER BY id))))
GROUP BY run, n / 1000;

DROP TABLE dataset_rows;

-- A dataset's rows, split out of their segments: row `place` (0, 1, ...) of segment `segment` has id segment + place.
-- Ask by segment (and place): the split is a json_each of the whole segment.
CREATE VIEW dataset_rows AS
SELECT s.dataset_id, s.first_row_id AS segment, e.key AS place, s.first_row_id + e.key AS id, e.value AS data,
       s.received_ms
FROM dataset_segments s, json_each(s.json) e;
