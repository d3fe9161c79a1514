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
-- Two exact shortcuts (tests/pipelines/baselines/test_covisitation_sql.py checks each against
-- pandas), 1.5x faster on a part at OTTO's size (benchmarks/RESULTS.md): a session whose recent
-- events lie within one window is paired per item, not per event; the top-k ranks only the
-- neighbours that can reach it.
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

event_weights AS (
  -- Each recent event's weight as a pair's item (clicks: when) and as its neighbour
  -- (carts-orders: its type), and whether its session's recent events all lie in one window.
  SELECT
    session,
    item,
    ts,
    1 + @time_weight
    * IFNULL(SAFE_DIVIDE(ts - period.first_ts, period.last_ts - period.first_ts), 0)
      AS clicks_weight,
    CASE type WHEN 0 THEN @click_weight WHEN 1 THEN @cart_weight ELSE @order_weight END
      AS carts_orders_weight,
    MAX(ts) OVER (PARTITION BY session) - MIN(ts) OVER (PARTITION BY session) < @window_seconds
      AS within_window
  FROM recent_events
  CROSS JOIN period
),

session_items AS (
  -- A session within one window pairs every two of its items: a pair's weights are then the
  -- item's largest clicks weight and the neighbour's largest type weight, so its events
  -- reduce to one row per item before the join instead of one row per pair after it.
  SELECT
    session,
    item,
    MAX(clicks_weight) AS clicks_weight,
    MAX(carts_orders_weight) AS carts_orders_weight
  FROM event_weights
  WHERE within_window
  GROUP BY session, item
),

session_pairs AS (
  SELECT a.item, b.item AS neighbour, a.clicks_weight, b.carts_orders_weight
  FROM session_items AS a
  INNER JOIN session_items AS b ON a.session = b.session AND a.item != b.item
  WHERE MOD(a.item, @parts) = @part

  UNION ALL

  -- Longer sessions: only events within the window pair, each pair once per session.
  SELECT
    a.item,
    b.item AS neighbour,
    MAX(a.clicks_weight) AS clicks_weight,
    MAX(b.carts_orders_weight) AS carts_orders_weight
  FROM event_weights AS a
  INNER JOIN event_weights AS b
    ON a.session = b.session AND a.item != b.item AND ABS(a.ts - b.ts) < @window_seconds
  WHERE NOT a.within_window AND NOT b.within_window AND MOD(a.item, @parts) = @part
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
),

strong_neighbours AS (
  -- Neighbours weighing at least one session's largest weight, counted per item: an item
  -- with top_k of them ranks every lighter neighbour below its top_k, so those skip the sort
  -- (exact whatever the threshold; this one leaves about a third of the pairs to sort).
  SELECT
    item,
    COUNTIF(clicks_weight >= 1 + @time_weight) AS strong_clicks,
    COUNTIF(carts_orders_weight >= GREATEST(@click_weight, @cart_weight, @order_weight))
      AS strong_carts_orders
  FROM pair_weights
  GROUP BY item
)

SELECT 'clicks' AS matrix, item, neighbour, weight, rank
FROM (
  SELECT
    item,
    neighbour,
    clicks_weight AS weight,
    ROW_NUMBER() OVER (PARTITION BY item ORDER BY clicks_weight DESC, neighbour) AS rank
  FROM pair_weights
  INNER JOIN strong_neighbours USING (item)
  WHERE clicks_weight >= 1 + @time_weight OR strong_clicks < @clicks_top_k
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
  INNER JOIN strong_neighbours USING (item)
  WHERE
    carts_orders_weight >= GREATEST(@click_weight, @cart_weight, @order_weight)
    OR strong_carts_orders < @carts_orders_top_k
)
WHERE rank <= @carts_orders_top_k
