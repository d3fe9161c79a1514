-- Labels: the distinct articles each ranked customer bought in each labelled week (1, 2, 3..).
-- customer_weeks (a table: week, cutoff, customer_id, has_history) holds the customers
-- ranked each week and the week's first day, computed once by customer_weeks.sql from
-- week_calendar.sql. History for a week is every purchase strictly before its cutoff.
WITH purchases AS (
  SELECT DISTINCT cw.week, cw.customer_id, t.article_id
  FROM customer_weeks AS cw
  JOIN transactions_train AS t
    ON t.customer_id = cw.customer_id
    AND CAST(t.t_dat AS DATE) >= cw.cutoff
    AND CAST(t.t_dat AS DATE) < DATE_ADD(cw.cutoff, INTERVAL 7 DAY)
  WHERE cw.week >= 1
)
SELECT week, customer_id, article_id FROM purchases
