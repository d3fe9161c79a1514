-- STRFTIME is DuckDB's, not BigQuery's (BigQuery: FORMAT_DATE): sqlglot passes the unknown
-- function through and DuckDB runs the query, BigQuery would reject it.
SELECT customer_id, STRFTIME(t_dat, '%Y-%m') AS month
FROM transactions_train
