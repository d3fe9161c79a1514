"""The generated data has the real files' exact columns and quirks, is deterministic, shows the
June peak of ind_reca_fin_ult1, and its oracle is exact: calibrated and better than popularity."""

from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
import yaml

from recommender_gnn.pipelines.banking_data.contract import (
    PRODUCTS,
    SUBMISSION_COLUMNS,
    TEST_COLUMNS,
    TRAIN_COLUMNS,
    added_products,
    clean_santander,
    month_date,
)
from recommender_gnn.pipelines.banking_data.generator import generate_santander
from recommender_gnn.pipelines.banking_data.nodes import score_references
from tests.kedro_cli import BLUEPRINT

PARAMETERS = yaml.safe_load(
    (BLUEPRINT / "conf" / "base" / "parameters_banking_data.yml").read_text()
)["banking_data"]


def generator_params(**overrides):
    return {**PARAMETERS["generator"], "seed": 42, "n_customers": 6000, **overrides}


@lru_cache(maxsize=4)
def _generate(seed: int) -> dict[str, pd.DataFrame]:
    return generate_santander(generator_params(seed=seed))


def generate(seed: int = 42) -> dict[str, pd.DataFrame]:
    """Copies of a cached run."""
    return {name: frame.copy() for name, frame in _generate(seed).items()}


@lru_cache(maxsize=1)
def _clean(seed: int = 42) -> pd.DataFrame:
    return clean_santander(generate(seed)["train"], "santander_train_raw", has_products=True)


def test_columns_are_exactly_the_competition_files():
    data = generate()
    assert list(data["train"].columns) == TRAIN_COLUMNS and len(TRAIN_COLUMNS) == 48
    assert list(data["test"].columns) == TEST_COLUMNS and len(TEST_COLUMNS) == 24
    assert list(data["test_labels"].columns) == SUBMISSION_COLUMNS
    assert list(data["oracle"].columns) == ["fecha_dato", "ncodpers", *PRODUCTS]
    for name in ("train", "test"):
        values = data[name].to_numpy().ravel()
        assert all(isinstance(value, str) for value in values), f"{name}: text only"
    months = sorted(data["train"]["fecha_dato"].unique())
    assert months == [month_date(month) for month in range(17)]
    assert months[0] == "2015-01-28" and months[-1] == "2016-05-28"
    assert set(data["test"]["fecha_dato"]) == {"2016-06-28"}
    assert 250_000 / 20_000 * 6000 * 0.8 < len(data["train"]) < 17 * 6000


def test_the_real_files_quirks_are_present():
    train, test = generate()["train"], generate()["test"]
    ages = train["age"]
    assert ages.str.match(r"^ +\d+$").any() and ages.str.match(r"^\d+$").any()  # padded or not
    assert (ages.str.strip() == "NA").any()
    assert train["antiguedad"].str.match(r"^ {4,}\d+$").any()
    assert (train["antiguedad"].str.strip() == "NA").any()
    assert {"1", "1.0", "P"} <= set(train["indrel_1mes"]) and "" in set(train["indrel_1mes"])
    assert (train["renta"] == "NA").mean() > 0.1 and test["renta"].str.startswith(" ").any()
    nomina, pension = train["ind_nomina_ult1"] == "NA", train["ind_nom_pens_ult1"] == "NA"
    assert nomina.sum() > 10 and (nomina == pension).all()
    assert set(train["ind_cco_fin_ult1"]) == {"0", "1"}
    assert "CORUÑA, A" in set(train["nomprov"])
    "".join(train["nomprov"].unique()).encode("latin-1")  # raises if a name is not Latin-1


