"""The oracle of GA4's predicted revenue: the generator's exact expected revenue of a window,
checked against the revenue its own simulation realises (seeded Monte Carlo)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pytest
import yaml

from ga4_mlops.pipelines.data_generation.nodes import (
    generate_ga4_events,
    oracle_expected_revenue,
    oracle_probabilities,
)
from ga4_mlops.pipelines.data_generation.oracle import TRUTH_COLUMNS
from ga4_mlops.pipelines.data_generation.sessions import build_simulation, day_events

PARAMETERS = (
    Path(__file__).resolve().parents[3] / "conf" / "base" / "parameters_data_generation.yml"
)
START = pd.Timestamp("2020-11-01")
SNAPSHOT = pd.Timestamp("2020-11-08")
HORIZON = 28  # GA4's predicted revenue: purchases in the next 28 days
N_DAYS = 35  # the horizon of SNAPSHOT ends on the last simulated day


def params(**overrides) -> dict:
    data_generation = yaml.safe_load(PARAMETERS.read_text())["data_generation"]
    return {**data_generation, "seed": 31, "n_users": 100000, "n_days": N_DAYS, **overrides}


@pytest.fixture(scope="module")
def simulated():
    """Users and every purchase (user, day, revenue) of a seeded simulation; who was active."""
    simulation, users = build_simulation(params())
    purchases, active = [], []
    for day in range(N_DAYS):
        table = day_events(simulation, day)
        frame = pd.DataFrame(
            {
                "user": table.column("user_pseudo_id").to_numpy(zero_copy_only=False),
                "date": START + pd.Timedelta(days=day),
                "name": table.column("event_name").to_numpy(zero_copy_only=False),
                "revenue": pc.struct_field(
                    table.column("ecommerce").combine_chunks(), "purchase_revenue_in_usd"
                ).to_numpy(zero_copy_only=False),
            }
        )
        purchases.append(frame[frame["name"] == "purchase"].drop(columns="name"))
        active.append(frame[["user", "date"]].drop_duplicates())
    return users, pd.concat(purchases, ignore_index=True), pd.concat(active, ignore_index=True)


def within(observed: np.ndarray, expected: np.ndarray, sd: float, label: str) -> None:
    assert abs(observed.sum() - expected.sum()) < 4 * sd, (label, observed.sum(), expected.sum())


def test_mean_purchase_value_matches_the_simulated_carts(simulated):
    users, purchases, _ = simulated
    value = users.set_index("user_pseudo_id")["purchase_value_mean_usd"]
    expected = value.reindex(purchases["user"]).to_numpy()
    observed = purchases["revenue"].to_numpy(dtype=float)
    assert len(purchases) > 1500 and np.isfinite(expected).all()
    within(observed, expected, np.sqrt(len(observed)) * observed.std(), "all purchases")


def test_expected_revenue_in_28_days_matches_the_simulated_revenue(simulated):
    users, purchases, active = simulated
    # keys: users active before the snapshot, as in the feature query (see the probability
    # oracle's Monte-Carlo test: users seen only inside the horizon are selected on it)
    seen_before = active.loc[active["date"] < SNAPSHOT, "user"].unique()
    keys = pd.DataFrame({"user_pseudo_id": seen_before, "snapshot_date": SNAPSHOT})
    expected = oracle_expected_revenue(users, keys, horizon_days=HORIZON)
    window = purchases[
        (purchases["date"] >= SNAPSHOT)
        & (purchases["date"] < SNAPSHOT + pd.Timedelta(HORIZON, "D"))
    ]
    realised = window.groupby("user")["revenue"].sum().reindex(seen_before, fill_value=0.0)
    realised = realised.to_numpy(dtype=float)
    assert len(keys) > 5000 and (realised > 0).sum() > 300
    # overall and per oracle quintile, sums agree within 4 standard deviations of a compound
    # Poisson sum: Var = E[purchases] * E[value^2] = E[revenue] * E[value^2] / E[value], the
    # value moments taken from every simulated purchase
    values = purchases["revenue"].to_numpy(dtype=float)
    second_over_first = (values**2).mean() / values.mean()
    quintile = pd.qcut(expected.rank(method="first"), 5, labels=False).to_numpy()
    for group in [np.ones(len(keys), dtype=bool), *[quintile == q for q in range(5)]]:
        sd = np.sqrt(expected.to_numpy()[group].sum() * second_over_first) + values.mean()
        within(realised[group], expected.to_numpy()[group], sd, f"{group.sum()} users")
    # the quintiles are ordered: the oracle ranks users by what they will spend
    means = [realised[quintile == q].mean() for q in range(5)]
    assert means[4] > 4 * means[0]


def test_expected_revenue_is_the_expected_purchases_times_the_mean_value(simulated):
    users, _, _ = simulated
    returning = users.loc[users["first_touch_date"] < START, "user_pseudo_id"].to_numpy()
    keys = pd.DataFrame(
        {"user_pseudo_id": returning[[3, 1, 3]], "snapshot_date": "2020-11-20"}, index=[7, 3, 9]
    )
    week = oracle_expected_revenue(users, keys, horizon_days=7)
    month = oracle_expected_revenue(users, keys, horizon_days=28)
    assert list(week.index) == [7, 3, 9] and week.iloc[0] == week.iloc[2]
    assert (month > week).all() and (week > 0).all()
    # small windows: P(purchase) ~ expected purchases, so revenue ~ P * mean value
    probability = oracle_probabilities(users, keys, horizon_days=1, target_event="purchase")
    day = oracle_expected_revenue(users, keys, horizon_days=1)
    value = users.set_index("user_pseudo_id")["purchase_value_mean_usd"].reindex(
        keys["user_pseudo_id"]
    )
    np.testing.assert_allclose(day.to_numpy(), probability.to_numpy() * value.to_numpy(), rtol=1e-3)
    before_first_touch = keys.assign(snapshot_date="2019-01-01")
    assert (oracle_expected_revenue(users, before_first_touch, horizon_days=7) == 0).all()
    with pytest.raises(ValueError, match="horizon_days"):
        oracle_expected_revenue(users, keys, horizon_days=0)
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['purchase_value_mean_usd'\]"):
        oracle_expected_revenue(users.drop(columns="purchase_value_mean_usd"), keys, 7)


def test_the_truth_written_by_the_generator_holds_the_mean_purchase_value():
    _, truth = generate_ga4_events(params(n_users=2000, n_days=7))
    assert "purchase_value_mean_usd" in TRUTH_COLUMNS
    assert list(truth.columns) == list(TRUTH_COLUMNS)
    # at least one cart line of at least one $0.99+ item: the floor of any purchase's value
    assert (truth["purchase_value_mean_usd"] > 0.99).all()
