"""The category of the next purchase by configuration (conf/multiclass): the multiclass
problem type end to end through the `kedro` CLI."""

import mlflow
import numpy as np
import pandas as pd
import pytest

from tests.conftest import TINY_PARAMS
from tests.kedro_cli import BLUEPRINT, copy_project, latest_version, run_kedro

# The tiny run's quality gate is opened as TINY_PARAMS opens binary's: a small dataset cannot
# promise the real thresholds.
MULTICLASS_TINY_PARAMS = ",".join(
    [TINY_PARAMS, "model_registry.quality_gate.min_log_loss_improvement_over_baseline=-1.0"]
)


def _config(env: str, key: str) -> dict:
    from kedro.config import OmegaConfigLoader

    from ga4_mlops.settings import CONFIG_LOADER_ARGS

    return dict(OmegaConfigLoader(str(BLUEPRINT / "conf"), env=env, **CONFIG_LOADER_ARGS)[key])


def _probability_columns(role: str, classes: list[str]) -> list[str]:
    from ga4_mlops.problem_types import class_score_columns

    return class_score_columns(role, {"classes": classes})


def test_the_multiclass_environment_changes_only_the_target_and_where_results_go():
    local, multiclass = _config("local", "globals"), _config("multiclass", "globals")
    changed = {"data_root", "registered_model"}
    assert {k: v for k, v in multiclass.items() if k not in changed} == {
        k: v for k, v in local.items() if k not in changed
    }
    assert (multiclass["data_root"], multiclass["registered_model"]["name"]) == (
        "data/multiclass",
        "ga4_next_category",
    )
    parameters = _config("multiclass", "parameters")
    columns = parameters["model_input"]["columns"]
    assert (columns["problem_type"], columns["target"]) == ("multiclass", "next_purchase_category")
    assert columns["classes"][0] == "(none)" and len(set(columns["classes"])) == 11
    # the generator's taste is this environment's only; the default data stay as they were
    assert parameters["data_generation"]["session"]["category_taste"] > 0
    local_session = _config("local", "parameters")["data_generation"]["session"]
    assert local_session["category_taste"] == 0


@pytest.fixture(scope="module")
def multiclass_project(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("multiclass") / "ga4-mlops")
    run_kedro(project, "run", "--env=multiclass", "--params", MULTICLASS_TINY_PARAMS)
    return project


def test_multiclass_trains_evaluates_and_registers_class_probabilities(multiclass_project):
    data = multiclass_project / "data" / "multiclass"
    classes = _config("multiclass", "parameters")["model_input"]["columns"]["classes"]
    table = pd.read_parquet(data / "05_model_input" / "model_input_table.parquet")
    labelled = table["next_purchase_category"].dropna()
    assert set(labelled) <= set(classes) and 0.8 < (labelled == "(none)").mean() < 0.995
    metrics = pd.read_csv(latest_version(data / "08_reporting" / "evaluation_metrics.csv"))
    metrics = metrics.set_index("model")
    assert {"log_loss", "top_1_accuracy", "top_3_accuracy", "macro_ece"} <= set(metrics.columns)
    # the model learns the users' category taste from what they viewed; the baseline sees it
    # only through a one-hot top category
    assert metrics.loc["model_calibrated", "log_loss"] < metrics.loc["baseline", "log_loss"]
    oracle = pd.read_csv(latest_version(data / "08_reporting" / "oracle_benchmark.csv"))
    log_loss = oracle.set_index("model")["log_loss"]
    assert log_loss["oracle"] <= log_loss.min() + 0.01
    mlflow.set_tracking_uri(f"sqlite:///{multiclass_project / 'mlflow.db'}")
    client = mlflow.MlflowClient()
    champion = client.get_model_version_by_alias("ga4_next_category", "champion")
    assert champion.version in (1, "1")
    assert not client.search_model_versions("name='ga4_propensity'")
    served = mlflow.pyfunc.load_model("models:/ga4_next_category@champion")
    rows = pd.read_parquet(data / "05_model_input" / "scoring_set.parquet").head(20)
    predicted = served.predict(rows)
    probability_columns = [
        *_probability_columns("raw", classes),
        *_probability_columns("calibrated", classes),
    ]
    assert list(predicted.columns) == [*probability_columns, "predicted_class"]
    calibrated = predicted[_probability_columns("calibrated", classes)].to_numpy()
    np.testing.assert_allclose(calibrated.sum(axis=1), 1.0, rtol=1e-6)
    assert predicted["predicted_class"].tolist() == [classes[i] for i in calibrated.argmax(1)]


def test_multiclass_scores_every_class_and_watches_the_no_purchase_probability(
    multiclass_project,
):
    data = multiclass_project / "data" / "multiclass"
    classes = _config("multiclass", "parameters")["model_input"]["columns"]["classes"]
    scores = pd.read_parquet(latest_version(data / "07_model_output" / "batch_scores.parquet"))
    assert set(_probability_columns("calibrated", classes)) <= set(scores.columns)
    assert set(scores["predicted_class"]) <= set(classes)
    drift = pd.read_csv(latest_version(data / "08_reporting" / "drift_report.csv"))
    assert "calibrated_probability_none" in set(drift["feature"])


def test_realized_categories_of_the_test_date_equal_the_test_metrics(multiclass_project):
    """Scoring the test split's as-of date again and measuring it once its horizon is in the
    export gives back the test figures: the monitoring's realized category
    (user_activity_days.sql) is the training target (user_features.sql)."""
    splits = _config("multiclass", "parameters")["model_input"]["splits"]["dates"]
    test_date = pd.Timestamp(splits["test"][0]).strftime("%Y-%m-%d")
    run_kedro(
        multiclass_project,
        "run",
        "--env=multiclass",
        "--pipelines=weekly",
        "--params",
        f"as_of_date={test_date}",
    )
    run_kedro(multiclass_project, "run", "--env=multiclass", "--pipelines=weekly")
    reporting = multiclass_project / "data" / "multiclass" / "08_reporting"
    realized = pd.read_csv(latest_version(reporting / "realized_performance.csv"))
    row = realized.set_index("as_of_date").loc[test_date]
    test = pd.read_csv(latest_version(reporting / "evaluation_metrics.csv")).set_index("model")
    for metric in ("log_loss", "top_1_accuracy", "top_3_accuracy", "macro_ece"):
        assert row[metric] == pytest.approx(test.loc["model_calibrated", metric], rel=1e-9)
    assert row["n_buyers"] > 0
