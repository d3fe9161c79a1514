"""The SQL rewrites and schema look-ups of ``DuckDBQueryDataset`` (duckdb_query_dataset.py),
in their own module to keep that one short: UNNEST key lookups as DuckDB list lambdas, and the
dotted field paths a query reads (to name the field a binder error is about)."""

import pyarrow as pa
from sqlglot import exp

# Aggregates a key lookup subquery may wrap, and DuckDB's list_aggregate name for each.
_LIST_AGGREGATES: dict[type[exp.Expression], str] = {
    exp.Max: "max",
    exp.Min: "min",
    exp.Sum: "sum",
    exp.AnyValue: "any_value",
}


def unnest_lookup_as_list_lambda(node: exp.Expression) -> exp.Expression:
    """``(SELECT [AGG](f(x)) FROM UNNEST(list) AS x [WHERE p(x)])`` -> list lambdas.

    Only that exact shape is rewritten (one selected expression, one UNNEST, no joins,
    grouping, ordering or limit); anything else is left to the plain transpilation.
    Without an aggregate, BigQuery requires at most one match: the first one is taken.
    """
    select = node.this if isinstance(node, exp.Subquery) else None
    if not isinstance(select, exp.Select) or len(select.expressions) != 1:
        return node
    modifiers = ("joins", "laterals", "group", "having", "order", "limit", "offset", "distinct")
    if any(select.args.get(key) for key in (*modifiers, "qualify", "windows", "with")):
        return node
    source = select.args.get("from_") or select.args.get("from")
    unnest = source.this if source else None
    if not isinstance(unnest, exp.Unnest) or len(unnest.expressions) != 1:
        return node
    alias = unnest.args.get("alias")
    element_names = [column.name for column in alias.columns] if alias else []
    if unnest.args.get("offset") or len(element_names) != 1:
        return node
    body = select.expressions[0].unalias()
    aggregate = _LIST_AGGREGATES.get(type(body))
    if aggregate:
        body = body.this
    if body.find(exp.AggFunc, exp.Select):
        return node
    values: exp.Expression = unnest.expressions[0].copy()
    where = select.args.get("where")
    if where is not None:
        values = exp.Anonymous(
            this="list_filter",
            expressions=[
                values,
                exp.Lambda(
                    this=where.this.copy(), expressions=[exp.to_identifier(element_names[0])]
                ),
            ],
        )
    values = exp.Anonymous(
        this="list_transform",
        expressions=[
            values,
            exp.Lambda(this=body.copy(), expressions=[exp.to_identifier(element_names[0])]),
        ],
    )
    if aggregate:
        return exp.Anonymous(
            this="list_aggregate", expressions=[values, exp.Literal.string(aggregate)]
        )
    return exp.Anonymous(this="list_extract", expressions=[values, exp.Literal.number(1)])


def field_paths(ast: exp.Expression, table_names: set[str]) -> list[tuple[str, ...]]:
    """Dotted column references of the SQL, rewritten as paths into the source tables.

    ``ep.value.int_value`` under ``UNNEST(event_params) AS ep`` becomes
    ``event_params.value.int_value``; a leading table alias is dropped.
    """
    unnest_sources: dict[str, tuple[str, ...]] = {}
    for unnest in ast.find_all(exp.Unnest):
        alias = unnest.args.get("alias")
        if alias is None or not isinstance(unnest.expressions[0], (exp.Column, exp.Dot)):
            continue
        source = tuple(part.name for part in unnest.expressions[0].parts)
        for alias_name in [alias.name, *(column.name for column in alias.columns)]:
            if alias_name:
                unnest_sources[alias_name] = source
    table_aliases = {table.alias_or_name for table in ast.find_all(exp.Table)}
    table_aliases |= {name.split(".")[-1] for name in table_names}

    def resolve(path: tuple[str, ...], depth: int = 0) -> tuple[str, ...]:
        if depth < 5 and path[0] in unnest_sources:
            return resolve(unnest_sources[path[0]] + path[1:], depth + 1)
        if len(path) > 1 and path[0] in table_aliases:
            return resolve(path[1:], depth + 1)
        return path

    paths: list[tuple[str, ...]] = []
    for node in ast.find_all(exp.Column, exp.Dot):
        if isinstance(node.parent, exp.Dot):
            continue
        path = resolve(tuple(part.name for part in node.parts))
        if path and path not in paths:
            paths.append(path)
    return paths


def has_field(schema: pa.Schema, path: tuple[str, ...]) -> bool:
    """Whether ``path`` leads through structs (and lists of structs) of ``schema``."""
    if path[0] not in schema.names:
        return False
    data_type = schema.field(path[0]).type
    for name in path[1:]:
        while pa.types.is_list(data_type) or pa.types.is_large_list(data_type):
            data_type = data_type.value_type
        if not pa.types.is_struct(data_type) or data_type.get_field_index(name) < 0:
            return False
        data_type = data_type.field(name).type
    return True
