"""Features of each candidate row (week, customer, article).

Customer, article and customer-article features are SQL (``sql/*_features.sql``, run by the
catalog); this module joins them to the candidates with merges. The similarity of a
candidate to the customer's recent purchases in embedding space is computed in numpy after
the SQL (BigQuery could do it, but the vectors are produced in Python). No row-wise apply.
"""

import logging
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recommender_ranking.pipelines.candidate_generation.nodes import (
    KEYS,
    embedding_matrix,
    require_columns,
)

logger = logging.getLogger(__name__)

LABEL = "purchased"
NOT_FEATURES = {*KEYS, LABEL}
FEATURE_DTYPE = "float32"  # of every feature column in ranking_features


def join_sql_features(
    candidates: pd.DataFrame,
    customer_features: pd.DataFrame,
    article_features: pd.DataFrame,
    customer_article_features: pd.DataFrame,
    customer_attribute_features: pd.DataFrame,
    params: dict[str, Any],
) -> pd.DataFrame:
    """Candidates with their SQL features; pair counts of never-bought pairs are 0.

    For each attribute in ``params["affinity_attributes"]``, ``affinity_<attribute>`` is the
    share of the customer's recent purchases with the candidate's value of it. When the
    feature tables hold ``article_log_relative_price`` and ``customer_mean_log_relative_price``
    (the SQL files do), ``relative_price_gap`` is the first minus the second (the candidate's
    price level within its product type against the level the customer buys at; null without
    history or sales) and ``relative_price_distance`` its absolute value.
    """
    require_columns(candidates, [*KEYS, "n_sources"], "candidates")
    require_columns(customer_features, KEYS[:2], "customer_features")
    require_columns(article_features, ["week", "article_id"], "article_features")
    require_columns(customer_article_features, KEYS, "customer_article_features")
    require_columns(
        customer_attribute_features,
        ["week", "customer_id", "attribute", "value", "share"],
        "customer_attribute_features",
    )
    attributes = list(params["affinity_attributes"])
    missing = [a for a in attributes if f"article_{a}" not in article_features.columns]
    if missing:
        raise ValueError(
            f"article_features lacks column(s) {[f'article_{a}' for a in missing]} needed by "
            "feature_engineering.affinity_attributes"
        )
    # Ids go to DuckDB as integer codes (positions in the candidates' distinct ids): joining
    # and sorting Python string ids was most of the join's time; the candidates' own columns
    # stay out of DuckDB and are put beside its feature columns in Arrow.
    codes = {column: pd.factorize(candidates[column]) for column in ID_COLUMNS}
    tables = {
        "customer_features": customer_features,
        "article_features": article_features,
        "customer_article_features": customer_article_features,
        "customer_attribute_features": customer_attribute_features,
    }
    price_gap = (
        "customer_mean_log_relative_price" in customer_features.columns
        and "article_log_relative_price" in article_features.columns
    )
    connection = duckdb.connect(config={"threads": params.get("duckdb_threads", 2)})
    pieces = []
    try:
        for name, table in tables.items():
            connection.register(name, _with_id_codes(table, codes))
        # Blocks of candidate rows: DuckDB never materialises the whole joined table.
        size = int(params.get("join_chunk_rows", 2_000_000))
        for start in range(0, max(len(candidates), 1), size):
            block = pd.DataFrame(
                {
                    "_row": np.arange(len(candidates.iloc[start : start + size])),
                    "week": candidates["week"].to_numpy()[start : start + size],
                    **{c: codes[c][0][start : start + size] for c in ID_COLUMNS},
                }
            )
            connection.register("candidates", block)
            block_table = connection.sql(_join_query(attributes, price_gap)).to_arrow_table()
            if len(block_table) != len(block):
                raise ValueError(
                    "a feature table has duplicate keys: the join multiplied candidates"
                )
            pieces.append(compact_arrow(block_table.drop_columns("_row")))
            connection.unregister("candidates")
    finally:
        connection.close()
    table = _candidate_columns(candidates, codes)
    joined = pa.concat_tables(pieces)
    del pieces
    for name in joined.column_names:
        table = table.append_column(name, joined[name])
    del joined
    features = table.to_pandas(split_blocks=True, self_destruct=True)
    del table
    for column in ID_COLUMNS:  # categorical -> object: one shared str per distinct id
        features[column] = features[column].astype(object)
    return _nullable_as_float(features)


