-- Hand-written customer features, each computed from purchases before the week's cutoff only:
-- recency, frequency, price and channel, and the customer's profile columns.
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
    DATE_DIFF(cw.cutoff, CAST(t.t_dat AS DATE), DAY) AS days_ago,
    CAST(t.t_dat AS DATE) AS day,
    t.price,
    t.sales_channel_id
  FROM customer_weeks AS cw
  JOIN transactions_train AS t
    ON t.customer_id = cw.customer_id AND CAST(t.t_dat AS DATE) < cw.cutoff
),
aggregated AS (
  SELECT
    week,
    customer_id,
    MIN(days_ago) AS customer_days_since_last_purchase,
    MAX(days_ago) AS customer_days_since_first_purchase,
    COUNT(*) AS customer_purchases,
    COUNTIF(days_ago <= 7) AS customer_purchases_1w,
    COUNTIF(days_ago <= 28) AS customer_purchases_4w,
    COUNT(DISTINCT day) AS customer_active_days,
    ROUND(AVG(price), 6) AS customer_mean_price,  -- rounded: parallel float sums vary
    MAX(price) AS customer_max_price,
    AVG(IF(sales_channel_id = 2, 1.0, 0.0)) AS customer_online_share
  FROM history
  GROUP BY week, customer_id
)
SELECT
  cw.week,
  cw.customer_id,
  a.customer_days_since_last_purchase,
  a.customer_days_since_first_purchase,
  COALESCE(a.customer_purchases, 0) AS customer_purchases,
  COALESCE(a.customer_purchases_1w, 0) AS customer_purchases_1w,
  COALESCE(a.customer_purchases_4w, 0) AS customer_purchases_4w,
  COALESCE(a.customer_active_days, 0) AS customer_active_days,
  a.customer_mean_price,
  a.customer_max_price,
  a.customer_online_share,
  c.age AS customer_age,
  IF(c.club_member_status = 'ACTIVE', 1.0, 0.0) AS customer_club_active,
  IF(c.fashion_news_frequency = 'Regularly', 1.0, 0.0) AS customer_news_regularly
FROM customer_weeks AS cw
LEFT JOIN aggregated AS a ON a.week = cw.week AND a.customer_id = cw.customer_id
LEFT JOIN customers AS c ON c.customer_id = cw.customer_id
