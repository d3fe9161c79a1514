-- Hand-written article features from sales before each week's cutoff: popularity and its trend,
-- price, channel, age of the article in the shop, and its attribute codes.
-- article_log_relative_price: log of the article's mean price over the geometric mean of the
-- mean prices of its product type's articles sold before the cutoff (each article once): its
-- price level within its kind (0 = the type's usual price); customer_features.sql computes the
-- same value to average it over each customer's purchases.
-- customer_weeks (a table: week, cutoff, customer_id, has_history) holds the customers
-- ranked each week and the week's first day, computed once by customer_weeks.sql from
-- week_calendar.sql. History for a week is every purchase strictly before its cutoff.
WITH weeks AS (
  SELECT DISTINCT week, cutoff FROM customer_weeks
),
sales AS (
  SELECT
    w.week,
    t.article_id,
    COUNTIF(DATE_DIFF(w.cutoff, CAST(t.t_dat AS DATE), DAY) <= 7) AS article_sales_1w,
    COUNTIF(DATE_DIFF(w.cutoff, CAST(t.t_dat AS DATE), DAY) <= 28) AS article_sales_4w,
    COUNT(*) AS article_sales,
    COUNT(DISTINCT IF(
      DATE_DIFF(w.cutoff, CAST(t.t_dat AS DATE), DAY) <= 28, t.customer_id, NULL
    )) AS article_buyers_4w,
    ROUND(AVG(t.price), 6) AS article_mean_price,  -- rounded: parallel float sums vary
    AVG(IF(t.sales_channel_id = 2, 1.0, 0.0)) AS article_online_share,
    MIN(DATE_DIFF(w.cutoff, CAST(t.t_dat AS DATE), DAY)) AS article_days_since_last_sale,
    MAX(DATE_DIFF(w.cutoff, CAST(t.t_dat AS DATE), DAY)) AS article_days_since_first_sale
  FROM weeks AS w
  JOIN transactions_train AS t ON CAST(t.t_dat AS DATE) < w.cutoff
  GROUP BY w.week, t.article_id
),
relative_prices AS (
  SELECT
    s.week,
    s.article_id,
    ROUND(
      LN(s.article_mean_price)
      - AVG(LN(s.article_mean_price)) OVER (PARTITION BY s.week, a.product_type_no),
      6
    ) AS article_log_relative_price
  FROM sales AS s
  JOIN articles AS a ON a.article_id = s.article_id
  WHERE s.article_mean_price > 0
)
SELECT
  w.week,
  a.article_id,
  COALESCE(s.article_sales_1w, 0) AS article_sales_1w,
  COALESCE(s.article_sales_4w, 0) AS article_sales_4w,
  COALESCE(s.article_sales, 0) AS article_sales,
  COALESCE(s.article_buyers_4w, 0) AS article_buyers_4w,
  -- last week's sales over the weekly mean of the last four weeks: > 1 means rising
  SAFE_DIVIDE(s.article_sales_1w, s.article_sales_4w / 4) AS article_trend,
  s.article_mean_price,
  r.article_log_relative_price,
  s.article_online_share,
  s.article_days_since_last_sale,
  s.article_days_since_first_sale,
  a.product_type_no AS article_product_type_no,
  a.graphical_appearance_no AS article_graphical_appearance_no,
  a.colour_group_code AS article_colour_group_code,
  a.perceived_colour_master_id AS article_perceived_colour_master_id,
  a.department_no AS article_department_no,
  a.index_group_no AS article_index_group_no,
  a.section_no AS article_section_no,
  a.garment_group_no AS article_garment_group_no
FROM weeks AS w
CROSS JOIN articles AS a
LEFT JOIN sales AS s ON s.week = w.week AND s.article_id = a.article_id
LEFT JOIN relative_prices AS r ON r.week = w.week AND r.article_id = a.article_id
