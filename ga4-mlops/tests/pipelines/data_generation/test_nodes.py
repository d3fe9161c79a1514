"""The generator: export shape, session logic, determinism, the exact oracle, bad input."""

import copy
import datetime as dt
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml
from kedro_datasets.partitions import PartitionedDataset

from ga4_mlops.pipelines.data_generation.nodes import generate_ga4_events, oracle_probabilities
from ga4_mlops.pipelines.data_generation.schema import GA4_EVENT_SCHEMA
from ga4_mlops.pipelines.data_generation.sessions import build_simulation, day_events
from ga4_mlops.pipelines.data_generation.vocabulary import EVENT_NAMES, FUNNEL_STEPS

PARAMETERS = (
    Path(__file__).resolve().parents[3] / "conf" / "base" / "parameters_data_generation.yml"
)


def default_params(**overrides) -> dict:
    """The shipped knobs (seed resolved by hand: no config loader in a unit test)."""
    params = yaml.safe_load(PARAMETERS.read_text())["data_generation"]
    return {**params, "seed": 42, **overrides}


CATALOG = PARAMETERS.parent / "catalog_data_generation.yml"


def events_dataset(folder: Path) -> PartitionedDataset:
    """``ga4_events@partitions`` exactly as the catalog declares it, rooted in ``folder``."""
    config = yaml.safe_load(CATALOG.read_text())["ga4_events@partitions"]
    config = {key: value for key, value in config.items() if key not in ("type", "path")}
    return PartitionedDataset(path=str(folder), **config)


def save_partitions(partitions: dict, folder: Path) -> list[Path]:
    events_dataset(folder).save(partitions)
    return sorted(folder.glob("events_*.parquet"))


def param_column(table: pa.Table, key: str, field: str = "int_value") -> np.ndarray:
    """One event parameter as a column (NaN / None where the event lacks the key)."""
    lists = table.column("event_params").combine_chunks()
    entries = pc.list_flatten(lists)
    parent = pc.list_parent_indices(lists).to_numpy()
    has_key = pc.equal(pc.struct_field(entries, "key"), key).to_numpy(zero_copy_only=False)
    values = pc.struct_field(pc.struct_field(entries, "value"), field).to_numpy(
        zero_copy_only=False
    )
    out = np.full(table.num_rows, np.nan if field == "int_value" else None, dtype=object)
    out[parent[has_key]] = values[has_key]
    return out


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A small run written through the catalog's dataset types and read back."""
    # Most simulated users first came long before the window and have left (steady state).
    partitions, truth = generate_ga4_events(default_params(n_users=3000, n_days=21, seed=5))
    files = save_partitions(partitions, tmp_path_factory.mktemp("ga4") / "ga4_events")
    tables = {path.stem: pq.read_table(path) for path in files}
    return tables, truth


@pytest.fixture(scope="module")
def events(generated) -> pd.DataFrame:
    """Flat view of every event: the columns the session checks need."""
    tables, _ = generated
    table = pa.concat_tables(tables.values())
    frame = pd.DataFrame(
        {
            "user": table.column("user_pseudo_id").to_numpy(zero_copy_only=False),
            "date": table.column("event_date").to_numpy(zero_copy_only=False),
            "ts": table.column("event_timestamp").to_numpy(),
            "name": table.column("event_name").to_numpy(zero_copy_only=False),
            "session_id": param_column(table, "ga_session_id").astype("int64"),
            "session_number": param_column(table, "ga_session_number").astype("int64"),
            "first_touch": table.column("user_first_touch_timestamp").to_numpy(),
            "n_items": pc.list_value_length(table.column("items")).to_numpy(),
            "revenue": pc.struct_field(
                table.column("ecommerce").combine_chunks(), "purchase_revenue_in_usd"
            ).to_numpy(zero_copy_only=False),
            "transaction_id": pc.struct_field(
                table.column("ecommerce").combine_chunks(), "transaction_id"
            ).to_numpy(zero_copy_only=False),
            "device": pc.struct_field(table.column("device").combine_chunks(), "category").to_numpy(
                zero_copy_only=False
            ),
        }
    )
    return frame.sort_values(["user", "ts"], kind="stable").reset_index(drop=True)


