"""The next purchase's category (problem_type multiclass): user_features.sql's target and
viewed-category features on generated data with a category taste, checked against pandas on
the raw daily files; build_model_input_table's multiclass checks, each with its message."""

import copy
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
from ga4_mlops.pipelines.data_generation.vocabulary import ITEM_CATEGORIES
from ga4_mlops.pipelines.feature_extraction.nodes import build_model_input_table
from tests.datasets.ga4_events import CATALOG_OPTIONS, QUERY_PARAMETERS, SQL_FILE

CONF = Path(__file__).resolve().parents[3] / "conf" / "base"
BASE_COLUMNS = yaml.safe_load((CONF / "parameters_model_input.yml").read_text())["model_input"][
    "columns"
]
CLASSES = ["(none)", *ITEM_CATEGORIES]
COLUMNS = {
    **BASE_COLUMNS,
    "problem_type": "multiclass",
    "target": "next_purchase_category",
    "classes": CLASSES,
    "other_targets": ["label", "revenue_usd_horizon"],
    "numeric": [*BASE_COLUMNS["numeric"], "top_viewed_category_share_lookback"],
    "categorical": [*BASE_COLUMNS["categorical"], "top_viewed_category_lookback"],
}
DAYS = 35
QUERY = {
    **QUERY_PARAMETERS,
    "start_date": "2020-11-01",
    "end_date": "2020-12-05",
    "snapshot_dates": ["2020-11-15", "2020-12-01"],
    "lookback_days": 14,
    "horizon_days": 7,
}
LABELLED = pd.Timestamp("2020-11-15")  # 12-01 + 7 days runs past the data: unknown


@pytest.fixture(scope="module")
def generated_export(tmp_path_factory) -> Path:
    """A generated export with a category taste, written through the catalog's dataset."""
    params = copy.deepcopy(yaml.safe_load((CONF / "parameters_data_generation.yml").read_text()))
    params = {**params["data_generation"], "seed": 13, "n_users": 40000, "n_days": DAYS}
    params["session"]["category_taste"] = 0.6
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


@pytest.fixture(scope="module")
def raw(generated_export) -> pd.DataFrame:
    return DuckDBQueryDataset(
        filepath=str(SQL_FILE),
        tables={"events_*": str(generated_export / "events_*.parquet")},
        query_parameters=QUERY,
        **CATALOG_OPTIONS,
    ).load()


