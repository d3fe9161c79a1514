-- Hand-written customer features, each computed from purchases before the week's cutoff only:
-- recency, frequency, price and channel, and the customer's profile columns.
-- customer_weeks (a table: week, cutoff, customer_id, has_history) holds the customers
-- ranked each week and the week's first day, computed once by customer_weeks.sql from
-- week_calendar.sql. History for a week is every purchase strictly before its cutoff.
WITH history AS (
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