def _with_id_codes(
    table: pd.DataFrame, codes: dict[str, tuple[np.ndarray, pd.Index]]
) -> pd.DataFrame:
    """``table`` with its id columns as the candidates' codes; rows of ids no candidate
    has are left out (they join nothing)."""
    table = table.copy(deep=False)
    found = np.ones(len(table), dtype=bool)
    for column, (_, uniques) in codes.items():
        if column in table.columns:
            position = pd.Index(uniques).get_indexer(table[column])
            table[column] = position
            found &= position >= 0
    return table if found.all() else table[found]


def _candidate_columns(
    candidates: pd.DataFrame, codes: dict[str, tuple[np.ndarray, pd.Index]]
) -> pa.Table:
    """The candidates' columns in Arrow as the join returns them: ids dictionary-encoded
    (from their codes), other numbers float32 (``compact_arrow``)."""
    arrays = {}
    for column in candidates.columns:
        if column in codes:
            position, uniques = codes[column]
            arrays[column] = pa.DictionaryArray.from_arrays(
                pa.array(position.astype("int32")), pa.array(np.asarray(uniques, dtype=object))
            )
        else:
            arrays[column] = pa.array(candidates[column].to_numpy())
    return compact_arrow(pa.table(arrays))


ID_COLUMNS = ("customer_id", "article_id")


def compact_arrow(table: pa.Table) -> pa.Table:
    """Ids dictionary-encoded (a 64-character customer id per row is 0.6 GB per 9 M rows in
    Arrow, its dictionary 0.04 GB) and every other numeric column but the keys float32 (half
    of float64; LightGBM bins features in float32 anyway, counts stay exact up to 2**24)."""
    for column in ID_COLUMNS:
        position = table.schema.get_field_index(column)
        if position >= 0 and not pa.types.is_dictionary(table.schema.field(column).type):
            table = table.set_column(position, column, pc.dictionary_encode(table[column]))
    fields = [
        pa.field(field.name, pa.float32())
        if field.name not in KEYS
        and (
            pa.types.is_integer(field.type)
            or pa.types.is_floating(field.type)
            or pa.types.is_decimal(field.type)
        )
        else field
        for field in table.schema
    ]
    return table.cast(pa.schema(fields))


def _join_query(attributes: list[str], price_gap: bool = False) -> str:
    """Every feature table left-joined to the candidates in one query, candidate order kept;
    with ``price_gap``, the article's relative price level minus the customer's."""
    shares = "".join(
        f"""
        LEFT JOIN (
          SELECT week, customer_id, value, share FROM customer_attribute_features
          WHERE attribute = '{attribute}'
        ) AS s_{position}
          ON s_{position}.week = c.week AND s_{position}.customer_id = c.customer_id
          AND s_{position}.value = a.article_{attribute}"""
        for position, attribute in enumerate(attributes)
    )
    affinities = "".join(
        f", COALESCE(s_{position}.share, 0.0) AS affinity_{attribute}"
        for position, attribute in enumerate(attributes)
    )
    gap = "a.article_log_relative_price - cf.customer_mean_log_relative_price"
    gaps = f", {gap} AS relative_price_gap, ABS({gap}) AS relative_price_distance"
    return f"""
        SELECT c._row,
          cf.* EXCLUDE (week, customer_id),
          a.* EXCLUDE (week, article_id),
          p.* EXCLUDE (week, customer_id, article_id) REPLACE (
            COALESCE(p.pair_times_bought, 0) AS pair_times_bought,
            COALESCE(p.pair_product_times_bought, 0) AS pair_product_times_bought
          )
          {affinities}{gaps if price_gap else ""}
        FROM candidates AS c
        LEFT JOIN customer_features AS cf USING (week, customer_id)
        LEFT JOIN article_features AS a ON a.week = c.week AND a.article_id = c.article_id
        LEFT JOIN customer_article_features AS p
          ON p.week = c.week AND p.customer_id = c.customer_id AND p.article_id = c.article_id
        {shares}
        ORDER BY c._row
    """


