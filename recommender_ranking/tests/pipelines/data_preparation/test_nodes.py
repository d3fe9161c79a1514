"""Validation names the file, the column and the expectation; sampling is seeded."""

import logging

import pandas as pd
import pytest
import yaml
from kedro.io import DataCatalog

from recommender_ranking.pipelines.data_generation.nodes import generate_hm_data
from recommender_ranking.pipelines.data_preparation.nodes import (
    sample_customers,
    select_transactions,
    validate_articles,
    validate_customers,
    validate_raw_inputs,
    validate_transactions,
)
from tests.kedro_cli import BLUEPRINT

PARAMS = {"seed": 1, "customer_sample_share": 1.0, "start_date": None, "end_date": None}


@pytest.fixture(scope="module")
def raw(tiny_generation_params):
    articles, customers, transactions, _, _ = generate_hm_data(
        {**tiny_generation_params, "n_customers": 200}
    )
    transactions = pd.concat(list(transactions), ignore_index=True)  # weekly chunks
    transactions = transactions.astype({"customer_id": str, "article_id": str})
    return articles, customers, transactions


def test_valid_files_come_out_in_the_contract_types(raw):
    articles = validate_articles(raw[0])
    customers = validate_customers(raw[1])
    transactions = validate_transactions(raw[2], articles, customers)
    assert len(transactions) == len(raw[2])
    assert str(transactions["t_dat"].dtype) == "datetime64[ns]"
    assert transactions.dtypes[["price", "sales_channel_id"]].tolist() == ["float64", "int64"]
    assert transactions["article_id"].str.fullmatch(r"0\d{9}").all()
    assert customers["age"].dtype == "float64"


@pytest.mark.parametrize(
    ("table", "column", "expectation"),
    [
        (0, "colour_group_name", "text"),
        (1, "age", "number"),
        (2, "t_dat", "date YYYY-MM-DD"),
    ],
)
def test_a_missing_column_names_the_file_the_column_and_the_expectation(
    raw, table, column, expectation
):
    files = ["articles.csv", "customers.csv", "transactions_train.csv"]
    broken = raw[table].drop(columns=column)
    with pytest.raises(ValueError) as error:
        if table == 0:
            validate_articles(broken)
        elif table == 1:
            validate_customers(broken)
        else:
            validate_transactions(broken, validate_articles(raw[0]), validate_customers(raw[1]))
    message = str(error.value)
    assert files[table] in message and f"'{column}'" in message and expectation in message


