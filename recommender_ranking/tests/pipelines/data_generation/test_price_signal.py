"""The planted price signal: ``price_sensitivity`` ties the chosen price tier to the customer's
price level (default 1.5), and 0 unties it, in the purchases and in the oracle alike."""

import numpy as np
import pandas as pd
import pytest

from recommender_ranking.pipelines.data_generation import nodes
from recommender_ranking.pipelines.data_generation.catalogue import N_TIERS


def _tier_level_correlations(params: dict, monkeypatch: pytest.MonkeyPatch) -> dict[str, float]:
    """Correlation, over customers, between the hidden price level and the mean price tier of
    the articles each customer bought (``purchases``) and the oracle proposed (``oracle``)."""
    markets = []
    build_market = nodes.build_market

    def capture(*args, **kwargs):
        markets.append(build_market(*args, **kwargs))
        return markets[-1]

    monkeypatch.setattr(nodes, "build_market", capture)
    articles, customers, chunks, _, oracle = nodes.generate_hm_data(params)
    (market,) = markets
    tier = pd.Series(market.cell % N_TIERS, index=articles["article_id"])
    level = pd.Series(market.price_level, index=customers["customer_id"])
    transactions = pd.concat(list(chunks), ignore_index=True)
    correlations = {}
    for name, rows in {"purchases": transactions, "oracle": oracle}.items():
        rows = rows.assign(tier=tier.loc[rows["article_id"].astype(str)].to_numpy())
        per_customer = rows.groupby(rows["customer_id"].astype(str))["tier"].agg(["mean", "size"])
        per_customer = per_customer[per_customer["size"] >= 3]
        assert len(per_customer) > 200
        correlations[name] = float(
            np.corrcoef(per_customer["mean"], level.loc[per_customer.index])[0, 1]
        )
    return correlations


def test_price_sensitivity_ties_the_chosen_tier_to_the_price_level(
    tiny_generation_params, monkeypatch
):
    assert tiny_generation_params["price_sensitivity"] == 1.5  # conf/base's default
    planted = _tier_level_correlations(tiny_generation_params, monkeypatch)
    assert planted["purchases"] > 0.5, planted
    assert planted["oracle"] > 0.5, planted  # the oracle reads the same tier taste


def test_price_sensitivity_zero_chooses_the_tier_regardless_of_the_price_level(
    tiny_generation_params, monkeypatch
):
    off = _tier_level_correlations({**tiny_generation_params, "price_sensitivity": 0}, monkeypatch)
    assert abs(off["purchases"]) < 0.12, off  # seed 7 gives 0.04 and -0.02
    assert abs(off["oracle"]) < 0.12, off
