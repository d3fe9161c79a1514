-- Each query gets only the parameters of its own globals block (<file>_query): here none, so
-- @top_k is undeclared. DuckDB would bind whatever the catalog passes; BigQuery rejects a
-- parameter the job does not define.
SELECT session, item
FROM sessions
LIMIT @top_k
