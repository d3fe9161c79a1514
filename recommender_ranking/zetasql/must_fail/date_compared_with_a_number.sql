-- t_dat is a DATE in BigQuery: comparing it with an INT64 is an error there.
SELECT customer_id
FROM transactions_train
WHERE t_dat >= 20200901
