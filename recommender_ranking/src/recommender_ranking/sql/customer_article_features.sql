-- Hand-written customer x article features for pairs with history before the cutoff: how
-- often and how long ago the customer bought the article and its product (product_code).
-- Week calendar (the same lines open every query here: each file runs alone on BigQuery).
-- Week 0 is the 7 days after the last day (@as_of_date, or the last day of the data when it
-- is ""), week 1 the 7 days before (test), week 2 validation, weeks 3 .. 2 + @n_train_weeks
-- training. History for a week is every purchase strictly before its cutoff.
WITH last_day AS (
  SELECT COALESCE(SAFE_CAST(@as_of_date AS DATE), MAX(CAST(t_dat AS DATE))) AS day
  FROM transactions_train
),
weeks AS (
  SELECT week, DATE_ADD(last_day.day, INTERVAL 1 - 7 * week DAY) AS cutoff
  FROM last_day CROSS JOIN UNNEST(GENERATE_ARRAY(0, @n_train_weeks + 2)) AS week
),
-- The customers ranked each week: those who bought in a labelled week (only they carry a
-- label; weeks >= 2 keep a hashed sample of them), every customer in week 0.
customer_weeks AS (
  SELECT DISTINCT w.week, w.cutoff, t.customer_id
  FROM weeks AS w
  JOIN transactions_train AS t
    ON CAST(t.t_dat AS DATE) >= w.cutoff
    AND CAST(t.t_dat AS DATE) < DATE_ADD(w.cutoff, INTERVAL 7 DAY)
  WHERE w.week = 1
    OR (
      w.week >= 2
      AND MOD(ABS(FARM_FINGERPRINT(CONCAT(t.customer_id, @sample_salt))), 1000000)
        < @train_sample_per_million
    )
  UNION ALL
  SELECT w.week, w.cutoff, c.customer_id
  FROM weeks AS w CROSS JOIN customers AS c
  WHERE w.week = 0
),
history AS (
  SELECT
    cw.week,
    cw.customer_id,
    t.article_id,
    a.product_code,
    DATE_DIFF(cw.cutoff, CAST(t.t_dat AS DATE), DAY) AS days_ago
  FROM customer_weeks AS cw
  JOIN transactions_train AS t
    ON t.customer_id = cw.customer_id AND CAST(t.t_dat AS DATE) < cw.cutoff
  JOIN articles AS a ON a.article_id = t.article_id
),
by_article AS (
  SELECT
    week,
    customer_id,
    article_id,
    COUNT(*) AS pair_times_bought,
    DIV(MIN(days_ago), 7) AS pair_weeks_since_bought
  FROM history
  GROUP BY week, customer_id, article_id
),
by_product AS (
  SELECT
    week,
    customer_id,
    product_code,
    COUNT(*) AS pair_product_times_bought,
    DIV(MIN(days_ago), 7) AS pair_product_weeks_since_bought
  FROM history
  GROUP BY week, customer_id, product_code
)
SELECT
  p.week,
  p.customer_id,
  a.article_id,
  ba.pair_times_bought,
  ba.pair_weeks_since_bought,
  p.pair_product_times_bought,
  p.pair_product_weeks_since_bought
FROM by_product AS p
JOIN articles AS a ON a.product_code = p.product_code
LEFT JOIN by_article AS ba
  ON ba.week = p.week AND ba.customer_id = p.customer_id AND ba.article_id = a.article_id
