-- The customers ranked in each week, with the week's first day and whether they bought before.
-- The week calendar (week, cutoff) is the week_calendar table (week_calendar.sql).
WITH weeks AS (
  SELECT week, cutoff FROM week_calendar
),
-- The customers ranked each week: those who bought in a labelled week (only they carry a
-- label), every customer in week 0. The test week keeps a hashed sample of its buyers
-- (test_sample_per_million: 1000000 = all of them), weeks >= 2 another share of them
-- (train_sample_per_million); both shares use the same hash.
customer_weeks AS (
  SELECT DISTINCT w.week, w.cutoff, t.customer_id
  FROM weeks AS w
  JOIN transactions_train AS t
    ON CAST(t.t_dat AS DATE) >= w.cutoff
    AND CAST(t.t_dat AS DATE) < DATE_ADD(w.cutoff, INTERVAL 7 DAY)
  WHERE w.week >= 1
    AND MOD(ABS(FARM_FINGERPRINT(CONCAT(t.customer_id, @sample_salt))), 1000000)
      < IF(w.week = 1, @test_sample_per_million, @train_sample_per_million)
  UNION ALL
  SELECT w.week, w.cutoff, c.customer_id
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
  bb.customer_id IS NOT NULL AS has_history
FROM customer_weeks AS cw
LEFT JOIN buyers_before AS bb ON bb.week = cw.week AND bb.customer_id = cw.customer_id
