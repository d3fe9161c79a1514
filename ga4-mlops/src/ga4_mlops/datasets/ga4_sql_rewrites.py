"""A sqlglot rewrite that gives DuckDB a faster plan for a GA4 idiom of BigQuery SQL.

``DuckDBQueryDataset`` (the kit's, duckdb_query_dataset.py) applies it when a catalog entry
names it in ``sql_rewrites`` (conf/local/catalog*.yml); the generic key-lookup rewrite is the
kit's own (duckdb_sql_rewrites.py, ``rewrite_unnest_lookups``). It keeps the result:
tests/datasets/test_ga4_sql_rewrites.py runs each query with and without it. DuckDB plans a
lateral ``UNNEST`` as a duplicate-eliminating join over every column of the outer rows; on the
GA4 export (a nested list per event) that join was most of the feature query's time.
"""

from __future__ import annotations

from sqlglot import exp


def lateral_unnest_as_select_list_unnest(node: exp.Expression) -> exp.Expression:
    """``FROM t AS v, UNNEST(v.items) AS item`` -> ``FROM (SELECT v.*, UNNEST(v.items) AS
    item FROM t AS v) AS v``.

    Same rows (one per element; rows with an empty or NULL list drop out, as in BigQuery's
    comma join) without DuckDB's join back to the outer rows: about 3 times faster for the
    feature query's viewed items. Only a SELECT whose FROM is one aliased source followed by
    exactly one such UNNEST of that source's column (no ON, no OFFSET) is rewritten; the
    element name must not be a column of the source.
    """
    if not isinstance(node, exp.Select):
        return node
    joins = node.args.get("joins") or []
    source_clause = node.args.get("from_") or node.args.get("from")
    if len(joins) != 1 or source_clause is None or node.args.get("laterals"):
        return node
    join, source = joins[0], source_clause.this
    unnest = join.this
    source_alias = source.alias if isinstance(source, (exp.Table, exp.Subquery)) else ""
    if (
        not source_alias
        or not isinstance(unnest, exp.Unnest)
        or join.args.get("on")
        or join.args.get("using")
        or unnest.args.get("offset")
        or len(unnest.expressions) != 1
    ):
        return node
    values = unnest.expressions[0]
    alias = unnest.args.get("alias")
    element_names = [column.name for column in alias.columns] if alias else []
    if not (isinstance(values, exp.Column) and values.table == source_alias):
        return node
    if len(element_names) != 1:
        return node
    flattened = exp.select(
        exp.Column(this=exp.Star(), table=exp.to_identifier(source_alias)),
        exp.alias_(exp.Anonymous(this="UNNEST", expressions=[values.copy()]), element_names[0]),
    ).from_(source.copy())
    node = node.copy()
    node.set("joins", None)
    node.set(
        "from_" if "from_" in node.args else "from",
        exp.From(
            this=exp.Subquery(
                this=flattened, alias=exp.TableAlias(this=exp.to_identifier(source_alias))
            )
        ),
    )
    return node


# The import path catalog entries and tests give DuckDBQueryDataset's sql_rewrites.
LATERAL_UNNEST = f"{__name__}.{lateral_unnest_as_select_list_unnest.__name__}"
