-- Hand-written customer features, each computed from purchases before the week's cutoff only:
-- recency, frequency, price and channel, and the customer's profile columns.
-- customer_mean_log_relative_price: the mean over the customer's purchases of the bought
-- article's article_log_relative_price (article_features.sql, same definition, as of the
-- week's cutoff): the price level he buys at within each product type.
-- customer_weeks (a table: week, cutoff, customer_id, has_history) holds the customers
-- ranked each week and the week's first day, computed once by customer_weeks.sql from
-- week_calendar.sql. History for a week is every purchase strictly before its cutoff.
WITH weeks AS (
  SELECT DISTINCT week, cutoff FROM customer_weeks
),
article_prices AS (
  SELECT
    w.week,
    t.article_id,
    ROUND(AVG(t.price), 6) AS mean_price  -- as article_mean_price
  FROM weeks AS w
  JOIN transactions_train AS t ON CAST(t.t_dat AS DATE) < w.cutoff
  GROUP BY w.week, t.article_id
),
relative_prices AS (
  SELECT
    p.week,
    p.article_id,
    ROUND(
      LN(p.mean_price) - AVG(LN(p.mean_price)) OVER (PARTITION BY p.week, a.product_type_no), 6
    ) AS log_relative_price
  FROM article_prices AS p
  JOIN articles AS a ON a.article_id = p.article_id
  WHERE p.mean_price > 0
),
history AS (
  SELECT
    cw.week,
    cw.customer_id,
    DATE_DIFF(cw.cutoff, CAST(t.t_dat AS DATE), DAY) AS days_ago,
    CAST(t.t_dat AS DATE) AS day,
    t.price,
    r.log_relative_price,
    t.sales_channel_id
  FROM customer_weeks AS cw
  JOIN transactions_train AS t
    ON t.customer_id = cw.customer_id AND CAST(t.t_dat AS DATE) < cw.cutoff
  LEFT JOIN relative_prices AS r ON r.week = cw.week AND r.article_id = t.article_id
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
    ROUND(AVG(log_relative_price), 6) AS customer_mean_log_relative_price,
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
  a.customer_mean_log_relative_price,
  a.customer_online_share,
  c.age AS customer_age,
  IF(c.club_member_status = 'ACTIVE', 1.0, 0.0) AS customer_club_active,
  IF(c.fashion_news_frequency = 'Regularly', 1.0, 0.0) AS customer_news_regularly
FROM customer_weeks AS cw
LEFT JOIN aggregated AS a ON a.week = cw.week AND a.customer_id = cw.customer_id
LEFT JOIN customers AS c ON c.customer_id = cw.customer_id
