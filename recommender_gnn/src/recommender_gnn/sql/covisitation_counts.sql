-- Co-visitation counts of the public OTTO candidate-rerank notebooks, the two matrices that
-- share one self-join: for every item, the items met within @window_seconds among each
-- session's last @max_events_per_session events, each pair counted once per session (its
-- largest weight), then the top neighbours per item of each matrix:
-- - 'clicks' (top_20_clicks; feeds the clicks list): weighted by when the pair happened in the
--   fit period, 1 at its first second to 1 + @time_weight at its last (popularity trends);
--   top @clicks_top_k;
-- - 'carts_orders' (top_15_carts_orders; feeds the carts and orders lists): weighted by the
--   neighbour event's type (@click_weight, @cart_weight, @order_weight: a cart says more than
--   a click); top @carts_orders_top_k.
-- BigQuery Standard SQL: runs as is on BigQuery (conf/gcp) and, transpiled by sqlglot, on
-- DuckDB (conf/local). Table: sessions(session INT64, item INT64, ts INT64 seconds,
-- type INT64 0 clicks / 1 carts / 2 orders), the fit's sessions (train or refit).
-- @part of @parts: only items with MOD(item, @parts) = @part, so that a large table can be
-- counted in passes whose results are concatenated (BigQuery: one part).
WITH recent_events AS (
  SELECT session, item, ts, type
  FROM (
    SELECT
      session,
      item,
      ts,
      type,
      ROW_NUMBER() OVER (PARTITION BY session ORDER BY ts DESC, item, type) AS events_back
    FROM sessions
  )
  WHERE events_back <= @max_events_per_session
),

period AS (
  SELECT MIN(ts) AS first_ts, MAX(ts) AS last_ts FROM sessions
),

session_pairs AS (
  SELECT
    a.item,
    b.item AS neighbour,
    MAX(
      1 + @time_weight
      * IFNULL(SAFE_DIVIDE(a.ts - period.first_ts, period.last_ts - period.first_ts), 0)
    ) AS clicks_weight,
    MAX(CASE b.type WHEN 0 THEN @click_weight WHEN 1 THEN @cart_weight ELSE @order_weight END)
      AS carts_orders_weight
  FROM recent_events AS a
  INNER JOIN recent_events AS b
    ON a.session = b.session AND a.item != b.item AND ABS(a.ts - b.ts) < @window_seconds
  CROSS JOIN period
  WHERE MOD(a.item, @parts) = @part
  GROUP BY a.session, a.item, b.item
),

pair_weights AS (
  -- Rounded so that the parallel, order-dependent float sums of DuckDB give the same ranks.
  SELECT
    item,
    neighbour,
    ROUND(SUM(clicks_weight), 6) AS clicks_weight,
    ROUND(SUM(carts_orders_weight), 6) AS carts_orders_weight
  FROM session_pairs
  GROUP BY item, neighbour
)

SELECT 'clicks' AS matrix, item, neighbour, weight, rank
FROM (
  SELECT
    item,
    neighbour,
    clicks_weight AS weight,
    ROW_NUMBER() OVER (PARTITION BY item ORDER BY clicks_weight DESC, neighbour) AS rank
  FROM pair_weights
)
WHERE rank <= @clicks_top_k

UNION ALL

SELECT 'carts_orders' AS matrix, item, neighbour, weight, rank
FROM (
  SELECT
    item,
    neighbour,
    carts_orders_weight AS weight,
    ROW_NUMBER() OVER (PARTITION BY item ORDER BY carts_orders_weight DESC, neighbour) AS rank
  FROM pair_weights
)
WHERE rank <= @carts_orders_top_k