@pytest.mark.parametrize("table", [0, 2])
def test_article_ids_read_as_numbers_fail_with_the_fix(raw, table):
    broken = raw[table].assign(article_id=raw[table]["article_id"].astype("int64"))
    with pytest.raises(ValueError) as error:
        if table == 0:
            validate_articles(broken)
        else:
            validate_transactions(broken, validate_articles(raw[0]), validate_customers(raw[1]))
    message = str(error.value)
    assert ["articles.csv", "transactions_train.csv"][table // 2] in message
    assert "'article_id'" in message and "leading zero" in message
    assert "dtype: {article_id: str}" in message


def test_ids_that_lost_their_zero_in_the_file_are_padded_and_counted(raw, caplog):
    stripped = raw[0].assign(article_id=raw[0]["article_id"].str.lstrip("0"))
    with caplog.at_level(logging.WARNING):
        articles = validate_articles(stripped)
    assert articles["article_id"].tolist() == raw[0]["article_id"].tolist()
    assert f"{len(raw[0])} article_id(s) had lost their leading zero" in caplog.text


def test_catalog_reads_the_raw_ids_as_strings(tmp_path, raw):
    entry = yaml.safe_load(
        (BLUEPRINT / "conf" / "base" / "catalog_data_generation.yml").read_text()
    )["raw_articles"]
    entry["filepath"] = str(tmp_path / "articles.csv")
    catalog = DataCatalog.from_config({"raw_articles": entry})
    catalog.save("raw_articles", raw[0])
    assert catalog.load("raw_articles")["article_id"].tolist() == raw[0]["article_id"].tolist()


def test_unknown_customers_and_articles_are_dropped_and_counted(raw, caplog):
    articles, customers = validate_articles(raw[0]), validate_customers(raw[1])
    extra = raw[2].head(3).copy()
    extra.loc[extra.index[0], "customer_id"] = "f" * 64
    extra.loc[extra.index[1:], "article_id"] = "0999999999"
    with caplog.at_level(logging.INFO):
        kept = validate_transactions(pd.concat([raw[2], extra]), articles, customers)
    assert len(kept) == len(raw[2])
    assert "dropped 1 of unknown customers and 2 of unknown articles" in caplog.text


def test_sampling_is_seeded_and_ignores_row_order(raw):
    customers = validate_customers(raw[1])
    params = {**PARAMS, "customer_sample_share": 0.5}
    first = sample_customers(customers, params)
    shuffled = sample_customers(customers.sample(frac=1, random_state=3), params)
    assert first["customer_id"].tolist() == shuffled["customer_id"].tolist()
    assert 0.3 < len(first) / len(customers) < 0.7
    with pytest.raises(ValueError, match="customer_sample_share must be in"):
        sample_customers(customers, {**PARAMS, "customer_sample_share": 0})


def test_a_partial_sample_warns_that_kaggle_rejects_the_submission(raw, caplog):
    customers = validate_customers(raw[1])
    with caplog.at_level(logging.WARNING):
        sample_customers(customers, PARAMS)
    assert "Kaggle rejects" not in caplog.text
    with caplog.at_level(logging.WARNING):
        kept = sample_customers(customers, {**PARAMS, "customer_sample_share": 0.5})
    assert f"keeps {len(kept)} of {len(customers)} customers" in caplog.text
    assert "Kaggle rejects a submission that misses a customer" in caplog.text


def test_date_window_and_an_empty_target_week_fails_clearly(raw):
    articles, customers = validate_articles(raw[0]), validate_customers(raw[1])
    transactions = validate_transactions(raw[2], articles, customers)
    window = select_transactions(
        transactions, customers, {**PARAMS, "start_date": "2020-08-01", "end_date": "2020-09-15"}
    )
    assert window["t_dat"].min() >= pd.Timestamp("2020-08-01")
    assert window["t_dat"].max() <= pd.Timestamp("2020-09-15")
    with pytest.raises(ValueError) as error:
        select_transactions(transactions, customers, {**PARAMS, "end_date": "2021-03-01"})
    message = str(error.value)
    assert "transactions_train.csv" in message and "target (test) week" in message
    assert "2021-02-23 to 2021-03-01" in message and "end_date" in message


def test_one_node_validates_all_three_files_before_anything_is_written(raw):
    articles, customers, transactions = validate_raw_inputs(*raw)
    assert len(articles) == len(raw[0]) and len(customers) == len(raw[1])
    assert len(transactions) == len(raw[2])
    with pytest.raises(ValueError, match=r"transactions_train\.csv lacks"):
        validate_raw_inputs(raw[0], raw[1], raw[2].drop(columns="sales_channel_id"))


def test_catalog_writes_transaction_dates_as_kaggle_does(tmp_path, raw):
    entry = yaml.safe_load(
        (BLUEPRINT / "conf" / "base" / "catalog_data_generation.yml").read_text()
    )["raw_transactions"]
    entry["filepath"] = str(tmp_path / "transactions_train.csv")
    frame = raw[2].head(3).assign(t_dat=pd.to_datetime(raw[2]["t_dat"].head(3)))
    DataCatalog.from_config({"raw_transactions": entry}).save("raw_transactions", frame)
    lines = (tmp_path / "transactions_train.csv").read_text().splitlines()
    assert lines[1].startswith(f"{frame['t_dat'].iloc[0]:%Y-%m-%d},")
    assert len(lines[1].split(",")[0]) == 10