def test_every_day_file_has_the_exact_export_schema(generated):
    tables, truth = generated
    expected_days = [f"events_{day:%Y%m%d}" for day in pd.date_range("2020-11-01", periods=21)]
    assert list(tables) == expected_days
    for table in tables.values():
        assert table.schema.remove_metadata().equals(GA4_EVENT_SCHEMA)
    assert sum(table.num_rows for table in tables.values()) > 10_000
    assert truth["user_pseudo_id"].is_unique


def test_the_catalog_dataset_loads_what_it_saved(tmp_path):
    partitions, _ = generate_ga4_events(default_params(n_users=200, n_days=2, seed=3))
    save_partitions(partitions, tmp_path)
    loaded = events_dataset(tmp_path).load()
    assert sorted(loaded) == ["events_20201101", "events_20201102"]
    frame = loaded["events_20201102"]()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    assert table.schema.remove_metadata().equals(GA4_EVENT_SCHEMA)
    assert table.equals(pa.Table.from_pandas(partitions["events_20201102"](), preserve_index=False))


def test_event_date_is_the_utc_day_of_the_timestamp_and_of_the_file(generated):
    tables, _ = generated
    for name, table in tables.items():
        utc_day = pd.to_datetime(table.column("event_timestamp").to_numpy(), unit="us")
        dates = table.column("event_date").to_numpy(zero_copy_only=False)
        assert (utc_day.strftime("%Y%m%d") == dates).all()
        assert set(dates) == {name.removeprefix("events_")}


