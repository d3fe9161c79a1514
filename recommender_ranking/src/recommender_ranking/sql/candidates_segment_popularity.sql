-- Source "segment_popularity": the best-sellers of the customer's age band
-- (@age_band_years wide; unknown age is its own band) over the last @segment_window_days.
-- customer_weeks (a table: week, cutoff, customer_id, has_history) holds the customers
-- ranked each week and the week's first day, computed once by customer_weeks.sql from
-- week_calendar.sql. History for a week is every purchase strictly before its cutoff.
WITH weeks AS (
  SELECT DISTINCT week, cutoff FROM customer_weeks
),
bands AS (
  SELECT customer_id, COALESCE(CAST(FLOOR(age / @age_band_years) AS INT64), -1) AS age_band
  FROM customers
),
band_sales AS (
  SELECT w.week, b.age_band, t.article_id, COUNT(*) AS sales
  FROM weeks AS w
  JOIN transactions_train AS t
    ON CAST(t.t_dat AS DATE) < w.cutoff
    AND CAST(t.t_dat AS DATE) >= DATE_SUB(w.cutoff, INTERVAL @segment_window_days DAY)
  JOIN bands AS b ON b.customer_id = t.customer_id
  GROUP BY w.week, b.age_band, t.article_id
),
ranked AS (
  SELECT
    week,
    age_band,
    article_id,
    sales,
    ROW_NUMBER() OVER (PARTITION BY week, age_band ORDER BY sales DESC, article_id) AS source_rank
  FROM band_sales
)
SELECT
  cw.week,
  cw.customer_id,
  r.article_id,
  CAST(r.sales AS FLOAT64) AS score,
  r.source_rank
FROM customer_weeks AS cw
JOIN bands AS b ON b.customer_id = cw.customer_id
JOIN ranked AS r ON r.week = cw.week AND r.age_band = b.age_band
WHERE r.source_rank <= @segment_top_n
