-- The week calendar every other query uses (through the week_calendar and customer_weeks
-- tables). Week 0 is the 7 days after the last day (@as_of_date, or the last day of the data
-- when it is ""), week 1 the 7 days before (test), week 2 validation, weeks 3 .. 2 +
-- @n_train_weeks training. `cutoff` is the week's first day: a week's history is every
-- purchase strictly before it.
WITH last_day AS (
  SELECT COALESCE(SAFE_CAST(@as_of_date AS DATE), MAX(CAST(t_dat AS DATE))) AS day
  FROM transactions_train
)
SELECT week, DATE_ADD(last_day.day, INTERVAL 1 - 7 * week DAY) AS cutoff
FROM last_day CROSS JOIN UNNEST(GENERATE_ARRAY(0, @n_train_weeks + 2)) AS week
