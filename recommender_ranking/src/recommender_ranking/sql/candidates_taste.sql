-- Source "taste": the week's best-sellers in the cells (product group x colour) the customer
-- bought in the last @taste_window_days. An article scores its sales in the 7 days before the
-- cutoff times the share of the customer's recent purchases that fell in its cell.
-- customer_weeks (a table: week, cutoff, customer_id, has_history) holds the customers
-- ranked each week and the week's first day, computed once by customer_weeks.sql from
-- week_calendar.sql. History for a week is every purchase strictly before its cutoff.
WITH weeks AS (
  SELECT DISTINCT week, cutoff FROM customer_weeks
),
cells AS (
  SELECT
    cw.week,
    cw.customer_id,
    a.product_group_name,
    a.colour_group_code,
    COUNT(*) / SUM(COUNT(*)) OVER (PARTITION BY cw.week, cw.customer_id) AS share
  FROM customer_weeks AS cw
  JOIN transactions_train AS t
    ON t.customer_id = cw.customer_id
    AND CAST(t.t_dat AS DATE) < cw.cutoff
    AND CAST(t.t_dat AS DATE) >= DATE_SUB(cw.cutoff, INTERVAL @taste_window_days DAY)
  JOIN articles AS a ON a.article_id = t.article_id
  GROUP BY cw.week, cw.customer_id, a.product_group_name, a.colour_group_code
),
-- Within a cell a customer's scores follow the articles' sales, so only each cell's
-- @taste_top_n best sellers can reach a customer's top @taste_top_n: keeping just those makes
-- the join below cells x @taste_top_n rows per customer, not cells x every article sold
-- (6 of the 10 minutes of week 0's queries at the real H&M size before).
cell_sales AS (
  SELECT w.week, a.article_id, a.product_group_name, a.colour_group_code, COUNT(*) AS sales
  FROM weeks AS w
  JOIN transactions_train AS t
    ON CAST(t.t_dat AS DATE) < w.cutoff
    AND CAST(t.t_dat AS DATE) >= DATE_SUB(w.cutoff, INTERVAL 7 DAY)
  JOIN articles AS a ON a.article_id = t.article_id
  GROUP BY w.week, a.article_id, a.product_group_name, a.colour_group_code
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY w.week, a.product_group_name, a.colour_group_code
    ORDER BY COUNT(*) DESC, a.article_id
  ) <= @taste_top_n
),
ranked AS (
  SELECT
    c.week,
    c.customer_id,
    s.article_id,
    c.share * s.sales AS score,
    ROW_NUMBER() OVER (
      PARTITION BY c.week, c.customer_id ORDER BY c.share * s.sales DESC, s.article_id
    ) AS source_rank
  FROM cells AS c
  JOIN cell_sales AS s
    ON s.week = c.week
    AND s.product_group_name = c.product_group_name
    AND s.colour_group_code = c.colour_group_code
)
SELECT week, customer_id, article_id, score, source_rank
FROM ranked
WHERE source_rank <= @taste_top_n
