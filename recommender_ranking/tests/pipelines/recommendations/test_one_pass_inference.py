"""Week 0 through the real kedro CLI: the queries run once and are split by chunk, and the
submission is the one a run of every query per chunk gives (the way before), chunk size aside."""

import shutil

import pandas as pd

from tests.kedro_cli import copy_project, run_kedro

PER_CHUNK_LINES = (
    "  partition_key: [week, customer_id]\n",
    "  result_directory: ${globals:data_root}/05_model_input/recommendation_sql/{query}\n",
)


def test_one_pass_inference_gives_the_per_chunk_submission(tiny_project, tmp_path):
    project = copy_project(tmp_path / "recommender_ranking")
    shutil.rmtree(project / "data")
    shutil.copytree(tiny_project / "data", project / "data")
    shutil.copy2(tiny_project / "mlflow.db", project / "mlflow.db")  # the champion
    one_chunk = pd.read_csv(project / "data" / "07_model_output" / "submission.csv", dtype=str)
    run_kedro(  # 600 customers in 4 chunks
        project,
        *("run", "--env=local", "--nodes=candidate_generation.select_customer_weeks"),
        *("--params", "candidate_generation.customers_per_chunk=150"),
    )
    chunks = sorted((project / "data" / "05_model_input" / "recommendation_customers").iterdir())
    assert len(chunks) == 4

    run_kedro(project, "run", "--env=local", "--pipelines=scoring")
    one_pass = pd.read_csv(project / "data" / "07_model_output" / "submission.csv", dtype=str)
    parts = project / "data" / "05_model_input" / "recommendation_sql"
    assert len(list((parts / "candidates_repurchase" / "parts").iterdir())) == 4
    assert (parts / "article_features" / "shared.parquet").is_file()

    catalog = project / "conf" / "local" / "catalog_sql.yml"
    text = catalog.read_text()
    assert all(line in text for line in PER_CHUNK_LINES)
    for line in PER_CHUNK_LINES:  # the catalog as before: every query runs once per chunk
        text = text.replace(line, "")
    catalog.write_text(text)
    run_kedro(project, "run", "--env=local", "--pipelines=scoring")
    per_chunk = pd.read_csv(project / "data" / "07_model_output" / "submission.csv", dtype=str)

    assert len(one_pass) == 600 and one_pass["prediction"].str.count(" ").eq(11).all()
    pd.testing.assert_frame_equal(one_pass, per_chunk)
    pd.testing.assert_frame_equal(one_pass, one_chunk)
