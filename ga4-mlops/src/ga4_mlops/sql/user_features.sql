-- User features and purchase label per snapshot ("as-of") date, from GA4 export events.
--
-- BigQuery Standard SQL, the single source of truth for both engines:
--   gcp:   pandas.GBQQueryDataset runs it as is; `events_*` resolves through the job's
--          defaultDataset (conf/gcp/catalog_feature_extraction.yml), so the GA4 dataset is
--          a catalog choice: BigQuery cannot take a table name as a query parameter.
--   local: ga4_mlops.datasets.DuckDBQueryDataset transpiles it with sqlglot and maps
--          `events_*` to data/01_raw/ga4_events/events_*.parquet (conf/local/catalog.yml).
--
-- Parameters (conf/base/globals.yml `feature_query`):
--   @start_date, @end_date  STRING 'YYYY-MM-DD': days read; a constant _TABLE_SUFFIX range, so
--                           BigQuery scans only those daily tables (and skips events_intraday_*).
--   @snapshot_dates         ARRAY<STRING> 'YYYY-MM-DD', or 'latest': the day after the newest
--                           event read (one as-of date for inference, labels then NULL).
--   @lookback_days          INT64: features use events in [S - lookback_days, S).
--   @horizon_days           INT64: the label looks at [S, S + horizon_days).
--   @target_event           STRING, the target kind: an event_name the label counts (purchase,
--                           add_to_cart), or 'churn' (GA4's churn probability: the population
--                           is users active in the 7 days before S, the label is 1 when they
--                           have no event at all in [S, S + horizon_days); horizon_days 7).
--   @sample_fraction        FLOAT64 in (0, 1]: share of users kept; 1.0 keeps all.
--   @sample_seed            INT64: with user_pseudo_id, picks which users are kept.
--
-- One row per (user_pseudo_id, snapshot_date) for users with >= 1 event in the lookback
-- window. Every feature reads only events dated strictly before S; days_since_first_touch
-- and the categorical columns may look further back than the lookback (still before S).
-- label: 1 if the user has >= 1 @target_event in [S, S + horizon_days), 0 if not, NULL if
-- S + horizon_days - 1 is after data_last_date (the horizon is not fully observed yet).
-- revenue_usd_horizon: purchase revenue (ecommerce.purchase_revenue_in_usd of purchase events,
-- NULL revenue counted as 0) in the label window [S, S + horizon_days), NULL where label is
-- NULL: GA4's predicted-revenue target. A target, never a feature (model_input.columns puts
-- it under other_targets). The revenue of the lookback (the last 28 days by default) is the
-- feature revenue_usd_lookback.
-- next_purchase_category: item_category of the first item (items[OFFSET(0)]) of the first
-- purchase event (by event_timestamp) in [S, S + horizon_days), '(none)' without a purchase
-- there, '(not set)' for a purchase without items or category, NULL exactly where label is
-- NULL: the target of problem_type multiclass (conf/multiclass), never a feature.
-- top_viewed_category_lookback: the item_category with the most items of view_item events in
-- the lookback ('(none)' without one; ties: alphabetically first), and
-- top_viewed_category_share_lookback its share of those items (0.0 without any); items
-- without a category are not counted.
-- data_first_date / data_last_date: first and last event_date found in the date window (all
-- users, before sampling), for validation downstream.
--
-- Sessions are keyed by user_pseudo_id + ga_session_id (ga_session_id repeats across users).
-- "Latest known value": the value on the latest event (by event_timestamp) before S where it
-- is not NULL; ties at the same microsecond are broken arbitrarily.
-- Sample: FARM_FINGERPRINT on BigQuery; DuckDB has no FarmHash, so DuckDBQueryDataset
-- defines FARM_FINGERPRINT from DuckDB's own hash: the sample is deterministic per engine,
-- not the same users on both (1.0 keeps every user on both).

WITH
-- The export's events of sampled users, only the columns the features use. DuckDB materialises
-- a CTE read more than once, so each CTE below reads `events_*` itself: `events` then streams
-- into session_days instead of being held whole.
events AS (
  SELECT
    user_pseudo_id,
    PARSE_DATE('%Y%m%d', event_date) AS event_day,
    event_timestamp,
    event_name,
    (SELECT MAX(ep.value.int_value) FROM UNNEST(event_params) AS ep
     WHERE ep.key = 'ga_session_id') AS ga_session_id,
    (SELECT MAX(ep.value.int_value) FROM UNNEST(event_params) AS ep
     WHERE ep.key = 'engagement_time_msec') AS engagement_time_msec,
    (SELECT MAX(COALESCE(ep.value.string_value, CAST(ep.value.int_value AS STRING)))
     FROM UNNEST(event_params) AS ep
     WHERE ep.key = 'session_engaged') AS session_engaged,
    ecommerce.purchase_revenue_in_usd AS purchase_revenue_in_usd,
    IF(
      event_name = 'purchase',
      IFNULL(items[SAFE_OFFSET(0)].item_category, '(not set)'),
      NULL
    ) AS purchase_category,
    user_first_touch_timestamp,
    device.category AS device_category,
    device.operating_system AS operating_system,
    device.web_info.browser AS browser,
    geo.country AS country,
    traffic_source.medium AS first_touch_medium,
    traffic_source.source AS first_touch_source
  FROM `events_*`
  WHERE _TABLE_SUFFIX BETWEEN REPLACE(@start_date, '-', '') AND REPLACE(@end_date, '-', '')
    AND user_pseudo_id IS NOT NULL
    AND ABS(MOD(FARM_FINGERPRINT(CONCAT(user_pseudo_id, ':', CAST(@sample_seed AS STRING))),
                1000000)) < @sample_fraction * 1000000
),

