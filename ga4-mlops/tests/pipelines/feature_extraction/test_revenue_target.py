"""The predicted-revenue target of user_features.sql: its value on generated data, its role.

revenue_usd_horizon (purchase revenue in [S, S + horizon_days)) is checked against a pandas
computation from the generator's raw daily files, and the shipped column roles keep it in
the model-input table as a target, never as a feature.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml
from kedro_datasets.partitions import PartitionedDataset

from ga4_mlops.datasets.duckdb_query_dataset import DuckDBQueryDataset
from ga4_mlops.pipelines.data_generation.nodes import generate_ga4_events
from ga4_mlops.pipelines.feature_engineering.nodes import feature_columns, fit_preprocessor
from ga4_mlops.pipelines.feature_engineering.splits import split_model_input
from ga4_mlops.pipelines.feature_extraction.nodes import build_model_input_table
from tests.datasets.ga4_events import CATALOG_OPTIONS, QUERY_PARAMETERS, SQL_FILE

CONF = Path(__file__).resolve().parents[3] / "conf" / "base"
COLUMNS = yaml.safe_load((CONF / "parameters_model_input.yml").read_text())["model_input"][
    "columns"
]
# 35 days from 2020-11-01: the 28-day horizon of 11-08 ends on the last day (labelled), the
# one of 11-15 runs past it (unknown).
DAYS = 35
QUERY = {
    **QUERY_PARAMETERS,
    "start_date": "2020-11-01",
    "end_date": "2020-12-05",
    "snapshot_dates": ["2020-11-08", "2020-11-15"],
    "lookback_days": 7,
    "horizon_days": 28,
}


@pytest.fixture(scope="module")
def generated_export(tmp_path_factory) -> Path:
    """A small generated export written through the catalog's dataset (a few hundred buys)."""
    params = yaml.safe_load((CONF / "parameters_data_generation.yml").read_text())
    params = {**params["data_generation"], "seed": 11, "n_users": 20000, "n_days": DAYS}
    partitions, _ = generate_ga4_events(params)
    catalog = yaml.safe_load((CONF / "catalog_data_generation.yml").read_text())
    config = {
        key: value
        for key, value in catalog["ga4_events@partitions"].items()
        if key not in ("type", "path")
    }
    folder = tmp_path_factory.mktemp("generated") / "ga4_events"
    PartitionedDataset(path=str(folder), **config).save(partitions)
    return folder


def run_query(folder: Path) -> pd.DataFrame:
    return DuckDBQueryDataset(
        filepath=str(SQL_FILE),
        tables={"events_*": str(folder / "events_*.parquet")},
        query_parameters=QUERY,
        **CATALOG_OPTIONS,
    ).load()


def raw_events(folder: Path) -> pd.DataFrame:
    """user, day, event name and ecommerce.purchase_revenue_in_usd of every raw event."""
    table = pa.concat_tables(pq.read_table(path) for path in sorted(folder.glob("*.parquet")))
    return pd.DataFrame(
        {
            "user": table.column("user_pseudo_id").to_numpy(zero_copy_only=False),
            "day": pd.to_datetime(table.column("event_date").to_numpy(zero_copy_only=False)),
            "name": table.column("event_name").to_numpy(zero_copy_only=False),
            "revenue": pc.struct_field(
                table.column("ecommerce").combine_chunks(), "purchase_revenue_in_usd"
            ).to_numpy(zero_copy_only=False),
        }
    )


def expected_horizon_revenue(events: pd.DataFrame) -> pd.DataFrame:
    """Per (user, snapshot) with an event in the lookback: purchase revenue in the horizon."""
    last_day = events["day"].max()
    lookback, horizon = pd.Timedelta(QUERY["lookback_days"], "D"), QUERY["horizon_days"]
    purchases = events[events["name"] == "purchase"]
    rows = []
    for text in QUERY["snapshot_dates"]:
        snapshot = pd.Timestamp(text)
        in_lookback = events[(events["day"] >= snapshot - lookback) & (events["day"] < snapshot)]
        users = sorted(in_lookback["user"].unique())
        window = purchases[
            (purchases["day"] >= snapshot)
            & (purchases["day"] < snapshot + pd.Timedelta(horizon, "D"))
        ]
        revenue = window.groupby("user")["revenue"].sum().reindex(users, fill_value=0.0)
        if (last_day - snapshot).days < horizon - 1:
            revenue[:] = np.nan
        rows.append(
            pd.DataFrame(
                {
                    "user_pseudo_id": users,
                    "snapshot_date": snapshot,
                    "revenue_usd_horizon": revenue.to_numpy(dtype=float),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def test_horizon_revenue_matches_pandas_on_generated_events(generated_export):
    actual = run_query(generated_export).sort_values(
        ["snapshot_date", "user_pseudo_id"], ignore_index=True
    )
    expected = expected_horizon_revenue(raw_events(generated_export))
    assert actual["user_pseudo_id"].tolist() == expected["user_pseudo_id"].tolist()
    assert actual["snapshot_date"].tolist() == expected["snapshot_date"].tolist()
    np.testing.assert_allclose(
        actual["revenue_usd_horizon"].astype(float),
        expected["revenue_usd_horizon"],
        rtol=0,
        atol=0.005,  # cents: the SQL rounds each session-day and the sum to 2 decimals
    )
    labelled = actual["snapshot_date"] == pd.Timestamp("2020-11-08")
    # NULL exactly where the label is; enough buyers for the comparison to mean something
    assert actual["revenue_usd_horizon"].isna().tolist() == actual["label"].isna().tolist()
    assert actual.loc[~labelled, "revenue_usd_horizon"].isna().all()
    buyers = actual.loc[labelled, "revenue_usd_horizon"] > 0
    assert buyers.sum() >= 30
    assert (buyers == (actual.loc[labelled, "label"] == 1)).all()  # revenue > 0 iff a purchase


def test_the_default_roles_keep_horizon_revenue_as_a_target_never_a_feature(generated_export):
    assert COLUMNS["other_targets"] == ["revenue_usd_horizon"]
    # the baseline "revenue of the last 28 days" is the feature revenue_usd_lookback
    feature_query = yaml.safe_load((CONF / "globals.yml").read_text())["feature_query"]
    assert feature_query["lookback_days"] == 28
    assert "revenue_usd_lookback" in COLUMNS["numeric"]

    raw = run_query(generated_export)
    splits = {"train": ["2020-11-08"], "scoring": ["2020-11-15"]}
    table = build_model_input_table(
        raw, {"feature_query": QUERY, "allow_partial_lookback": False}, COLUMNS, splits
    )
    assert "revenue_usd_horizon" in table.columns  # kept for the revenue model
    features = feature_columns(COLUMNS)
    assert "revenue_usd_horizon" not in features
    # fit the default preprocessor on the table's labelled rows: its output names are the
    # model's inputs, and they hold neither target
    train = table[table["snapshot_date"] == pd.Timestamp("2020-11-08")]
    preprocessor = fit_preprocessor(train, COLUMNS, {"min_category_count": 20})
    names = list(preprocessor.get_feature_names_out())
    assert "revenue_usd_horizon" not in names and "label" not in names
    assert "revenue_usd_lookback" in names


def test_a_target_listed_as_a_feature_is_refused():
    leaking = {**COLUMNS, "numeric": [*COLUMNS["numeric"], "revenue_usd_horizon"]}
    table = pd.DataFrame(columns=[*COLUMNS["id"], "label", *feature_columns(leaking)])
    with pytest.raises(ValueError, match=r"target column\(s\) \['revenue_usd_horizon'\]"):
        split_model_input(table, leaking, {"train": ["2020-11-08"]})
