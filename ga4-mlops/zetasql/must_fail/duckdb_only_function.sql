-- STRFTIME is DuckDB's (BigQuery: FORMAT_TIMESTAMP): sqlglot passes it through, DuckDB runs
-- the query, BigQuery would reject it.
SELECT user_pseudo_id, STRFTIME(TIMESTAMP_MICROS(event_timestamp), '%Y-%m') AS month
FROM `events_*`