-- The same rows' viewed items (view_item events only).
view_item_events AS (
  SELECT user_pseudo_id, PARSE_DATE('%Y%m%d', event_date) AS event_day, items
  FROM `events_*`
  WHERE _TABLE_SUFFIX BETWEEN REPLACE(@start_date, '-', '') AND REPLACE(@end_date, '-', '')
    AND user_pseudo_id IS NOT NULL
    AND event_name = 'view_item'
    AND ABS(MOD(FARM_FINGERPRINT(CONCAT(user_pseudo_id, ':', CAST(@sample_seed AS STRING))),
                1000000)) < @sample_fraction * 1000000
),

-- First and last day with events, all users (before sampling).
data_window AS (
  SELECT
    MIN(PARSE_DATE('%Y%m%d', event_date)) AS data_first_date,
    MAX(PARSE_DATE('%Y%m%d', event_date)) AS data_last_date
  FROM `events_*`
  WHERE _TABLE_SUFFIX BETWEEN REPLACE(@start_date, '-', '') AND REPLACE(@end_date, '-', '')
    AND user_pseudo_id IS NOT NULL
),

-- 'latest' stands for the day after the newest event read: the inference pipeline's default.
snapshots AS (
  SELECT DISTINCT
    IF(
      snapshot_text = 'latest',
      (SELECT DATE_ADD(data_last_date, INTERVAL 1 DAY) FROM data_window),
      PARSE_DATE('%Y-%m-%d', snapshot_text)
    ) AS snapshot_date
  FROM UNNEST(@snapshot_dates) AS snapshot_text
),

-- One row per user, session and day: the grain every window below sums over.
session_days AS (
  SELECT
    user_pseudo_id,
    ga_session_id,
    event_day,
    COUNT(*) AS event_count,
    COUNTIF(event_name = 'page_view') AS page_views,
    COUNTIF(event_name = 'view_item') AS view_items,
    COUNTIF(event_name = 'add_to_cart') AS add_to_carts,
    COUNTIF(event_name = 'begin_checkout') AS begin_checkouts,
    COUNTIF(event_name = 'purchase') AS purchases,
    COUNTIF(event_name = @target_event) AS target_events,
    ROUND(SUM(IF(event_name = 'purchase', IFNULL(purchase_revenue_in_usd, 0), 0)), 2) AS revenue_usd,
    MIN(IF(event_name = 'purchase', event_timestamp, NULL)) AS first_purchase_at,
    MIN_BY(purchase_category, IF(event_name = 'purchase', event_timestamp, NULL))
      AS first_purchase_category,
    SUM(IFNULL(engagement_time_msec, 0)) AS engagement_time_msec,
    LOGICAL_OR(IFNULL(session_engaged = '1', FALSE)) AS is_engaged,
    MAX(CASE event_name
          WHEN 'view_item' THEN 1
          WHEN 'add_to_cart' THEN 2
          WHEN 'begin_checkout' THEN 3
          WHEN 'purchase' THEN 4
          ELSE 0
        END) AS funnel_step,
    MIN(user_first_touch_timestamp) AS first_touch_timestamp,
    MAX_BY(device_category, IF(device_category IS NULL, NULL, event_timestamp))
      AS device_category,
    MAX(IF(device_category IS NULL, NULL, event_timestamp)) AS device_category_at,
    MAX_BY(operating_system, IF(operating_system IS NULL, NULL, event_timestamp))
      AS operating_system,
    MAX(IF(operating_system IS NULL, NULL, event_timestamp)) AS operating_system_at,
    MAX_BY(browser, IF(browser IS NULL, NULL, event_timestamp)) AS browser,
    MAX(IF(browser IS NULL, NULL, event_timestamp)) AS browser_at,
    MAX_BY(country, IF(country IS NULL, NULL, event_timestamp)) AS country,
    MAX(IF(country IS NULL, NULL, event_timestamp)) AS country_at,
    MAX_BY(first_touch_medium, IF(first_touch_medium IS NULL, NULL, event_timestamp))
      AS first_touch_medium,
    MAX(IF(first_touch_medium IS NULL, NULL, event_timestamp)) AS first_touch_medium_at,
    MAX_BY(first_touch_source, IF(first_touch_source IS NULL, NULL, event_timestamp))
      AS first_touch_source,
    MAX(IF(first_touch_source IS NULL, NULL, event_timestamp)) AS first_touch_source_at
  FROM events
  GROUP BY user_pseudo_id, ga_session_id, event_day
),

