-- Source "popularity": the best-sellers before each cutoff, blended over several windows
-- (@popularity_windows_days): an article's score is the sum over windows of its share of the
-- window's sales. The same @popularity_top_n articles go to every ranked customer.
-- customer_weeks (a table: week, cutoff, customer_id, has_history) holds the customers
-- ranked each week and the week's first day, computed once by customer_weeks.sql from
-- week_calendar.sql. History for a week is every purchase strictly before its cutoff.
WITH weeks AS (
  SELECT DISTINCT week, cutoff FROM customer_weeks
),
window_sales AS (
  SELECT w.week, window_days, t.article_id, COUNT(*) AS sales
  FROM weeks AS w
  CROSS JOIN UNNEST(@popularity_windows_days) AS window_days
  JOIN transactions_train AS t
    ON CAST(t.t_dat AS DATE) < w.cutoff
    AND CAST(t.t_dat AS DATE) >= DATE_SUB(w.cutoff, INTERVAL window_days DAY)
  GROUP BY w.week, window_days, t.article_id
),
scores AS (
  SELECT week, article_id, SUM(share) AS score
  FROM (
    SELECT
      week,
      article_id,
      sales / SUM(sales) OVER (PARTITION BY week, window_days) AS share
    FROM window_sales
  )
  GROUP BY week, article_id
),
ranked AS (
  SELECT
    week,
    article_id,
    score,
    ROW_NUMBER() OVER (PARTITION BY week ORDER BY score DESC, article_id) AS source_rank
  FROM scores
)
SELECT cw.week, cw.customer_id, r.article_id, r.score, r.source_rank
FROM customer_weeks AS cw
JOIN ranked AS r ON r.week = cw.week
WHERE r.source_rank <= @popularity_top_n
