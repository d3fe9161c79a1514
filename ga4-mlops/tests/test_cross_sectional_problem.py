"""Training and scoring on a table without dates (lead scoring), with configuration only."""

import numpy as np
import pandas as pd
import yaml

from tests.kedro_cli import copy_project, latest_version, run_kedro


def make_leads(n_leads: int = 5000, seed: int = 4) -> pd.DataFrame:
    """One row per lead, no date column; leads not yet decided have an empty target."""
    rng = np.random.default_rng(seed)
    visits = rng.poisson(3.0, n_leads).astype(float)
    company_size = rng.lognormal(3.0, 1.0, n_leads)
    source = rng.choice(["ads", "referral", "organic", None], n_leads, p=[0.4, 0.2, 0.35, 0.05])
    # Thresholds and an interaction: a tree model has something to find over the baseline.
    logit = -2.5 + 2.0 * (visits >= 4) * (company_size > 15) + 1.5 * (source == "referral")
    logit -= 1.0 * (visits == 0)
    converted = (rng.random(n_leads) < 1 / (1 + np.exp(-logit))).astype(float)
    converted[rng.random(n_leads) < 0.1] = np.nan  # still open: the scoring set
    return pd.DataFrame(
        {
            "lead_id": [f"lead-{i:05d}" for i in range(n_leads)],
            "visits": visits,
            "company_size": company_size,
            "source": source,
            "industry": rng.choice([f"i{k}" for k in range(6)], n_leads),
            "converted": converted,
        }
    )


def test_a_table_without_dates_trains_and_scores_by_configuration(tmp_path):
    project = copy_project(tmp_path / "leads-project")
    leads = make_leads()
    leads.to_parquet(project / "data" / "05_model_input" / "leads.parquet")
    conf = project / "conf" / "leads"
    conf.mkdir()
    (conf / "catalog.yml").write_text(
        yaml.safe_dump(
            {
                "model_input_table": {
                    "type": "pandas.ParquetDataset",
                    "filepath": "data/05_model_input/leads.parquet",
                }
            }
        )
    )
    model_input = {
        "columns": {
            "id": ["lead_id"],
            "date": None,
            "target": "converted",
            "numeric": ["visits", "company_size"],
            "categorical": ["source", "industry"],
        },
        "splits": {
            "by": "id_hash",
            "fractions": {"train": 0.6, "validation": 0.1, "calibration": 0.1, "test": 0.2},
            "seed": 42,
        },
    }
    (conf / "parameters_model_input.yml").write_text(yaml.safe_dump({"model_input": model_input}))
    params = "model_training.model.optuna.n_trials=3,model_explanation.max_rows=300"
    run_kedro(project, "run", "--env=leads", "--pipelines=training", "--params", params)
    run_kedro(project, "run", "--env=leads", "--pipelines=scoring")

    data = project / "data"
    test_set = pd.read_parquet(data / "05_model_input" / "test_set.parquet")
    assert abs(len(test_set) / leads["converted"].notna().sum() - 0.2) < 0.03
    metrics = pd.read_csv(latest_version(data / "08_reporting" / "evaluation_metrics.csv"))
    assert metrics.set_index("model").loc["model_calibrated", "roc_auc"] > 0.7
    scores = pd.read_parquet(latest_version(data / "07_model_output" / "batch_scores.parquet"))
    open_leads = leads.loc[leads["converted"].isna(), "lead_id"]
    assert sorted(scores["lead_id"]) == sorted(open_leads)
    assert scores["calibrated_probability"].between(0, 1).all()
