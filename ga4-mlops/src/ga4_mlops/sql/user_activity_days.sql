-- One row per user and active day: how many events and how many target events (BigQuery
-- Standard SQL, run as is on BigQuery and transpiled for DuckDB like user_features.sql).
-- Performance monitoring derives the labels of past as-of dates from it (a target event in
-- [S, S + horizon_days), or for churn no event at all), whatever dates were scored: the
-- feature query would need those dates before the run starts.
--   @start_date, @end_date  STRING 'YYYY-MM-DD': the table suffix range read.
--   @target_event           STRING: the event_name counted in target_events.
SELECT
  user_pseudo_id,
  PARSE_DATE('%Y%m%d', event_date) AS event_day,
  COUNT(*) AS events,
  COUNTIF(event_name = @target_event) AS target_events
FROM `events_*`
WHERE _TABLE_SUFFIX BETWEEN REPLACE(@start_date, '-', '') AND REPLACE(@end_date, '-', '')
  AND user_pseudo_id IS NOT NULL
GROUP BY user_pseudo_id, event_day
