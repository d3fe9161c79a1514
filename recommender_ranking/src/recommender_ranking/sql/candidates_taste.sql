-- Source "taste": the week's best-sellers in the cells (product group x colour) the customer
-- bought in the last @taste_window_days. An article scores its sales in the 7 days before the
-- cutoff times the share of the customer's recent purchases that fell in its cell.
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
cell_sales AS (
  SELECT w.week, a.article_id, a.product_group_name, a.colour_group_code, COUNT(*) AS sales
  FROM weeks AS w
  JOIN transactions_train AS t
    ON CAST(t.t_dat AS DATE) < w.cutoff
    AND CAST(t.t_dat AS DATE) >= DATE_SUB(w.cutoff, INTERVAL 7 DAY)
  JOIN articles AS a ON a.article_id = t.article_id
  GROUP BY w.week, a.article_id, a.product_group_name, a.colour_group_code
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
