-- Co-visitation neighbours: for every item, the items met in the same sessions within a time
-- window, weighted by the neighbour event's type (a cart says more than a click) and by how
-- recent the event is in the training period (popularity trends). The strong OTTO baseline.
-- BigQuery Standard SQL: runs as is on BigQuery (conf/gcp) and, transpiled by sqlglot, on
-- DuckDB (conf/local). Table: train_sessions(session INT64, item INT64, ts INT64 seconds,
-- type INT64 0 clicks / 1 carts / 2 orders).
WITH recent_events AS (
  SELECT session, item, ts, type
  FROM (
    SELECT
      session,
      item,
      ts,
      type,
      ROW_NUMBER() OVER (PARTITION BY session ORDER BY ts DESC, item, type) AS events_back
    FROM train_sessions
  )
  WHERE events_back <= @max_events_per_session
),

period AS (
  SELECT MIN(ts) AS first_ts, MAX(ts) AS last_ts FROM recent_events
),

-- One weight per session and item pair: a pair seen twice in a session counts once.
session_pairs AS (
  SELECT
    a.item,
    b.item AS neighbour,
    a.session,
    MAX(
      CASE b.type WHEN 0 THEN @click_weight WHEN 1 THEN @cart_weight ELSE @order_weight END
      * (1 + @time_weight * IFNULL(SAFE_DIVIDE(b.ts - period.first_ts, period.last_ts - period.first_ts), 0))
    ) AS weight
  FROM recent_events AS a
  INNER JOIN recent_events AS b
    ON a.session = b.session AND a.item != b.item AND ABS(a.ts - b.ts) < @window_seconds
  CROSS JOIN period
  GROUP BY a.item, b.item, a.session
),

neighbour_weights AS (
  -- Rounded so that the parallel, order-dependent float sums of DuckDB give the same ranks.
  SELECT item, neighbour, ROUND(SUM(weight), 6) AS weight
  FROM session_pairs
  GROUP BY item, neighbour
)

SELECT item, neighbour, weight, rank
FROM (
  SELECT
    item,
    neighbour,
    weight,
    ROW_NUMBER() OVER (PARTITION BY item ORDER BY weight DESC, neighbour) AS rank
  FROM neighbour_weights
)
WHERE rank <= @top_k
ORDER BY item, rank
