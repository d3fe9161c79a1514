-- ts is an INT64 (seconds) in BigQuery: comparing it with a date string is an error there,
-- while DuckDB casts the string silently and returns no rows.
SELECT session, item
FROM sessions
WHERE ts >= '2022-08-22'
