-- First and last event day of the GA4 export inside a date window (BigQuery Standard SQL, run
-- as is on BigQuery and transpiled for DuckDB like user_features.sql). Reads one column of
-- the daily tables: cheap. The inference pipeline uses it to name the data's range when an
-- as-of date has no events in its lookback; performance monitoring, to know which horizons
-- are fully observed.
--   @start_date, @end_date  STRING 'YYYY-MM-DD': the table suffix range read.
SELECT
  MIN(PARSE_DATE('%Y%m%d', event_date)) AS data_first_date,
  MAX(PARSE_DATE('%Y%m%d', event_date)) AS data_last_date
FROM `events_*`
WHERE _TABLE_SUFFIX BETWEEN REPLACE(@start_date, '-', '') AND REPLACE(@end_date, '-', '')