def raw_events(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every event (user, day, timestamp, name, first item's category) and every item of
    every view_item event (user, day, category)."""
    table = pa.concat_tables(pq.read_table(path) for path in sorted(folder.glob("*.parquet")))
    items = table.column("items").combine_chunks()
    events = pd.DataFrame(
        {
            "user": table.column("user_pseudo_id").to_numpy(zero_copy_only=False),
            "day": pd.to_datetime(table.column("event_date").to_numpy(zero_copy_only=False)),
            "ts": table.column("event_timestamp").to_numpy(),
            "name": table.column("event_name").to_numpy(zero_copy_only=False),
        }
    )
    first = pc.struct_field(pc.list_slice(items, 0, 1).flatten(), "item_category")
    has_item = pc.list_value_length(items).to_numpy(zero_copy_only=False) > 0
    events["first_category"] = None
    events.loc[has_item, "first_category"] = first.to_numpy(zero_copy_only=False)
    parent = pc.list_parent_indices(items).to_numpy()
    viewed = pd.DataFrame(
        {
            "user": events["user"].to_numpy()[parent],
            "day": events["day"].to_numpy()[parent],
            "name": events["name"].to_numpy()[parent],
            "category": pc.struct_field(items.flatten(), "item_category").to_numpy(
                zero_copy_only=False
            ),
        }
    )
    return events, viewed[viewed["name"] == "view_item"].drop(columns="name")


def expected_categories(events: pd.DataFrame, viewed: pd.DataFrame) -> pd.DataFrame:
    """Per (user, snapshot) with an event in the lookback: the target and the two features."""
    last_day = events["day"].max()
    lookback, horizon = pd.Timedelta(QUERY["lookback_days"], "D"), QUERY["horizon_days"]
    rows = []
    for text in QUERY["snapshot_dates"]:
        snapshot = pd.Timestamp(text)
        look = events[(events["day"] >= snapshot - lookback) & (events["day"] < snapshot)]
        users = sorted(look["user"].unique())
        window = events[
            (events["name"] == "purchase")
            & (events["day"] >= snapshot)
            & (events["day"] < snapshot + pd.Timedelta(horizon, "D"))
        ]
        first = window.sort_values("ts").drop_duplicates("user").set_index("user")
        target = first["first_category"].fillna("(not set)").reindex(users).fillna("(none)")
        if (last_day - snapshot).days < horizon - 1:
            target[:] = None
        seen = viewed[(viewed["day"] >= snapshot - lookback) & (viewed["day"] < snapshot)]
        counts = seen.dropna().groupby(["user", "category"]).size().rename("views").reset_index()
        counts = counts.sort_values(["user", "views", "category"], ascending=[True, False, True])
        top = counts.drop_duplicates("user").set_index("user")
        total = counts.groupby("user")["views"].sum()
        rows.append(
            pd.DataFrame(
                {
                    "user_pseudo_id": users,
                    "snapshot_date": snapshot,
                    "next_purchase_category": target.to_numpy(dtype=object),
                    "top_viewed_category_lookback": top["category"]
                    .reindex(users)
                    .fillna("(none)")
                    .to_numpy(),
                    "top_viewed_category_share_lookback": (top["views"] / total)
                    .reindex(users)
                    .fillna(0.0)
                    .to_numpy(),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def test_the_category_target_and_features_match_pandas_on_generated_events(generated_export, raw):
    actual = raw.sort_values(["snapshot_date", "user_pseudo_id"], ignore_index=True)
    expected = expected_categories(*raw_events(generated_export))
    assert actual["user_pseudo_id"].tolist() == expected["user_pseudo_id"].tolist()
    target = actual["next_purchase_category"].astype(object).where(actual["label"].notna(), None)
    assert target.tolist() == expected["next_purchase_category"].tolist()
    assert actual["next_purchase_category"].isna().tolist() == actual["label"].isna().tolist()
    assert (
        actual["top_viewed_category_lookback"].tolist()
        == expected["top_viewed_category_lookback"].tolist()
    )
    np.testing.assert_allclose(
        actual["top_viewed_category_share_lookback"],
        expected["top_viewed_category_share_lookback"],
    )
    labelled = actual[actual["snapshot_date"] == LABELLED]
    buyers = labelled[labelled["label"] == 1]
    # a purchase iff a category; enough buyers and viewers for the comparison to mean something
    assert ((labelled["next_purchase_category"] != "(none)") == (labelled["label"] == 1)).all()
    assert len(buyers) >= 50 and buyers["next_purchase_category"].isin(ITEM_CATEGORIES).all()
    assert (labelled["top_viewed_category_lookback"] != "(none)").sum() > 1000
    # the taste shows: buyers often buy the category they viewed most (about 0.1 without a
    # taste: the chance two popularity draws share a category; 0.43 here, 86 buyers)
    same = buyers["next_purchase_category"] == buyers["top_viewed_category_lookback"]
    assert same.mean() > 0.25


def test_the_model_input_table_keeps_class_labels(raw):
    splits = {"train": ["2020-11-15"], "scoring": ["2020-12-01"]}
    params = {"feature_query": QUERY, "allow_partial_lookback": True}
    table = build_model_input_table(raw, params, COLUMNS, splits)
    target = table["next_purchase_category"]
    assert target.dtype == object
    assert target[table["snapshot_date"] == LABELLED].isin(CLASSES).all()
    assert target[table["snapshot_date"] != LABELLED].isna().all()
    assert str(table["label"].dtype) == "float64"  # an other target


def test_a_label_outside_the_classes_is_refused_named(raw):
    params = {"feature_query": QUERY, "allow_partial_lookback": True}
    splits = {"train": ["2020-11-15"], "scoring": ["2020-12-01"]}
    fewer = {**COLUMNS, "classes": [c for c in CLASSES if c != "New"]}
    with pytest.raises(
        ValueError,
        match=r"ga4_events@user_features column 'next_purchase_category' must hold one of params "
        r"model_input.columns.classes \[.*\] or NULL \(problem_type multiclass\), found \['New'\]",
    ):
        build_model_input_table(raw, params, fewer, splits)
    no_buyer = raw.assign(
        next_purchase_category=raw["next_purchase_category"].where(
            raw["next_purchase_category"].isna(), "(none)"
        )
    )
    with pytest.raises(ValueError, match=r"holds only \['\(none\)'\] in the 7-day horizon"):
        build_model_input_table(no_buyer, params, COLUMNS, splits)
