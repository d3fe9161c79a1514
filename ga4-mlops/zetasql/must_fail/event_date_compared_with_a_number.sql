-- event_date is a STRING in the export ('20201101'): BigQuery refuses to compare it with an
-- INT64, DuckDB casts silently.
SELECT user_pseudo_id FROM `events_*` WHERE event_date >= 20201101
