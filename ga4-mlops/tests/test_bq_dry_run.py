"""`make bq-dry-run`: the gcp feature query as a BigQuery dry run, or a clear refusal."""

import os
import subprocess
import sys

from ga4_mlops.bq_dry_run import query_job
from tests.kedro_cli import BLUEPRINT


def test_the_dry_run_sends_the_catalogs_query_with_its_parameters(monkeypatch):
    monkeypatch.setenv("GCP_PROJECT_ID", "my-billing-project")
    sql, job_config, project = query_job(BLUEPRINT, "gcp", {"anchor_date": "2021-01-24"})
    assert project == "my-billing-project"
    assert job_config.dry_run is True and job_config.use_query_cache is False
    assert job_config.default_dataset.dataset_id == "ga4_obfuscated_sample_ecommerce"
    parameters = {parameter.name: parameter for parameter in job_config.query_parameters}
    assert parameters["snapshot_dates"].values[-2:] == ["2021-01-24", "2021-01-31"]
    assert "FROM `events_*`" in sql


def run_dry_run(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-W", "ignore", "-m", "ga4_mlops.bq_dry_run"],
        cwd=BLUEPRINT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_without_credentials_it_says_so_and_fails(tmp_path):
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GOOGLE_", "CLOUDSDK_", "GCP_"))
    }
    # No key file, no gcloud login in HOME, no metadata server to ask.
    env = {**base, "HOME": str(tmp_path), "NO_GCE_CHECK": "True", "GCP_PROJECT_ID": "p"}
    completed = run_dry_run(env)
    assert completed.returncode != 0
    assert "bq-dry-run needs Google credentials" in completed.stderr
    assert "gcloud auth application-default login" in completed.stderr
    del env["GCP_PROJECT_ID"]
    completed = run_dry_run(env)
    assert completed.returncode != 0
    assert "No Google Cloud project" in " ".join(completed.stderr.split())
