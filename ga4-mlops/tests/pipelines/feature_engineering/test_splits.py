"""Split checks and the three ways to state splits: date lists, date ranges or cuts, id hash."""

import numpy as np
import pandas as pd
import pytest

from ga4_mlops.pipelines.feature_engineering.splits import SPLIT_NAMES, split_model_input


def dates_of(part: pd.DataFrame, column: str = "as_of") -> set[str]:
    return set(part[column].dt.strftime("%Y-%m-%d"))


def test_date_lists_cut_by_time_and_keep_scoring_unlabelled(
    churn_table, churn_columns, churn_splits
):
    train, validation, calibration, test, scoring = split_model_input(
        churn_table, churn_columns, churn_splits
    )
    assert dates_of(train) == set(churn_splits["train"])
    assert dates_of(test) == set(churn_splits["test"])
    assert len(train) + len(validation) + len(calibration) + len(test) + len(scoring) == len(
        churn_table
    )
    assert train["churned"].dtype == "int64"
    assert scoring["churned"].isna().all()


def test_missing_split_dates_are_named(churn_table, churn_columns, churn_splits):
    churn_splits["test"] = ["2030-01-01"]
    with pytest.raises(
        ValueError, match=r"no rows with as_of in split 'test' \(\['2030-01-01'\]\)"
    ):
        split_model_input(churn_table, churn_columns, churn_splits)


def test_missing_columns_are_named(churn_table, churn_columns, churn_splits):
    with pytest.raises(ValueError, match=r"model_input_table lacks column\(s\) \['plan'\]"):
        split_model_input(churn_table.drop(columns="plan"), churn_columns, churn_splits)


def test_a_target_that_never_occurs_is_refused(churn_table, churn_columns, churn_splits):
    labelled = churn_table["churned"].notna()
    churn_table.loc[labelled, "churned"] = 0.0
    with pytest.raises(ValueError, match="single class in split 'train'"):
        split_model_input(churn_table, churn_columns, churn_splits)


def test_unlabelled_rows_in_a_labelled_split_are_refused(churn_table, churn_columns, churn_splits):
    in_test = churn_table["as_of"] == pd.Timestamp(churn_splits["test"][0])
    churn_table.loc[in_test & (churn_table.index % 7 == 0), "churned"] = np.nan
    with pytest.raises(
        ValueError, match=r"column 'churned' is missing for \d+ rows of split 'test'"
    ):
        split_model_input(churn_table, churn_columns, churn_splits)


def test_a_date_in_two_splits_is_refused(churn_table, churn_columns, churn_splits):
    churn_splits["validation"] = [*churn_splits["validation"], churn_splits["train"][-1]]
    with pytest.raises(
        ValueError, match=r"date 2024-01-14 is in two splits, 'train' and 'validation'"
    ):
        split_model_input(churn_table, churn_columns, churn_splits)


def test_splits_out_of_time_order_are_refused(churn_table, churn_columns, churn_splits):
    churn_splits["calibration"], churn_splits["test"] = (
        churn_splits["test"],
        churn_splits["calibration"],
    )
    with pytest.raises(
        ValueError,
        match=r"not in time order: split 'calibration' has as_of up to 2024-02-04, not before "
        r"2024-01-28, the first date of split 'test'",
    ):
        split_model_input(churn_table, churn_columns, churn_splits)


def test_a_label_window_reaching_into_the_next_split_is_refused(
    churn_table, churn_columns, churn_splits
):
    splits = {"by": "date", "dates": churn_splits, "label_horizon_days": 14}
    with pytest.raises(
        ValueError,
        match=r"split 'train': the label window \[2024-01-14, 2024-01-28\) of its last date "
        r"2024-01-14 \(label_horizon_days=14\) runs past 2024-01-21, the first date of split "
        r"'validation'",
    ):
        split_model_input(churn_table, churn_columns, splits)
    # A window that closes on the next split's first date is allowed: [01-14, 01-21).
    assert len(split_model_input(churn_table, churn_columns, {**splits, "label_horizon_days": 7}))


def test_date_ranges_and_cuts_take_every_daily_row(churn_columns):
    rng = np.random.default_rng(1)
    days = pd.date_range("2024-01-01", "2024-03-31", freq="D")
    table = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(len(days) * 20)],
            "as_of": np.repeat(days, 20),
            "tenure_months": rng.gamma(2.0, 10.0, len(days) * 20),
            "support_tickets": rng.poisson(1.0, len(days) * 20).astype(float),
            "plan": rng.choice(["basic", "pro"], len(days) * 20),
            "region": rng.choice(["r1", "r2"], len(days) * 20),
            "churned": rng.integers(0, 2, len(days) * 20).astype(float),
        }
    )
    table.loc[table["as_of"] >= "2024-03-25", "churned"] = np.nan
    ranges = {
        "train": {"start": "2024-01-01", "end": "2024-02-15"},
        "validation": {"start": "2024-02-16", "end": "2024-02-29"},
        "calibration": {"start": "2024-03-01", "end": "2024-03-10"},
        "test": {"start": "2024-03-11", "end": "2024-03-24"},
        "scoring": {"start": "2024-03-25", "end": "2024-03-31"},
    }
    by_range = split_model_input(table, churn_columns, {"by": "date", "dates": ranges})
    assert sum(len(part) for part in by_range) == len(table)
    cuts = {
        "validation": "2024-02-16",
        "calibration": "2024-03-01",
        "test": "2024-03-11",
        "scoring": "2024-03-25",
    }
    by_cut = split_model_input(table, churn_columns, {"by": "date", "cuts": cuts})
    for range_part, cut_part in zip(by_range, by_cut, strict=True):
        pd.testing.assert_frame_equal(range_part, cut_part)