def _nullable_as_float(frame: pd.DataFrame) -> pd.DataFrame:
    """Nullable extension integers (pandas' Int64) as float32 with NaN, like the rest."""
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.api.extensions.ExtensionDtype) and (
            pd.api.types.is_numeric_dtype(frame[column].dtype)
        ):
            frame[column] = frame[column].astype("float32")
    return frame


def add_embedding_similarity(
    features: pd.DataFrame,
    recent_purchases: pd.DataFrame,
    article_image_embeddings: pd.DataFrame,
    article_text_embeddings: pd.DataFrame,
    params: dict[str, Any],
) -> pd.DataFrame:
    """``similarity_<modality>``: cosine of the candidate with the mean of the customer's recent
    purchases (the repurchase source's best ``n_recent_articles``, bought before the cutoff).

    NaN when the candidate or every recent purchase lacks an embedding.
    """
    recent = recent_purchases.loc[
        recent_purchases["source_rank"] <= params["n_recent_articles"], KEYS
    ]
    features = features.copy(deep=False)
    for modality, embeddings in {
        "image": article_image_embeddings,
        "text": article_text_embeddings,
    }.items():
        vectors = embedding_matrix(embeddings, f"{modality}_emb_", f"article_{modality}_embeddings")
        features[f"similarity_{modality}"] = _similarity_to_profile(features, recent, vectors)
    return features


# rows per block of dot products: 1.95 M x 384 rows in 1.37 s at 1,024 against 1.85 s at 4,096
SIMILARITY_CHUNK_ROWS = 1_024


def _similarity_to_profile(
    features: pd.DataFrame, recent: pd.DataFrame, vectors: pd.DataFrame
) -> np.ndarray:
    """Cosine between each row's article vector and its customer-week's mean recent vector.

    Vectors are looked up by position (``get_indexer``) and multiplied in blocks of
    ``SIMILARITY_CHUNK_ROWS`` rows, so memory does not grow with rows x dimensions.
    """
    # a frame built from a 2-D array holds it transposed: its numpy view is column-major, and
    # gathering rows from it touched 384 cache lines a row (5 of 6 s per 1.95 M text rows)
    matrix = np.ascontiguousarray(vectors.to_numpy(dtype="float32"))
    recent_position = vectors.index.get_indexer(recent["article_id"])
    recent = recent[recent_position >= 0]
    recent_position = recent_position[recent_position >= 0]
    if len(recent) == 0:  # no recent purchase has a vector (e.g. no images at all)
        return np.full(len(features), np.nan, dtype="float32")
    recent_codes, row_codes = key_codes(
        recent[["week", "customer_id"]], features[["week", "customer_id"]]
    )
    recent_profile, profile_keys = pd.factorize(recent_codes)
    sums = np.zeros((len(profile_keys), matrix.shape[1]), dtype="float64")
    # np.add.at's sums (same order, so the same float64 values) in one vectorised pass per
    # purchase rank (at most n_recent_articles): np.add.at took a second per 25,000 customers
    occurrence = pd.Series(recent_profile).groupby(recent_profile).cumcount().to_numpy()
    for rank in range(int(occurrence.max()) + 1):
        chosen = occurrence == rank
        sums[recent_profile[chosen]] += matrix[recent_position[chosen]]
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    profiles = (sums / np.where(norms > 0, norms, 1.0)).astype("float32")  # as the vectors
    row_profile = np.where(row_codes >= 0, pd.Index(profile_keys).get_indexer(row_codes), -1)
    row_article = vectors.index.get_indexer(features["article_id"])
    similarity = np.full(len(features), np.nan, dtype="float32")
    for start in range(0, len(features), SIMILARITY_CHUNK_ROWS):
        block = slice(start, start + SIMILARITY_CHUNK_ROWS)
        usable = (row_profile[block] >= 0) & (row_article[block] >= 0)
        articles = matrix[row_article[block][usable]]
        customers = profiles[row_profile[block][usable]]
        similarity[block][usable] = np.einsum("ij,ij->i", articles, customers)
    return similarity