def test_sessions_start_once_and_fire_the_funnel_in_order(events):
    sessions = events.groupby(["user", "session_id"], sort=False)
    # strictly increasing timestamps inside a session
    assert (sessions["ts"].diff().dropna() > 0).all()
    first_event = sessions["name"].first()
    assert first_event.isin(["first_visit", "session_start"]).all()
    assert (sessions["name"].apply(lambda names: (names == "session_start").sum()) == 1).all()
    # ga_session_id is the session's start in seconds
    assert (sessions["ts"].min() // 1_000_000 == sessions["session_id"].first()).all()
    # first_visit exactly on a user's session number 1, at the first-touch timestamp
    first_visits = events[events["name"] == "first_visit"]
    assert (first_visits["session_number"] == 1).all()
    assert first_visits["user"].is_unique
    assert (first_visits["ts"] == first_visits["first_touch"]).all()
    assert ((events["session_number"] == 1) <= events["user"].isin(first_visits["user"])).all()
    # each funnel step happens after the step before it, in the same session
    first_time = events.pivot_table(
        index=["user", "session_id"], columns="name", values="ts", aggfunc="min"
    )
    assert first_time["purchase"].notna().sum() > 20
    for earlier, later in itertools.pairwise(FUNNEL_STEPS):
        reached = first_time[later].notna()
        assert first_time.loc[reached, earlier].notna().all(), f"{later} without {earlier}"
        assert (first_time.loc[reached, earlier] < first_time.loc[reached, later]).all()
    # session numbers grow with time for every user
    numbers = sessions[["ts", "session_number"]].min().sort_values("ts")
    assert (numbers.groupby(level="user")["session_number"].diff().dropna() > 0).all()


def test_events_look_like_the_public_export(events, generated):
    tables, _ = generated
    assert set(events["name"]) == set(EVENT_NAMES)
    shares = events["name"].value_counts(normalize=True)
    assert 0.22 < shares["page_view"] < 0.40
    assert 0.15 < shares["user_engagement"] < 0.35
    assert 0.05 < shares["scroll"] < 0.20
    assert shares["purchase"] < shares["add_to_cart"] < shares["view_item"]
    # client ids are strings "<digits>.<10 digits>", never numbers
    assert events["user"].str.fullmatch(r"\d+\.\d{10}").all()
    assert events.groupby("user")["device"].nunique().eq(1).all()
    # items where GA4 puts them, and purchases that add up
    with_items = events.loc[events["n_items"] > 0, "name"].unique()
    assert set(with_items) <= {"view_item", "select_item", "add_to_cart", "begin_checkout",
                               "add_shipping_info", "add_payment_info", "purchase"}  # fmt: skip
    purchases = events[events["name"] == "purchase"]
    assert (purchases["n_items"] > 0).all()
    assert (purchases["revenue"] > 0).all() and purchases["transaction_id"].notna().all()
    table = next(iter(tables.values()))
    device = table.column("device").combine_chunks()
    assert set(pc.struct_field(device, "category").to_pylist()) <= {"desktop", "mobile", "tablet"}
    assert table.column("platform").to_pylist()[0] == "WEB"
    keys = set(pc.struct_field(pc.list_flatten(table.column("event_params")), "key").to_pylist())
    assert {"ga_session_id", "ga_session_number", "engagement_time_msec", "page_location",
            "page_title", "page_referrer", "session_engaged", "entrances", "source", "medium",
            "campaign"} <= keys  # fmt: skip


def test_same_seed_gives_byte_identical_files_in_any_order(tmp_path):
    params = default_params(n_users=300, n_days=4, seed=9)
    first, truth = generate_ga4_events(params)
    again, truth_again = generate_ga4_events(params)
    # days are independent: drawing them backwards changes nothing
    backwards = {name: again[name] for name in reversed(list(again))}
    written = save_partitions(first, tmp_path / "a")
    rewritten = save_partitions(backwards, tmp_path / "b")
    assert [path.read_bytes() for path in written] == [path.read_bytes() for path in rewritten]
    pd.testing.assert_frame_equal(truth, truth_again)
    other, _ = generate_ga4_events({**params, "seed": 10})
    assert not first["events_20201102"]().equals(other["events_20201102"]())


@pytest.fixture(scope="module")
def simulated():
    """Users, plan and every day's target events for a Monte-Carlo check of the oracle."""
    params = default_params(n_users=40000, n_days=35, seed=21)
    simulation, users = build_simulation(params)
    fired = []
    for day in range(params["n_days"]):
        table = day_events(simulation, day)
        fired.append(
            pd.DataFrame(
                {
                    "user": table.column("user_pseudo_id").to_numpy(zero_copy_only=False),
                    "date": pd.Timestamp("2020-11-01") + pd.Timedelta(days=day),
                    "name": table.column("event_name").to_numpy(zero_copy_only=False),
                }
            ).drop_duplicates()
        )
    return users, pd.concat(fired, ignore_index=True)


@pytest.mark.parametrize("target_event", ["purchase", "add_to_cart"])
def test_oracle_matches_the_simulated_frequency(simulated, target_event):
    users, fired = simulated
    snapshots = pd.to_datetime(["2020-11-15", "2020-11-22", "2020-11-29"])
    keys = pd.DataFrame(
        {
            "user_pseudo_id": np.tile(users["user_pseudo_id"], len(snapshots)),
            "snapshot_date": np.repeat(snapshots, len(users)),
        }
    )
    # Keys are users active before their snapshot, as in the feature query: the truth table
    # holds only users seen in the window, and being seen only inside a horizon would select
    # users on the very events the oracle predicts (users who mostly left the store).
    first_seen = fired.groupby("user")["date"].min()
    seen_before = first_seen.reindex(keys["user_pseudo_id"]).to_numpy() < keys["snapshot_date"]
    keys = keys.loc[seen_before].reset_index(drop=True)
    probability = oracle_probabilities(users, keys, horizon_days=7, target_event=target_event)
    hits = fired[fired["name"] == target_event]
    observed = np.zeros(len(keys), dtype=bool)
    for snapshot in snapshots:
        window = hits[(hits["date"] >= snapshot) & (hits["date"] < snapshot + pd.Timedelta(7, "D"))]
        rows = (keys["snapshot_date"] == snapshot).to_numpy()
        observed[rows] = keys.loc[rows, "user_pseudo_id"].isin(window["user"]).to_numpy()
    # overall and per oracle quintile, counts agree within 4 standard deviations
    quintile = pd.qcut(probability.rank(method="first"), 5, labels=False)
    for group in [np.ones(len(keys), dtype=bool), *[(quintile == q).to_numpy() for q in range(5)]]:
        expected = probability[group].sum()
        sd = np.sqrt((probability[group] * (1 - probability[group])).sum())
        assert abs(observed[group].sum() - expected) < 4 * sd + 2, (observed[group].sum(), expected)
    assert observed.sum() > 300


def test_oracle_accepts_dates_in_any_form_and_keeps_the_keys_index(simulated):
    users, _ = simulated
    ids = users["user_pseudo_id"].iloc[[5, 1, 5]].to_numpy()
    as_dates = pd.DataFrame(
        {"user_pseudo_id": ids, "snapshot_date": [dt.date(2020, 12, 1)] * 3}, index=[7, 3, 9]
    )
    as_strings = as_dates.assign(
        user_pseudo_id=pd.array(ids, dtype="string[pyarrow]"), snapshot_date="2020-12-01"
    )
    first = oracle_probabilities(users, as_dates, horizon_days=7, target_event="purchase")
    second = oracle_probabilities(users, as_strings, horizon_days=7, target_event="purchase")
    assert list(first.index) == [7, 3, 9]
    pd.testing.assert_series_equal(first, second)
    assert first.iloc[0] == first.iloc[2] and ((first > 0) & (first < 1)).all()
    longer = oracle_probabilities(users, as_dates, horizon_days=14, target_event="purchase")
    assert (longer > first).all()
    before_first_touch = as_dates.assign(snapshot_date=dt.date(2020, 1, 1))
    assert (oracle_probabilities(users, before_first_touch, 7, "purchase") == 0).all()


def test_purchase_rate_of_active_users_is_one_to_three_percent_at_default_knobs():
    """Expected share of users active in the 28 days before a snapshot who buy in 7 days."""
    params = default_params(n_users=8000)
    simulation, users = build_simulation(params)
    plan, start = simulation.plan, pd.Timestamp(params["start_date"])
    for snapshot in ["2020-12-13", "2021-01-17"]:
        day = (pd.Timestamp(snapshot) - start).days
        recent = (plan.day >= day - 28) & (plan.day < day)
        active = users.loc[np.unique(plan.user[recent])]
        keys = pd.DataFrame({"user_pseudo_id": active["user_pseudo_id"], "snapshot_date": snapshot})
        rate = oracle_probabilities(users, keys, horizon_days=7, target_event="purchase").mean()
        assert 0.01 <= rate <= 0.03, (snapshot, rate)


def test_oracle_rejects_bad_input(simulated):
    users, _ = simulated
    keys = pd.DataFrame(
        {"user_pseudo_id": users["user_pseudo_id"].head(2), "snapshot_date": "2020-12-01"}
    )
    with pytest.raises(ValueError, match="target_event must be one of"):
        oracle_probabilities(users, keys, horizon_days=7, target_event="refund")
    with pytest.raises(ValueError, match="horizon_days"):
        oracle_probabilities(users, keys, horizon_days=0, target_event="purchase")
    with pytest.raises(ValueError, match="missing from ga4_user_truth"):
        oracle_probabilities(users, keys.assign(user_pseudo_id="1.0000000000"), 7, "purchase")
    with pytest.raises(
        ValueError, match=r"ga4_user_truth lacks column\(s\) \['session_prob_purchase'\]"
    ):
        oracle_probabilities(users.drop(columns="session_prob_purchase"), keys, 7, "purchase")
    with pytest.raises(ValueError, match="oracle keys lacks"):
        oracle_probabilities(users, keys.drop(columns="snapshot_date"), 7, "purchase")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"n_days": 0}, "n_days must be an integer >= 1"),
        ({"n_days": 2.5}, "n_days must be an integer >= 1"),
        ({"start_date": "2020-13-01"}, "start_date must be a date written YYYY-MM-DD"),
        ({"scale": 0}, "scale must be a number > 0"),
        ({"scale": -1.0}, "scale must be a number > 0"),
        ({"n_users": 0}, "n_users must be an integer >= 1"),
        ({"seed": "x"}, "seed must be an integer"),
        ({"visits": None}, r"lacks the group\(s\) \['visits'\]"),
    ],
)
def test_bad_parameters_are_refused_with_the_parameter_named(change, message):
    with pytest.raises(ValueError, match=f"params data_generation: {message}"):
        generate_ga4_events(default_params(**{"n_users": 50, "n_days": 2, **change}))


def test_unknown_effect_keys_are_refused():
    params = copy.deepcopy(default_params(n_users=50, n_days=2))
    params["funnel"]["cart_effects"]["device_x_medium"]["phone"] = {"organic": 1.0}
    with pytest.raises(ValueError, match=r"device_x_medium has unknown key\(s\) \['phone'\]"):
        generate_ga4_events(params)