-- Each session-day paired with every snapshot it can matter to: its history (before S,
-- lookback or not) and its label horizon. One pass, no per-snapshot rescan.
snapshot_session_days AS (
  SELECT
    s.snapshot_date,
    sd.*,
    sd.event_day < s.snapshot_date AS is_history,
    sd.event_day < s.snapshot_date
      AND sd.event_day >= DATE_SUB(s.snapshot_date, INTERVAL @lookback_days DAY) AS is_lookback,
    sd.event_day < s.snapshot_date
      AND sd.event_day >= DATE_SUB(s.snapshot_date, INTERVAL 7 DAY) AS is_last_7d,
    sd.event_day >= s.snapshot_date AS is_horizon
  FROM session_days AS sd
  CROSS JOIN snapshots AS s
  WHERE sd.event_day < DATE_ADD(s.snapshot_date, INTERVAL @horizon_days DAY)
),

user_snapshots AS (
  SELECT
    user_pseudo_id,
    snapshot_date,
    MAX(IF(is_lookback, event_day, NULL)) AS last_active_day,
    MIN(IF(is_history, event_day, NULL)) AS first_seen_day,
    DATE(TIMESTAMP_MICROS(MIN(IF(is_history, first_touch_timestamp, NULL)))) AS first_touch_day,
    COUNT(DISTINCT IF(is_lookback, ga_session_id, NULL)) AS sessions_lookback,
    COUNT(DISTINCT IF(is_lookback AND is_last_7d, ga_session_id, NULL)) AS sessions_last_7d,
    COUNT(DISTINCT IF(is_lookback, event_day, NULL)) AS active_days_lookback,
    SUM(IF(is_lookback, event_count, 0)) AS events_lookback,
    SUM(IF(is_lookback, page_views, 0)) AS page_views_lookback,
    SUM(IF(is_lookback, engagement_time_msec, 0)) / 1000 AS engagement_time_sec_lookback,
    COUNT(DISTINCT IF(is_lookback AND is_engaged, ga_session_id, NULL))
      AS engaged_sessions_lookback,
    SUM(IF(is_lookback, view_items, 0)) AS view_item_lookback,
    SUM(IF(is_lookback, add_to_carts, 0)) AS add_to_cart_lookback,
    SUM(IF(is_lookback, begin_checkouts, 0)) AS begin_checkout_lookback,
    SUM(IF(is_lookback, purchases, 0)) AS purchases_lookback,
    ROUND(SUM(IF(is_lookback, revenue_usd, 0)), 2) AS revenue_usd_lookback,
    MAX(IF(is_lookback, funnel_step, 0)) AS max_funnel_step,
    MAX_BY(device_category, IF(is_history, device_category_at, NULL)) AS device_category,
    MAX_BY(operating_system, IF(is_history, operating_system_at, NULL)) AS operating_system,
    MAX_BY(browser, IF(is_history, browser_at, NULL)) AS browser,
    MAX_BY(country, IF(is_history, country_at, NULL)) AS country,
    MAX_BY(first_touch_medium, IF(is_history, first_touch_medium_at, NULL))
      AS first_touch_medium,
    MAX_BY(first_touch_source, IF(is_history, first_touch_source_at, NULL))
      AS first_touch_source,
    SUM(IF(is_horizon, target_events, 0)) AS target_events_horizon,
    ROUND(SUM(IF(is_horizon, revenue_usd, 0)), 2) AS revenue_usd_horizon,
    MIN_BY(first_purchase_category, IF(is_horizon, first_purchase_at, NULL))
      AS next_purchase_category,
    SUM(IF(is_horizon, event_count, 0)) AS events_horizon
  FROM snapshot_session_days
  GROUP BY user_pseudo_id, snapshot_date
  HAVING LOGICAL_OR(is_lookback)
),

item_views AS (
  SELECT DISTINCT v.user_pseudo_id, v.event_day, item.item_id
  FROM view_item_events AS v, UNNEST(v.items) AS item
  WHERE item.item_id IS NOT NULL
),

