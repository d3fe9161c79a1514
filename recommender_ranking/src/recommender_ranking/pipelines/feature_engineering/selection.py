"""Deep Feature Synthesis (featuretools) and the feature selection step."""

import logging
from typing import Any

import featuretools as ft
import numpy as np
import pandas as pd

from .nodes import NOT_FEATURES

logger = logging.getLogger(__name__)


def dfs_customer_features(
    transactions: pd.DataFrame,
    customers: pd.DataFrame,
    articles: pd.DataFrame,
    customer_weeks: pd.DataFrame,
    params: dict[str, Any],
) -> pd.DataFrame:
    """Customer features by featuretools' Deep Feature Synthesis over customers <- transactions
    -> articles, each computed with the purchases before the week's cutoff (featuretools'
    ``cutoff_time``): numeric features only, prefixed ``dfs_``. ``enabled: false`` skips it
    (no DFS column; featuretools is slow on the full data set).
    """
    if not params.get("enabled", True):
        logger.info("Deep Feature Synthesis is switched off (feature_engineering.dfs.enabled)")
        return customer_weeks[["week", "customer_id"]].copy()
    # featuretools uses data up to and including the cutoff time; the week's first day is a
    # target day, so features stop one second before it.
    cutoff_time = customer_weeks[["customer_id", "week"]].assign(
        time=customer_weeks["cutoff"].astype("datetime64[ns]") - pd.Timedelta(seconds=1)
    )
    entityset = ft.EntitySet(id="hm")
    entityset.add_dataframe(
        dataframe_name="customers",
        dataframe=customers[["customer_id", *params["customer_columns"]]].copy(),
        index="customer_id",
    )
    entityset.add_dataframe(
        dataframe_name="articles",
        dataframe=articles[["article_id", *params["article_columns"]]].copy(),
        index="article_id",
        logical_types={column: "Categorical" for column in params["article_columns"]},
    )
    entityset.add_dataframe(
        dataframe_name="transactions",
        dataframe=transactions[["t_dat", "customer_id", "article_id", "price", "sales_channel_id"]]
        .reset_index(drop=True)
        .rename_axis("transaction_id")
        .reset_index(),
        index="transaction_id",
        time_index="t_dat",
        logical_types={"sales_channel_id": "Categorical"},
    )
    entityset.add_relationship("customers", "customer_id", "transactions", "customer_id")
    entityset.add_relationship("articles", "article_id", "transactions", "article_id")
    matrix, definitions = ft.dfs(
        entityset=entityset,
        target_dataframe_name="customers",
        cutoff_time=cutoff_time[["customer_id", "time"]],
        cutoff_time_in_index=True,
        agg_primitives=params["agg_primitives"],
        trans_primitives=params["trans_primitives"],
        max_depth=params["max_depth"],
        n_jobs=1,
        verbose=False,
    )
    numeric = matrix.select_dtypes(include=["number", "bool"]).astype("float32")
    numeric.columns = [f"dfs_{_clean(name)}" for name in numeric.columns]
    numeric = numeric.reset_index()
    result = cutoff_time.merge(numeric, on=["customer_id", "time"], how="left")
    logger.info(
        "DFS built %d numeric customer features (%d definitions)",
        numeric.shape[1] - 2,
        len(definitions),
    )
    return result.drop(columns="time")


def _clean(name: str) -> str:
    """A column name LightGBM accepts (no JSON special characters)."""
    return "".join(c if c.isalnum() or c == "_" else "_" for c in name).strip("_").lower()


def select_features(ranking_features: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    """Drop constant, mostly-null and highly correlated features, measured on training weeks
    (on a seeded sample of ``max_rows`` rows when they are more).

    Of a correlated pair (|Pearson| above ``max_correlation``) the later column is dropped,
    hand-written columns coming before DFS ones so DFS never displaces a hand-written feature.
    """
    rows = pd.Series(np.flatnonzero(ranking_features["week"] >= params["first_training_week"]))
    if rows.empty:
        raise ValueError(
            f"ranking_features has no row in the training weeks (week >= "
            f"{params['first_training_week']}): nothing to select features on"
        )
    max_rows = params.get("max_rows")
    if max_rows and len(rows) > max_rows:  # a seeded row sample bounds the float64 copy
        rows = rows.sample(n=int(max_rows), random_state=params.get("seed", 0)).sort_values()
        logger.info("Feature selection measured on a sample of %d training rows", len(rows))
    candidates = [c for c in ranking_features.columns if c not in NOT_FEATURES]
    hand = [c for c in candidates if not c.startswith("dfs_")]
    dfs = [c for c in candidates if c.startswith("dfs_")]
    ordered = hand + dfs
    # only the measured rows and feature columns are copied, as float64 (exact statistics)
    columns = ranking_features.columns.get_indexer(ordered)
    values = ranking_features.iloc[rows.to_numpy(), columns].astype("float64")
    null_share = values.isna().mean()
    mostly_null = [c for c in ordered if null_share[c] > params["max_null_share"]]
    single_valued = ~(values.max() > values.min())  # all equal, or all null
    constant = [c for c in ordered if c not in mostly_null and single_valued[c]]
    kept = [c for c in ordered if c not in mostly_null and c not in constant]
    correlation = values[kept].corr().abs().to_numpy()
    upper = np.triu(np.nan_to_num(correlation), k=1)
    correlated = [
        kept[j] for j in range(len(kept)) if (upper[:j, j] > params["max_correlation"]).any()
    ]
    kept = [c for c in kept if c not in correlated]
    logger.info(
        "Feature selection kept %d of %d (constant %d, mostly null %d, correlated %d)",
        len(kept),
        len(ordered),
        len(constant),
        len(mostly_null),
        len(correlated),
    )
    return {
        "hand_written": [c for c in kept if c in hand],
        "dfs": [c for c in kept if c in dfs],
        "dropped": {"constant": constant, "mostly_null": mostly_null, "correlated": correlated},
    }
