-- Source "same_product": other articles of the same product_code (colour variants and the
-- like) as what the customer bought in the last @same_product_window_days, best-selling first
-- (sales in the 7 days before the cutoff). A variant is on sale for a week only from its first
-- sale before the week's cutoff: on the real data colour variants launch at different dates, and
-- today's articles table lists variants first sold later.
-- customer_weeks (a table: week, cutoff, customer_id, has_history) holds the customers
-- ranked each week and the week's first day, computed once by customer_weeks.sql from
-- week_calendar.sql. History for a week is every purchase strictly before its cutoff.
WITH weeks AS (
  SELECT DISTINCT week, cutoff FROM customer_weeks
),
first_sales AS (
  SELECT article_id, MIN(CAST(t_dat AS DATE)) AS first_sold FROM transactions_train GROUP BY article_id
),
seeds AS (
  SELECT DISTINCT cw.week, cw.cutoff, cw.customer_id, a.product_code
  FROM customer_weeks AS cw
  JOIN transactions_train AS t
    ON t.customer_id = cw.customer_id
    AND CAST(t.t_dat AS DATE) < cw.cutoff
    AND CAST(t.t_dat AS DATE) >= DATE_SUB(cw.cutoff, INTERVAL @same_product_window_days DAY)
  JOIN articles AS a ON a.article_id = t.article_id
),
last_week_sales AS (
  SELECT w.week, t.article_id, COUNT(*) AS sales
  FROM weeks AS w
  JOIN transactions_train AS t
    ON CAST(t.t_dat AS DATE) < w.cutoff
    AND CAST(t.t_dat AS DATE) >= DATE_SUB(w.cutoff, INTERVAL 7 DAY)
  GROUP BY w.week, t.article_id
),
scored AS (
  SELECT s.week, s.customer_id, a.article_id, CAST(COALESCE(l.sales, 0) AS FLOAT64) AS score
  FROM seeds AS s
  JOIN articles AS a ON a.product_code = s.product_code
  JOIN first_sales AS f ON f.article_id = a.article_id AND f.first_sold < s.cutoff
  LEFT JOIN last_week_sales AS l ON l.week = s.week AND l.article_id = a.article_id
),
ranked AS (
  SELECT
    week,
    customer_id,
    article_id,
    score,
    ROW_NUMBER() OVER (
      PARTITION BY week, customer_id ORDER BY score DESC, article_id
    ) AS source_rank
  FROM scored
)
SELECT week, customer_id, article_id, score, source_rank
FROM ranked
WHERE source_rank <= @same_product_top_n