items_viewed AS (
  SELECT
    iv.user_pseudo_id,
    s.snapshot_date,
    COUNT(DISTINCT iv.item_id) AS distinct_items_viewed_lookback
  FROM item_views AS iv
  CROSS JOIN snapshots AS s
  WHERE iv.event_day < s.snapshot_date
    AND iv.event_day >= DATE_SUB(s.snapshot_date, INTERVAL @lookback_days DAY)
  GROUP BY iv.user_pseudo_id, s.snapshot_date
),

-- Viewed items per user, day and category (each item of each view_item event counts).
category_views AS (
  SELECT v.user_pseudo_id, v.event_day, item.item_category, COUNT(*) AS views
  FROM view_item_events AS v, UNNEST(v.items) AS item
  WHERE item.item_category IS NOT NULL
  GROUP BY v.user_pseudo_id, v.event_day, item.item_category
),

-- Per user and snapshot: each category's viewed items in the lookback, ranked (ties:
-- alphabetically first), and all viewed items.
category_lookback AS (
  SELECT
    user_pseudo_id,
    snapshot_date,
    item_category,
    views,
    ROW_NUMBER() OVER (
      PARTITION BY user_pseudo_id, snapshot_date ORDER BY views DESC, item_category
    ) AS category_rank,
    SUM(views) OVER (PARTITION BY user_pseudo_id, snapshot_date) AS all_views
  FROM (
    SELECT cv.user_pseudo_id, s.snapshot_date, cv.item_category, SUM(cv.views) AS views
    FROM category_views AS cv
    CROSS JOIN snapshots AS s
    WHERE cv.event_day < s.snapshot_date
      AND cv.event_day >= DATE_SUB(s.snapshot_date, INTERVAL @lookback_days DAY)
    GROUP BY cv.user_pseudo_id, s.snapshot_date, cv.item_category
  )
),

top_viewed_categories AS (
  SELECT
    user_pseudo_id,
    snapshot_date,
    item_category AS top_viewed_category_lookback,
    views / all_views AS top_viewed_category_share_lookback
  FROM category_lookback
  WHERE category_rank = 1
)

SELECT
  u.user_pseudo_id,
  u.snapshot_date,
  DATE_DIFF(u.snapshot_date, u.last_active_day, DAY) AS days_since_last_session,
  -- A first touch cannot follow the first event seen (UTC timestamp vs local event_date).
  DATE_DIFF(
    u.snapshot_date,
    LEAST(IFNULL(u.first_touch_day, u.first_seen_day), u.first_seen_day),
    DAY
  ) AS days_since_first_touch,
  u.sessions_lookback,
  u.sessions_last_7d,
  u.active_days_lookback,
  u.events_lookback,
  u.page_views_lookback,
  u.engagement_time_sec_lookback,
  u.engaged_sessions_lookback,
  u.view_item_lookback,
  u.add_to_cart_lookback,
  u.begin_checkout_lookback,
  u.purchases_lookback,
  u.revenue_usd_lookback,
  IFNULL(iv.distinct_items_viewed_lookback, 0) AS distinct_items_viewed_lookback,
  u.max_funnel_step,
  SAFE_DIVIDE(u.events_lookback, u.sessions_lookback) AS events_per_session,
  u.device_category,
  u.operating_system,
  u.browser,
  u.country,
  u.first_touch_medium,
  u.first_touch_source,
  IFNULL(tv.top_viewed_category_lookback, '(none)') AS top_viewed_category_lookback,
  IFNULL(tv.top_viewed_category_share_lookback, 0.0) AS top_viewed_category_share_lookback,
  CASE
    WHEN DATE_DIFF(w.data_last_date, u.snapshot_date, DAY) < @horizon_days - 1 THEN NULL
    WHEN @target_event = 'churn' THEN IF(u.events_horizon = 0, 1, 0)
    WHEN u.target_events_horizon > 0 THEN 1
    ELSE 0
  END AS label,
  IF(
    DATE_DIFF(w.data_last_date, u.snapshot_date, DAY) < @horizon_days - 1,
    NULL,
    u.revenue_usd_horizon
  ) AS revenue_usd_horizon,
  IF(
    DATE_DIFF(w.data_last_date, u.snapshot_date, DAY) < @horizon_days - 1,
    NULL,
    IFNULL(u.next_purchase_category, '(none)')
  ) AS next_purchase_category,
  w.data_first_date,
  w.data_last_date
FROM user_snapshots AS u
CROSS JOIN data_window AS w
LEFT JOIN items_viewed AS iv
  ON iv.user_pseudo_id = u.user_pseudo_id AND iv.snapshot_date = u.snapshot_date
LEFT JOIN top_viewed_categories AS tv
  ON tv.user_pseudo_id = u.user_pseudo_id AND tv.snapshot_date = u.snapshot_date
WHERE @target_event != 'churn' OR u.sessions_last_7d > 0
ORDER BY u.snapshot_date, u.user_pseudo_id
