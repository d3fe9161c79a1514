-- The customers ranked in each week, with the week's first day, whether they bought before,
-- and buyer_share: the share of the week's buyers that are ranked (1 in week 0 and without a
-- sample; model_evaluation reads it for the test week).
-- The week calendar (week, cutoff) is the week_calendar table (week_calendar.sql).
WITH weeks AS (
  SELECT week, cutoff FROM week_calendar
),
-- Only the buyers of a labelled week carry a label. Each buyer gets a seeded hash.
week_buyers AS (
  SELECT DISTINCT
    w.week,
    w.cutoff,
    t.customer_id,
    MOD(ABS(FARM_FINGERPRINT(CONCAT(t.customer_id, @sample_salt))), 1000000) AS customer_hash
  FROM weeks AS w
  JOIN transactions_train AS t
    ON CAST(t.t_dat AS DATE) >= w.cutoff
    AND CAST(t.t_dat AS DATE) < DATE_ADD(w.cutoff, INTERVAL 7 DAY)
  WHERE w.week >= 1
),
counted_buyers AS (
  SELECT *, COUNT(*) OVER (PARTITION BY week) AS n_week_buyers FROM week_buyers
),
-- The test week (1) keeps the buyers whose hash is below test_sample_per_million (1000000:
-- all of them), weeks >= 2 below train_sample_per_million (the same hash: nested samples);
-- then at most max_test_buyers / max_train_buyers_per_week of them, lowest hashes first, so
-- the labelled rows stay bounded at any data size.
hashed_buyers AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY week ORDER BY customer_hash, customer_id) AS hash_rank,
    COUNT(*) OVER (PARTITION BY week) AS n_hashed,
    IF(week = 1, @max_test_buyers, @max_train_buyers_per_week) AS max_buyers
  FROM counted_buyers
  WHERE customer_hash < IF(week = 1, @test_sample_per_million, @train_sample_per_million)
),
customer_weeks AS (
  SELECT
    week,
    cutoff,
    customer_id,
    CAST(LEAST(n_hashed, max_buyers) AS FLOAT64) / n_week_buyers AS buyer_share
  FROM hashed_buyers
  WHERE hash_rank <= max_buyers
  UNION ALL
  SELECT w.week, w.cutoff, c.customer_id, 1.0 AS buyer_share
  FROM weeks AS w CROSS JOIN customers AS c
  WHERE w.week = 0
),
buyers_before AS (
  SELECT DISTINCT cw.week, cw.customer_id
  FROM customer_weeks AS cw
  JOIN transactions_train AS t
    ON t.customer_id = cw.customer_id AND CAST(t.t_dat AS DATE) < cw.cutoff
)
SELECT
  cw.week,
  cw.customer_id,
  cw.cutoff,
  bb.customer_id IS NOT NULL AS has_history,
  cw.buyer_share
FROM customer_weeks AS cw
LEFT JOIN buyers_before AS bb ON bb.week = cw.week AND bb.customer_id = cw.customer_id