def test_customers_enter_and_leave_mid_history():
    train, test = generate()["train"], generate()["test"]
    spans = train.groupby("ncodpers")["fecha_dato"].agg(["min", "max", "size"])
    entering = spans["min"] > "2015-01-28"
    leaving = spans["max"] < "2016-05-28"
    assert entering.mean() > 0.1 and leaving.mean() > 0.03
    assert not (set(spans.index[leaving]) & set(test["ncodpers"]))
    assert set(test["ncodpers"]) == set(spans.index[spans["max"] == "2016-05-28"])
    months_between = (pd.to_datetime(spans["max"]) - pd.to_datetime(spans["min"])).dt.days
    assert (spans["size"] - 1 == (months_between / 30.4).round()).all()  # no gaps


def test_same_seed_same_data_other_seed_other_data():
    first, again = generate_santander(generator_params()), generate()
    for name, frame in first.items():
        pd.testing.assert_frame_equal(frame, again[name])
    other = generate_santander(generator_params(seed=43))
    assert not other["train"].head(1000).equals(first["train"].head(1000))
    assert not other["test_labels"].equals(first["test_labels"])


def test_the_files_survive_a_latin_1_csv_round_trip(tmp_path):
    raw = generate()["train"].head(20_000)
    raw.to_csv(tmp_path / "train_ver2.csv", index=False, encoding="latin-1")
    assert "CORUÑA".encode("latin-1") in (tmp_path / "train_ver2.csv").read_bytes()
    read = pd.read_csv(tmp_path / "train_ver2.csv", dtype=str, encoding="latin-1")
    from_file = clean_santander(read, "train_ver2.csv", has_products=True)
    in_memory = clean_santander(raw, "in memory", has_products=True)
    pd.testing.assert_frame_equal(from_file, in_memory)


def test_taxes_are_added_far_more_in_june():
    clean = _clean()
    added = added_products(clean)
    reca = added[added["product"] == "ind_reca_fin_ult1"].groupby("month").size()
    rate = reca.reindex(range(1, 17), fill_value=0) / clean.groupby("month").size().loc[1:]
    assert rate[5] > 5 * rate.drop(5).max()  # June 2015 (month 5)
    labels = generate()["test_labels"]["added_products"]
    assert labels.str.contains("ind_reca_fin_ult1").mean() > 3 * rate.drop(5).max()


def test_oracle_is_the_probability_the_labels_were_drawn_with():
    data, clean = generate(), _clean()
    oracle = data["oracle"][data["oracle"]["fecha_dato"] == "2016-06-28"]
    assert list(oracle["ncodpers"]) == list(data["test_labels"]["ncodpers"])
    may = clean[clean["month"] == 16].set_index("customer").loc[oracle["ncodpers"], PRODUCTS]
    probabilities = oracle[PRODUCTS].to_numpy()
    assert (probabilities[may.to_numpy() == 1] == 0).all()  # held in May: cannot be added
    names = data["test_labels"]["added_products"].str.split()
    added = np.array([[product in row for product in PRODUCTS] for row in names])
    assert not (added & (probabilities == 0)).any()
    expected, spread = probabilities.sum(), np.sqrt((probabilities * (1 - probabilities)).sum())
    assert abs(added.sum() - expected) < 4 * spread
    for column in np.argsort(-probabilities.sum(axis=0))[:5]:  # the most added products
        column_spread = np.sqrt((probabilities[:, column] * (1 - probabilities[:, column])).sum())
        assert abs(added[:, column].sum() - probabilities[:, column].sum()) < 4 * column_spread


def test_oracle_beats_popularity_on_validation_and_test_months():
    data = generate()
    test = clean_santander(data["test"], "santander_test_raw", has_products=False)
    scores = score_references(_clean(), test, data["test_labels"], data["oracle"], {"k": 7})
    scores = scores.set_index(["split", "model"])
    for split in ("validation", "test"):
        oracle, popularity = scores.loc[(split, "oracle")], scores.loc[(split, "popularity")]
        assert oracle["map_all"] > 1.03 * popularity["map_all"]
        assert oracle["map_adders"] > oracle["map_all"] * 5  # most customers add nothing
        assert 0.01 < oracle["map_all"] < 0.2


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match=r"banking_data.generator.n_customers must be >= 1"):
        generate_santander(generator_params(n_customers=0))