def build_model_input(
    hand_features: pd.DataFrame, dfs_features: pd.DataFrame, week_purchases: pd.DataFrame
) -> pd.DataFrame:
    """Hand-written + DFS features and the label, sorted by query (week, customer).

    The candidates arrive sorted by (week, customer_id, article_id); DFS columns and the label
    are added to them in place by key lookups (a merge would copy every candidate row twice)
    and feature columns become float32 one at a time (half of float64: 9 M rows x 60
    features at 10% of the H&M size), so the order is kept and no sort is needed.
    """
    require_columns(week_purchases, KEYS, "week_purchases")
    table = hand_features
    dfs_columns = [c for c in dfs_features.columns if c not in ("week", "customer_id")]
    if dfs_columns and len(dfs_features):
        position = _positions(dfs_features[["week", "customer_id"]], table[["week", "customer_id"]])
        found = position >= 0
        for column in dfs_columns:
            values = np.full(len(table), np.nan, dtype="float32")
            values[found] = dfs_features[column].to_numpy(dtype="float32")[position[found]]
            table[column] = values
    else:
        for column in dfs_columns:
            table[column] = np.float32(np.nan)
    labels = week_purchases[KEYS].drop_duplicates()
    bought = _positions(labels, table[KEYS]) >= 0 if len(labels) else np.zeros(len(table), bool)
    labels = np.where(table["week"].to_numpy() == 0, -1, bought)  # week 0 has no label
    table[LABEL] = labels.astype("int64")
    numeric = [c for c in table.columns if c not in NOT_FEATURES and c != "has_history"]
    for column in numeric:
        if table[column].dtype != FEATURE_DTYPE:
            table[column] = table[column].astype(FEATURE_DTYPE)
    table["has_history"] = table["has_history"].astype("bool")
    logger.info(
        "Model input: %d rows, %d features, positives per week %s",
        len(table),
        len(numeric),
        # two columns, not a filtered copy of the whole table (3 GB at 10% of the H&M size)
        table[["week", LABEL]].query(f"{LABEL} >= 0").groupby("week")[LABEL].sum().to_dict(),
    )
    return table


def _positions(keys: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """Row of ``keys`` (unique) holding each row's key, -1 where none does."""
    codes, row_codes = key_codes(keys, rows)
    index = pd.Index(codes)
    if not index.is_unique:
        raise ValueError(f"keys {list(keys.columns)} repeat in a table joined to the candidates")
    return np.where(row_codes >= 0, index.get_indexer(row_codes), -1)


def key_codes(keys: pd.DataFrame, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """One int64 per row for the values of ``keys``' columns (equal keys, equal codes), and
    the same codes for ``rows`` (-1 where a value is not in ``keys``).

    A pandas MultiIndex lookup builds a Python tuple per row: about 4 of the 8 s of feature
    work per 1.4 M week-0 candidate rows; one hash lookup per column and integer arithmetic
    give the same positions.
    """
    codes = np.zeros(len(keys), dtype="int64")
    row_codes = np.zeros(len(rows), dtype="int64")
    size = 1
    for column in keys.columns:
        column_codes, uniques = pd.factorize(keys[column])
        column_rows = pd.Index(uniques).get_indexer(rows[column])
        size *= len(uniques) + 1
        if size >= 2**62:
            raise ValueError(f"too many distinct keys {list(keys.columns)} for int64 codes")
        codes = np.where(
            (codes < 0) | (column_codes < 0), -1, codes * (len(uniques) + 1) + column_codes
        )
        row_codes = np.where(
            (row_codes < 0) | (column_rows < 0), -1, row_codes * (len(uniques) + 1) + column_rows
        )
    return codes, row_codes
