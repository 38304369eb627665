-- /usage/compare's delta covers every KPI of the summary (§3.10: each metric has a fixed direction; latency, TTFT and
-- error rate better when lower, tok/s and throughput when higher). The view of schema/005 left out the latency p90
-- and max, the TTFT p90 and p99, the tok/s p05 and cv, the errors and the decode and prefill speeds.
DROP VIEW usage_compare_metrics;
CREATE VIEW usage_compare_metrics (metric, better_when) AS
VALUES ('requests', NULL),
       ('ok', NULL),
       ('errors', 'lower'),
       ('error_rate', 'lower'),
       ('prompt_tokens', NULL),
       ('completion_tokens', NULL),
       ('total_tokens', NULL),
       ('latency_ms.avg', 'lower'),
       ('latency_ms.p50', 'lower'),
       ('latency_ms.p90', 'lower'),
       ('latency_ms.p95', 'lower'),
       ('latency_ms.p99', 'lower'),
       ('latency_ms.max', 'lower'),
       ('ttft_ms.avg', 'lower'),
       ('ttft_ms.p50', 'lower'),
       ('ttft_ms.p90', 'lower'),
       ('ttft_ms.p95', 'lower'),
       ('ttft_ms.p99', 'lower'),
       ('tok_s.avg', 'higher'),
       ('tok_s.p50', 'higher'),
       ('tok_s.p05', 'higher'),
       ('tok_s.cv', 'lower'),
       ('decode_tok_s.avg', 'higher'),
       ('prefill_tok_s.avg', 'higher'),
       ('throughput_tok_per_min', 'higher'),
       ('devices_active', NULL),
       ('models', NULL);
