"""Real data has no test labels and no oracle: both load empty (OptionalDataset) and the two
reports leave out the test rows and the oracle rows instead of failing."""

import pandas as pd
import pytest
from kedro.io import DataCatalog

from recommender_gnn.pipelines.banking_data.contract import PRODUCTS, VALIDATION_MONTH
from recommender_gnn.pipelines.banking_data.nodes import score_references
from recommender_gnn.pipelines.banking_models.nodes import score_banking_models
from recommender_gnn.run_hooks import MissingInputsHook

BOOTSTRAP = {"resamples": 100, "seed": 1, "confidence": 0.95}
OPTIONAL = "recommender_gnn.datasets.optional_dataset.OptionalDataset"


def _catalog(folder) -> DataCatalog:
    return DataCatalog.from_config(
        {
            "labels": {
                "type": OPTIONAL,
                "dataset": {"type": "pandas.CSVDataset", "filepath": str(folder / "labels.csv"),
                            "load_args": {"dtype": str, "keep_default_na": False}},
                "columns": {"ncodpers": "object", "added_products": "object"},
            },
            "oracle": {
                "type": OPTIONAL,
                "dataset": {"type": "pandas.ParquetDataset",
                            "filepath": str(folder / "oracle.parquet")},
                "columns": {"fecha_dato": "object", "ncodpers": "int32"},
            },
        }
    )  # fmt: skip


def test_optional_files_load_empty_when_absent_and_as_saved_when_present(tmp_path, santander):
    catalog = _catalog(tmp_path)
    labels = catalog.load("labels")
    assert labels.empty and list(labels.columns) == ["ncodpers", "added_products"]
    assert catalog.load("oracle").empty and not catalog.exists("oracle")
    assert catalog.get("labels").loads_when_missing  # MissingInputsHook leaves it alone
    catalog.save("labels", santander["test_labels"])
    assert catalog.load("labels").equals(santander["test_labels"].astype(str))
    catalog.save("oracle", santander["oracle"])
    pd.testing.assert_frame_equal(catalog.load("oracle"), santander["oracle"])


def test_missing_inputs_hook_skips_the_optional_files(tmp_path, monkeypatch):
    from kedro.framework import project
    from kedro.pipeline import Node, Pipeline

    writer = Pipeline([Node(lambda: (1, 2), None, ["labels", "oracle"], name="generate")])
    reader = Pipeline([Node(lambda a, b: None, ["labels", "oracle"], None, name="read")])
    monkeypatch.setattr(project, "pipelines", {"gen": writer, "use": reader})
    MissingInputsHook().before_pipeline_run(pipeline=reader, catalog=_catalog(tmp_path))


def test_reports_without_labels_or_oracle(santander, params):
    train, test = santander["train"], santander["test"]
    no_labels = santander["test_labels"].iloc[:0]
    no_oracle = santander["oracle"].iloc[:0]
    references = score_references(train, test, no_labels, no_oracle, {"k": 7})
    assert references[["split", "model"]].to_numpy().tolist() == [["validation", "popularity"]]
    with_oracle = score_references(train, test, no_labels, santander["oracle"], {"k": 7})
    assert with_oracle["model"].tolist() == ["oracle", "popularity"]
    assert set(with_oracle["split"]) == {"validation"}

    valid = pd.DataFrame({"customer": train.loc[train["month"] == VALIDATION_MONTH, "customer"],
                          "product": PRODUCTS[2], "rank": 1})  # fmt: skip
    nothing = valid.iloc[:0]
    scores = score_banking_models(train, test, no_labels, no_oracle, valid, nothing, valid,
                                  nothing, valid, nothing, params, BOOTSTRAP)  # fmt: skip
    assert scores[["split", "model"]].to_numpy().tolist() == [
        ["validation", "popularity"], ["validation", "lightgbm"], ["validation", "gnn"],
        ["validation", "blend"],
    ]  # fmt: skip
    assert (scores["map_all"] > 0).all()
    with pytest.raises(KeyError):
        scores.set_index("split").loc["test"]
