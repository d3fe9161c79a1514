import numpy as np
import pandas as pd
import pytest

from ga4_mlops.pipelines.feature_engineering.nodes import (
    MISSING_CODE,
    UNSEEN_CODE,
    encode_features,
    fit_preprocessor,
)

RARE_CODE = 1.0  # one frequent category (code 0) in each column below, then the rare ones


def test_preprocessor_learns_from_train_only_and_handles_unseen_and_missing(churn_columns):
    train = pd.DataFrame(
        {
            "tenure_months": [1.0, 2.0, 3.0, np.nan],
            "support_tickets": [0.0, 1.0, 1.0, 2.0],
            "plan": ["basic", "basic", "pro", None],
            "region": ["r1", "r1", "r1", "r2"],
        }
    )
    preprocessor = fit_preprocessor(train, churn_columns, {"min_category_count": 2})
    assert preprocessor.named_transformers_["numeric"].statistics_[0] == 2.0
    scoring = pd.DataFrame(
        {
            "tenure_months": [np.nan, 10.0],
            "support_tickets": [5.0, np.nan],
            "plan": ["enterprise", None],  # unseen, missing
            "region": ["r1", "r2"],  # frequent, rare
            "extra_column": [1, 2],
        }
    )
    encoded = encode_features(preprocessor, scoring)
    assert list(encoded.columns) == [
        "tenure_months",
        "support_tickets",
        "missingindicator_tenure_months",
        "plan",
        "region",
    ]
    assert encoded["tenure_months"].tolist() == [2.0, 10.0]
    assert encoded["support_tickets"].tolist() == [5.0, 1.0]  # median of train
    assert encoded["missingindicator_tenure_months"].tolist() == [1.0, 0.0]
    assert encoded["plan"].tolist() == [UNSEEN_CODE, MISSING_CODE]
    assert encoded["region"].tolist() == [0.0, RARE_CODE]  # r2 was seen once in train
    assert (encoded.dtypes == "float64").all()


def test_preprocessor_rejects_missing_and_non_numeric_columns(churn_columns, churn_table):
    preprocessor = fit_preprocessor(churn_table, churn_columns, {"min_category_count": 1})
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['region'\]"):
        encode_features(preprocessor, churn_table.drop(columns="region"))
    broken = churn_table.assign(tenure_months="long")
    with pytest.raises(ValueError, match="column 'tenure_months' must be numeric"):
        encode_features(preprocessor, broken)


def test_category_codes_do_not_depend_on_row_order(churn_columns, churn_table):
    forward = fit_preprocessor(churn_table, churn_columns, {"min_category_count": 1})
    backward = fit_preprocessor(churn_table.iloc[::-1], churn_columns, {"min_category_count": 1})
    forward_codes, backward_codes = (
        [[str(category) for category in categories] for categories in encoder.categories_]
        for encoder in (p.named_transformers_["categorical"] for p in (forward, backward))
    )
    assert forward_codes == backward_codes
    shuffled = churn_table.sample(frac=1.0, random_state=3)
    assert encode_features(forward, shuffled).equals(encode_features(backward, shuffled))