def test_rows_in_no_split_are_counted_and_refused_above_the_allowed_share(churn_columns, caplog):
    # A daily table split with one listed date per week, like the snapshot example.
    days = pd.date_range("2024-01-01", "2024-02-11", freq="D")
    rng = np.random.default_rng(2)
    table = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(len(days) * 10)],
            "as_of": np.repeat(days, 10),
            "tenure_months": rng.gamma(2.0, 10.0, len(days) * 10),
            "support_tickets": rng.poisson(1.0, len(days) * 10).astype(float),
            "plan": rng.choice(["basic", "pro"], len(days) * 10),
            "region": rng.choice(["r1", "r2"], len(days) * 10),
            "churned": rng.integers(0, 2, len(days) * 10).astype(float),
        }
    )
    weekly = {
        "train": ["2024-01-07", "2024-01-14"],
        "validation": ["2024-01-21"],
        "calibration": ["2024-01-28"],
        "test": ["2024-02-04"],
        "scoring": ["2024-02-11"],
    }
    table.loc[table["as_of"] == "2024-02-11", "churned"] = np.nan
    with pytest.raises(
        ValueError,
        match=r"model_input_table: 360 of 420 rows \(85.7%\) fall in no split of params "
        r"model_input.splits \(by: date\) \(dates \['2024-01-01', .*at most "
        r"max_unassigned_share=0.0 may be left out",
    ):
        split_model_input(table, churn_columns, {"by": "date", "dates": weekly})
    allowed = {"by": "date", "dates": weekly, "max_unassigned_share": 0.9}
    with caplog.at_level("WARNING"):
        parts = split_model_input(table, churn_columns, allowed)
    assert sum(len(part) for part in parts) == 60
    assert "360 of 420 rows fall in no split" in caplog.text


def test_id_hash_split_is_seeded_and_scores_the_unlabelled_rows(churn_columns):
    table = make_cross_sectional(3000, 0)
    columns = {**churn_columns, "id": ["customer_id"], "date": None}
    splits = {
        "by": "id_hash",
        "fractions": {"train": 0.6, "validation": 0.1, "calibration": 0.1, "test": 0.2},
        "seed": 7,
    }
    parts = dict(zip(SPLIT_NAMES, split_model_input(table, columns, splits), strict=True))
    assert parts["scoring"]["churned"].isna().all()
    assert len(parts["scoring"]) == table["churned"].isna().sum()
    labelled = table["churned"].notna().sum()
    assert abs(len(parts["train"]) / labelled - 0.6) < 0.03
    assert abs(len(parts["test"]) / labelled - 0.2) < 0.03
    # Stable under row order, different under another seed.
    shuffled = split_model_input(table.sample(frac=1, random_state=3), columns, splits)
    assert set(shuffled[0]["customer_id"]) == set(parts["train"]["customer_id"])
    reseeded = split_model_input(table, columns, {**splits, "seed": 8})
    assert set(reseeded[0]["customer_id"]) != set(parts["train"]["customer_id"])


def test_id_hash_fractions_must_cover_every_labelled_split(churn_columns):
    columns = {**churn_columns, "id": ["customer_id"], "date": None}
    splits = {"by": "id_hash", "fractions": {"train": 0.8, "test": 0.2}}
    with pytest.raises(ValueError, match=r"fractions must give every labelled split"):
        split_model_input(make_cross_sectional(100, 0), columns, splits)


def test_split_names_beside_by_are_refused(churn_table, churn_columns, churn_splits):
    with pytest.raises(
        ValueError,
        match=r"mixes split names \['calibration', 'scoring', 'test', 'train', 'validation'\] "
        r"with 'by'",
    ):
        split_model_input(churn_table, churn_columns, {"by": "date", **churn_splits})


def make_cross_sectional(n_customers: int, seed: int) -> pd.DataFrame:
    """One row per customer, no date; a tenth of the rows have no label yet."""
    rng = np.random.default_rng(seed)
    tenure = rng.gamma(2.0, 10.0, n_customers)
    churned = (rng.random(n_customers) < 1 / (1 + np.exp(2.5 - 1.5 * (tenure < 6)))).astype(float)
    churned[rng.random(n_customers) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "customer_id": [f"k{seed}-{i:05d}" for i in range(n_customers)],
            "tenure_months": tenure,
            "support_tickets": rng.poisson(1.0, n_customers).astype(float),
            "plan": rng.choice(["basic", "plus", "pro"], n_customers),
            "region": rng.choice(["r1", "r2", "r3"], n_customers),
            "churned": churned,
        }
    )
