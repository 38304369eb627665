-- Rollup cells with their dimensions as stored ('' for absent), for answers that add cells up inside SQLite
-- (issue 10: read speed). Grouping by a prefix of the primary key (t, source_kind, model, ...) lets SQLite add
-- up a range of cells in key order as it reads them; grouping by usage_rollup_facts' nullif(...) columns made it
-- sort every cell, histograms included, first. The facts are those of usage_rollup_facts.
CREATE VIEW usage_rollup_cells AS
SELECT user_id, level, t, source_kind, model, device, tag, tenant, dataset, ok,
       requests, CASE ok WHEN 1 THEN requests ELSE 0 END AS ok_requests, prompt_tokens, completion_tokens,
       latency_n, latency_sum, latency_max, ttft_n, ttft_sum, tok_s_n, tok_s_sum, tok_s_sq,
       prefill_n, prefill_sum, decode_n, decode_sum, latency_hist, ttft_hist, tok_s_hist, extra
FROM usage_rollups;
