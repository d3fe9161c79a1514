"""Swap the model in an environment only: base keeps LightGBM, the environment trains another.

An environment's parameters merge into base key by key (settings.py); each model kind keeps
its settings under its own key, so none of base's LightGBM settings reach the other model.
"""

import pickle

import mlflow
import pandas as pd
import yaml

from ga4_mlops.pipelines.model_training.estimator import kind_settings, make_classifier
from tests.conftest import (
    CHURN_COLUMNS,
    CHURN_SPLITS,
    make_churn_table,
    model_params,
    registered_model,
)
from tests.kedro_cli import copy_project, latest_version, run_kedro

ENV = "boosted"
OTHER_KIND = "hist_gradient_boosting"
PARAMS = ",".join(
    [
        "model_training.model.optuna.n_trials=3",
        "model_explanation.max_rows=200",
        "model_registry.quality_gate.min_roc_auc=0.0",
        "model_registry.quality_gate.max_ece_over_base_rate=100.0",
        "model_registry.quality_gate.min_roc_auc_uplift_over_baseline=-1.0",
    ]
)


def _write_environment(project):
    make_churn_table(n_customers=1500, seed=5).to_parquet(
        project / "data" / "05_model_input" / "churn.parquet"
    )
    conf = project / "conf" / ENV
    conf.mkdir()
    table = {"type": "pandas.ParquetDataset", "filepath": "data/05_model_input/churn.parquet"}
    (conf / "catalog.yml").write_text(yaml.safe_dump({"model_input_table": table}))
    model_input = {"columns": CHURN_COLUMNS, "splits": {"by": "date", "dates": CHURN_SPLITS}}
    (conf / "parameters_model_input.yml").write_text(yaml.safe_dump({"model_input": model_input}))
    # The swap: the kind, and that kind's own settings (merged into its base entry only).
    model = {"kind": OTHER_KIND, "kinds": {OTHER_KIND: {"fixed": {"max_iter": 300}}}}
    (conf / "parameters_model_training.yml").write_text(
        yaml.safe_dump({"model_training": {"model": model}})
    )


def test_an_environment_swaps_the_model_and_base_keeps_lightgbm(tmp_path):
    project = copy_project(tmp_path / "swap-project")
    _write_environment(project)

    # configuration: the environment builds the other kind from its own settings only
    base, swapped = model_params(project), model_params(project, ENV)
    assert base["kind"] == "lightgbm"
    assert type(make_classifier("lightgbm", kind_settings(base)["fixed"])).__name__ == (
        "LGBMClassifier"
    )
    assert swapped["kind"] == OTHER_KIND
    assert swapped["kinds"]["lightgbm"] == base["kinds"]["lightgbm"]  # untouched, unused
    fixed = kind_settings(swapped)["fixed"]
    assert fixed == {**base["kinds"][OTHER_KIND]["fixed"], "max_iter": 300}

    run_kedro(project, "run", f"--env={ENV}", "--pipelines=training", "--params", PARAMS)
    run_kedro(project, "run", f"--env={ENV}", "--pipelines=scoring")

    models = project / "data" / "06_models"
    model = pickle.loads(latest_version(models / "model.pkl").read_bytes())
    assert type(model).__name__ == "HistGradientBoostingClassifier"
    assert model.get_params()["categorical_features"] == CHURN_COLUMNS["categorical"]
    tuned = yaml.safe_load(latest_version(models / "tuned_hyperparameters.json").read_text())
    assert not set(tuned) & {"objective", "num_leaves", "n_estimators", "subsample_freq"}
    assert 1 <= tuned["max_iter"] <= 300

    # the registered model (calibrated, explained, scored) wraps the same kind
    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlflow.db'}")
    name = registered_model(project, ENV)["name"]
    loaded = mlflow.pyfunc.load_model(f"models:/{name}/1")
    assert type(loaded.unwrap_python_model().classifier).__name__ == (
        "HistGradientBoostingClassifier"
    )
    reports = project / "data" / "08_reporting"
    metrics = pd.read_csv(latest_version(reports / "evaluation_metrics.csv")).set_index("model")
    assert metrics.loc["model_calibrated", "roc_auc"] > 0.7
    assert len(pd.read_csv(latest_version(reports / "shap_importance.csv"))) == 5
    scores = pd.read_parquet(
        latest_version(project / "data" / "07_model_output" / "batch_scores.parquet")
    )
    assert scores["calibrated_probability"].between(0, 1).all()
