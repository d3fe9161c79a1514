-- Directed item-to-item transitions (the Markov baseline): for every item a, the items b that
-- follow it within the next @max_steps distinct events of a session (repeats of one item in a
-- row count as one event) and within @window_seconds, each occurrence weighing
-- @step_decay ^ (steps - 1) (the next item 1), summed over every session, top @top_k
-- successors per item. Unlike co-visitation the direction is kept: b after a is not a after b.
-- Only each session's last @max_events_per_session events count (bots and very long sessions).
-- BigQuery Standard SQL: runs as is on BigQuery (conf/gcp) and, transpiled by sqlglot, on
-- DuckDB (conf/local). Table: sessions(session INT64, item INT64, ts INT64 seconds,
-- type INT64), the fit's sessions (train or refit).
WITH ordered AS (
  SELECT
    session,
    item,
    ts,
    type,
    LEAD(item) OVER (PARTITION BY session ORDER BY ts, type, item) AS next_item
  FROM sessions
),

-- The last event of every run of one item, numbered from the session's end.
changes AS (
  SELECT
    session,
    item,
    ts,
    ROW_NUMBER() OVER (PARTITION BY session ORDER BY ts DESC, type DESC, item DESC) AS events_back
  FROM ordered
  WHERE next_item IS NULL OR next_item != item
),

recent AS (
  SELECT session, item, ts, events_back
  FROM changes
  WHERE events_back <= @max_events_per_session
),

transitions AS (
  SELECT
    a.item,
    b.item AS successor,
    SUM(POW(@step_decay, step - 1)) AS weight
  FROM recent AS a
  CROSS JOIN UNNEST(GENERATE_ARRAY(1, @max_steps)) AS step
  INNER JOIN recent AS b
    ON b.session = a.session AND b.events_back = a.events_back - step
  WHERE a.item != b.item AND b.ts - a.ts < @window_seconds
  GROUP BY a.item, b.item
)

SELECT item, successor, weight, rank
FROM (
  SELECT
    item,
    successor,
    ROUND(weight, 6) AS weight,
    ROW_NUMBER() OVER (PARTITION BY item ORDER BY ROUND(weight, 6) DESC, successor) AS rank
  FROM transitions
)
WHERE rank <= @top_k
