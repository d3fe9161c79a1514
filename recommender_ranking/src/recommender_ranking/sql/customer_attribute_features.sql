-- Attribute affinities: the share of the customer's purchases in the last
-- @affinity_window_days that had each attribute value (long format: attribute, value, share).
-- Joined to each candidate's own value, they say how similar it is to what the customer buys.
-- customer_weeks (a table: week, cutoff, customer_id, has_history) holds the customers
-- ranked each week and the week's first day, computed once by customer_weeks.sql from
-- week_calendar.sql. History for a week is every purchase strictly before its cutoff.
WITH recent AS (
  SELECT cw.week, cw.customer_id, a.*
  FROM customer_weeks AS cw
  JOIN transactions_train AS t
    ON t.customer_id = cw.customer_id
    AND CAST(t.t_dat AS DATE) < cw.cutoff
    AND CAST(t.t_dat AS DATE) >= DATE_SUB(cw.cutoff, INTERVAL @affinity_window_days DAY)
  JOIN articles AS a ON a.article_id = t.article_id
),
long_values AS (
  SELECT week, customer_id, 'product_type_no' AS attribute, product_type_no AS value FROM recent
  UNION ALL
  SELECT week, customer_id, 'colour_group_code', colour_group_code FROM recent
  UNION ALL
  SELECT week, customer_id, 'department_no', department_no FROM recent
  UNION ALL
  SELECT week, customer_id, 'garment_group_no', garment_group_no FROM recent
  UNION ALL
  SELECT week, customer_id, 'index_group_no', index_group_no FROM recent
)
SELECT
  week,
  customer_id,
  attribute,
  value,
  COUNT(*) / SUM(COUNT(*)) OVER (PARTITION BY week, customer_id, attribute) AS share
FROM long_values
GROUP BY week, customer_id, attribute, value
