-- Source "repurchase": what the customer bought in the last @repurchase_window_days, most
-- recent first (then most often bought).
-- customer_weeks (a table: week, cutoff, customer_id, has_history) holds the customers
-- ranked each week and the week's first day, computed once by customer_weeks.sql from
-- week_calendar.sql. History for a week is every purchase strictly before its cutoff.
WITH bought AS (
  SELECT
    cw.week,
    cw.customer_id,
    t.article_id,
    COUNT(*) AS times_bought,
    MAX(CAST(t.t_dat AS DATE)) AS last_day_bought
  FROM customer_weeks AS cw
  JOIN transactions_train AS t
    ON t.customer_id = cw.customer_id
    AND CAST(t.t_dat AS DATE) < cw.cutoff
    AND CAST(t.t_dat AS DATE) >= DATE_SUB(cw.cutoff, INTERVAL @repurchase_window_days DAY)
  GROUP BY cw.week, cw.customer_id, t.article_id
),
ranked AS (
  SELECT
    week,
    customer_id,
    article_id,
    CAST(times_bought AS FLOAT64) AS score,
    ROW_NUMBER() OVER (
      PARTITION BY week, customer_id ORDER BY last_day_bought DESC, times_bought DESC, article_id
    ) AS source_rank
  FROM bought
)
SELECT week, customer_id, article_id, score, source_rank
FROM ranked
WHERE source_rank <= @repurchase_top_n
