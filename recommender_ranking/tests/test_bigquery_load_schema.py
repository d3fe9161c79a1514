"""The BigQuery load schemas match the data contract (names, file order, types) and the schema
the SQL is checked against, so a load never autodetects ``article_id`` as INT64."""

import json
import re

import pytest
import yaml

from recommender_ranking.pipelines.data_preparation.contract import (
    ARTICLES,
    CUSTOMERS,
    FILES,
    TRANSACTIONS,
)
from tests.kedro_cli import BLUEPRINT

CONTRACTS = {"articles": ARTICLES, "customers": CUSTOMERS, "transactions": TRANSACTIONS}
# what the contract says a column holds (start of its description) -> BigQuery type
KINDS = {
    "10-digit string": "STRING",
    "64-character hexadecimal string": "STRING",
    "text": "STRING",
    "integer": "INT64",
    "number": "FLOAT64",
    "1.0 or empty": "FLOAT64",
    "date": "DATE",
}


def bigquery_type(expectation: str) -> str:
    matches = [kind for kind in KINDS if expectation.startswith(kind)]
    assert len(matches) == 1, f"no single BigQuery type for the contract's {expectation!r}"
    return KINDS[matches[0]]


def load_schema(table: str) -> list[dict]:
    return json.loads((BLUEPRINT / "bigquery" / "schema" / f"{table}.json").read_text())


@pytest.mark.parametrize("dataset", sorted(CONTRACTS))
def test_schema_names_every_contract_column_in_file_order_with_its_type(dataset):
    table = FILES[dataset].removesuffix(".csv")
    fields = load_schema(table)
    contract = CONTRACTS[dataset]
    assert [field["name"] for field in fields] == list(contract)  # a CSV load is positional
    for field in fields:
        expected = bigquery_type(contract[field["name"]])
        assert field["type"] == expected, f"{table}.{field['name']}: {field['type']}"
    sql_schema = json.loads((BLUEPRINT / "zetasql" / "hm_bigquery_schema.json").read_text())
    assert {f["name"]: f["type"] for f in fields} == sql_schema[table]


def test_ids_and_dates_are_typed_explicitly():
    types = {t: {f["name"]: f["type"] for f in load_schema(t)} for t in ("articles", "customers")}
    transactions = {f["name"]: f for f in load_schema("transactions_train")}
    assert types["articles"]["article_id"] == "STRING"
    assert types["customers"]["customer_id"] == "STRING"
    assert transactions["article_id"]["type"] == "STRING"
    assert transactions["t_dat"]["type"] == "DATE"
    assert {transactions[c]["mode"] for c in ("t_dat", "customer_id", "article_id")} == {"REQUIRED"}


def test_the_script_loads_each_file_with_its_schema_into_the_queried_dataset():
    script = (BLUEPRINT / "bigquery" / "load_kaggle_csvs.sh").read_text()
    assert "for table in articles customers transactions_train; do" in script
    assert '"$schemas/$table.json"' in script and "--skip_leading_rows=1" in script
    assert re.search(r"BQ_DATASET:-hm_personalized_fashion\}", script)


def test_the_sql_reads_the_prepared_tables_the_link_script_makes():
    """On BigQuery the queries read external tables over data_preparation's Parquet files (the
    validated, sampled, windowed tables DuckDB reads locally), not the raw Kaggle load."""
    script = (BLUEPRINT / "bigquery" / "link_prepared_tables.sh").read_text()
    globals_ = yaml.safe_load((BLUEPRINT / "conf" / "gcp" / "globals.yml").read_text())
    dataset = globals_["gcp"]["bigquery_dataset"]
    assert re.search(rf"BQ_DATASET:-{dataset}\}}", script) and dataset != "hm_personalized_fashion"
    sql_catalog = yaml.safe_load((BLUEPRINT / "conf" / "gcp" / "catalog_sql.yml").read_text())
    job = sql_catalog["_bigquery_job"]["query"]["defaultDataset"]["datasetId"]
    assert job == "${globals:gcp.bigquery_dataset}"
    (pairs,) = re.findall(r"for pair in ([^;]+); do", script)
    linked = dict(pair.split(":") for pair in pairs.split())
    sql_schema = json.loads((BLUEPRINT / "zetasql" / "hm_bigquery_schema.json").read_text())
    assert set(linked) == {"transactions_train", "customers", "articles"} <= set(sql_schema)
    prepared = (BLUEPRINT / "conf" / "base" / "catalog_data_preparation.yml").read_text()
    for file in linked.values():
        assert f"${{globals:data_root}}/02_intermediate/{file}.parquet" in prepared, file
