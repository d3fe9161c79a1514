-- One row per user and active day: how many events, how many target events and the day's
-- purchase revenue (BigQuery Standard SQL, run as is on BigQuery and transpiled for DuckDB
-- like user_features.sql). Performance monitoring derives the labels of past as-of dates from
-- it (a target event in [S, S + horizon_days), or for churn no event at all, or for predicted
-- revenue the revenue in it), whatever dates were scored: the feature query would need those
-- dates before the run starts.
--   @start_date, @end_date  STRING 'YYYY-MM-DD': the table suffix range read.
--   @target_event           STRING: the event_name counted in target_events.
-- revenue_usd: ecommerce.purchase_revenue_in_usd of the day's purchase events (NULL revenue
-- counted as 0, rounded to cents), user_features.sql's definition of revenue_usd, whose sum
-- over [S, S + horizon_days) is revenue_usd_horizon.
-- first_purchase_category: item_category of the first item of the day's first purchase event
-- (by event_timestamp; '(not set)' for a purchase without items or category), NULL on a day
-- without purchase: on the earliest such day of [S, S + horizon_days) it is user_features.sql's
-- next_purchase_category, the multiclass target.
SELECT
  user_pseudo_id,
  PARSE_DATE('%Y%m%d', event_date) AS event_day,
  COUNT(*) AS events,
  COUNTIF(event_name = @target_event) AS target_events,
  ROUND(
    SUM(IF(event_name = 'purchase', IFNULL(ecommerce.purchase_revenue_in_usd, 0), 0)), 2
  ) AS revenue_usd,
  MIN_BY(
    IF(event_name = 'purchase', IFNULL(items[SAFE_OFFSET(0)].item_category, '(not set)'), NULL),
    IF(event_name = 'purchase', event_timestamp, NULL)
  ) AS first_purchase_category
FROM `events_*`
WHERE _TABLE_SUFFIX BETWEEN REPLACE(@start_date, '-', '') AND REPLACE(@end_date, '-', '')
  AND user_pseudo_id IS NOT NULL
GROUP BY user_pseudo_id, event_day
