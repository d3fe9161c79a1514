-- Buy2buy co-visitation (the public OTTO candidate-rerank notebooks' "top_15_buy2buy"): for
-- every item, the items carted or ordered within @window_seconds (two weeks) of it in the
-- same session, among the session's last @max_events_per_session carts and orders, weight 1
-- per session, top @top_k per item. What is bought together: feeds the carts and orders lists
-- from the session's own carts and orders.
-- BigQuery Standard SQL: runs as is on BigQuery (conf/gcp) and, transpiled by sqlglot, on
-- DuckDB (conf/local). Table: sessions(session INT64, item INT64, ts INT64 seconds,
-- type INT64 0 clicks / 1 carts / 2 orders), the fit's sessions (train or refit).
WITH recent_buys AS (
  SELECT session, item, ts
  FROM (
    SELECT
      session,
      item,
      ts,
      ROW_NUMBER() OVER (PARTITION BY session ORDER BY ts DESC, item, type) AS events_back
    FROM sessions
    WHERE type IN (1, 2)
  )
  WHERE events_back <= @max_events_per_session
),

session_pairs AS (
  SELECT DISTINCT a.session, a.item, b.item AS neighbour
  FROM recent_buys AS a
  INNER JOIN recent_buys AS b
    ON a.session = b.session AND a.item != b.item AND ABS(a.ts - b.ts) < @window_seconds
),

neighbour_weights AS (
  SELECT item, neighbour, CAST(COUNT(*) AS FLOAT64) AS weight
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
