-- EPOCH_MS is DuckDB's, not BigQuery's (BigQuery: TIMESTAMP_MILLIS): sqlglot passes the
-- unknown function through and DuckDB runs the query, BigQuery would reject it.
SELECT session, EPOCH_MS(ts * 1000) AS event_time
FROM sessions
