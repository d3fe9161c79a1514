-- Hand-written customer x article features for pairs with history before the cutoff: how
-- often and how long ago the customer bought the article and its product (product_code).
-- customer_weeks (a table: week, cutoff, customer_id, has_history) holds the customers
-- ranked each week and the week's first day, computed once by customer_weeks.sql from
-- week_calendar.sql. History for a week is every purchase strictly before its cutoff. An article
-- counts for a week only from its first sale before the cutoff (variants launch at other dates).
WITH first_sales AS (
  SELECT article_id, MIN(CAST(t_dat AS DATE)) AS first_sold FROM transactions_train GROUP BY article_id
),
history AS (
  SELECT
    cw.week,
    cw.customer_id,
    t.article_id,
    a.product_code,
    cw.cutoff,
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
    cutoff,
    customer_id,
    product_code,
    COUNT(*) AS pair_product_times_bought,
    DIV(MIN(days_ago), 7) AS pair_product_weeks_since_bought
  FROM history
  GROUP BY week, cutoff, customer_id, product_code
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
JOIN first_sales AS f ON f.article_id = a.article_id AND f.first_sold < p.cutoff
LEFT JOIN by_article AS ba
  ON ba.week = p.week AND ba.customer_id = p.customer_id AND ba.article_id = a.article_id
