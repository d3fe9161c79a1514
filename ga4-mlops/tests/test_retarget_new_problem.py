"""The modelling half on a non-GA4 table, with configuration only (no code change)."""

import pandas as pd
import yaml

from tests.conftest import CHURN_COLUMNS, CHURN_SPLITS, make_churn_table, registered_model
from tests.kedro_cli import copy_project, run_kedro


def test_training_and_scoring_run_on_a_churn_table_by_configuration(tmp_path):
    project = copy_project(tmp_path / "churn-project")
    make_churn_table(n_customers=2000, seed=3).to_parquet(
        project / "data" / "05_model_input" / "churn.parquet"
    )
    churn_conf = project / "conf" / "customer_churn"  # conf/churn is GA4 churn
    churn_conf.mkdir()
    (churn_conf / "catalog.yml").write_text(
        yaml.safe_dump(
            {
                "model_input_table": {
                    "type": "pandas.ParquetDataset",
                    "filepath": "data/05_model_input/churn.parquet",
                }
            }
        )
    )
    (churn_conf / "parameters_model_input.yml").write_text(
        yaml.safe_dump(
            {
                "model_input": {
                    "columns": CHURN_COLUMNS,
                    # Environments merge into conf/base key by key: the dates replace its own.
                    "splits": {"by": "date", "dates": CHURN_SPLITS},
                }
            }
        )
    )
    params = "model_training.model.optuna.n_trials=3,model_explanation.max_rows=300"
    run_kedro(project, "run", "--env=customer_churn", "--pipelines=training", "--params", params)
    run_kedro(project, "run", "--env=customer_churn", "--pipelines=scoring")

    reports = project / "data" / "08_reporting"
    metrics_folder = reports / "evaluation_metrics.csv"
    metrics = pd.read_csv(next(metrics_folder.iterdir()) / metrics_folder.name).set_index("model")
    assert metrics.loc["model_calibrated", "roc_auc"] > 0.7
    scores_folder = project / "data" / "07_model_output" / "batch_scores.parquet"
    scores = pd.read_parquet(next(scores_folder.iterdir()) / scores_folder.name)
    assert list(scores.columns[:2]) == ["customer_id", "as_of"]
    assert len(scores) == 2000
    assert set(scores["model_name"]) == {registered_model(project, "customer_churn")["name"]}
