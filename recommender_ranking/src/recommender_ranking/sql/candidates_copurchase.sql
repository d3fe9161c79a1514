-- Source "copurchase" (item-to-item): articles bought on the same day by the same customer as
-- an article this customer bought in the last @copurchase_seed_days, counted over baskets of
-- the last @copurchase_window_days; an article's score sums its pair counts over the seeds.
-- Each seed keeps only its @copurchase_partners_per_seed most frequent partners (QUALIFY), so
-- the seeds-by-partners join stays small at the real H&M size.
-- customer_weeks (a table: week, cutoff, customer_id, has_history) holds the customers
-- ranked each week and the week's first day, computed once by customer_weeks.sql from
-- week_calendar.sql. History for a week is every purchase strictly before its cutoff.
WITH weeks AS (
  SELECT DISTINCT week, cutoff FROM customer_weeks
),
baskets AS (
  SELECT DISTINCT w.week, t.customer_id, CAST(t.t_dat AS DATE) AS day, t.article_id
  FROM weeks AS w
  JOIN transactions_train AS t
    ON CAST(t.t_dat AS DATE) < w.cutoff
    AND CAST(t.t_dat AS DATE) >= DATE_SUB(w.cutoff, INTERVAL @copurchase_window_days DAY)
),
pairs AS (
  SELECT a.week, a.article_id AS seed_article_id, b.article_id, COUNT(*) AS pair_count
  FROM baskets AS a
  JOIN baskets AS b
    ON b.week = a.week
    AND b.customer_id = a.customer_id
    AND b.day = a.day
    AND b.article_id != a.article_id
  GROUP BY a.week, a.article_id, b.article_id
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY a.week, a.article_id ORDER BY COUNT(*) DESC, b.article_id
  ) <= @copurchase_partners_per_seed
),
seeds AS (
  SELECT DISTINCT cw.week, cw.customer_id, t.article_id AS seed_article_id
  FROM customer_weeks AS cw
  JOIN transactions_train AS t
    ON t.customer_id = cw.customer_id
    AND CAST(t.t_dat AS DATE) < cw.cutoff
    AND CAST(t.t_dat AS DATE) >= DATE_SUB(cw.cutoff, INTERVAL @copurchase_seed_days DAY)
),
scored AS (
  SELECT s.week, s.customer_id, p.article_id, CAST(SUM(p.pair_count) AS FLOAT64) AS score
  FROM seeds AS s
  JOIN pairs AS p ON p.week = s.week AND p.seed_article_id = s.seed_article_id
  GROUP BY s.week, s.customer_id, p.article_id
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
WHERE source_rank <= @copurchase_top_n
