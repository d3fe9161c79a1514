"""The whole project through the real kedro CLI: the default run on tiny generated data, the
``end_to_end`` pipeline on tiny files in OTTO's official layout, and failed runs."""

import json

import mlflow
import numpy as np
import pandas as pd

from recommender_gnn.pipelines.data_generation.nodes import generate_otto_sessions
from recommender_gnn.pipelines.submission.nodes import check_submission
from tests.conftest import TINY_PARAMS, copy_project, latest_version, run_kedro
from tests.pipelines.data_generation.test_nodes import otto_params

MODELS = {"popularity", "covisitation", "gnn", "blend", "oracle"}


def test_default_run_writes_every_stage(tiny_project):
    data = tiny_project / "data"
    first_line = json.loads((data / "01_raw" / "train.jsonl").read_text().splitlines()[0])
    assert set(first_line) == {"session", "events"}
    assert set(first_line["events"][0]) == {"aid", "ts", "type"}
    assert (data / "01_raw" / "test_labels.jsonl").exists()
    assert (data / "01_raw" / "hm" / "transactions_train.csv").exists()
    assert len(pd.read_parquet(data / "01_raw" / "parquet" / "train.parquet")) > 1000

    metrics = pd.read_csv(latest_version(data / "08_reporting" / "evaluation_metrics.csv"))
    metrics = metrics.set_index("model")
    assert set(metrics.index) == MODELS
    assert metrics["mrr_clicks"].idxmax() == "oracle"  # the exact next-click distribution
    assert metrics.loc["covisitation", "score"] > metrics.loc["popularity", "score"] + 0.2
    by_length = pd.read_csv(
        latest_version(data / "08_reporting" / "evaluation_by_session_length.csv")
    )
    assert set(by_length["length"].astype(str)) == {"1", "2-4", "5+"}

    submission = pd.read_csv(latest_version(data / "07_model_output" / "submission.csv"), dtype=str)
    session_map = pd.read_parquet(data / "02_intermediate" / "session_map.parquet")
    check_submission(submission, session_map)
    test_sessions = {
        json.loads(line)["session"]
        for line in (data / "01_raw" / "test.jsonl").read_text().splitlines()
    }
    assert {int(s.split("_")[0]) for s in submission["session_type"]} == test_sessions
    raw_aids = set(pd.read_parquet(data / "01_raw" / "parquet" / "train.parquet")["aid"])
    submitted = {int(aid) for labels in submission["labels"] for aid in labels.split()}
    assert submitted <= raw_aids | set(
        pd.read_parquet(data / "01_raw" / "parquet" / "test.parquet")["aid"]
    )

    mlflow.set_tracking_uri(f"sqlite:///{tiny_project / 'mlflow.db'}")
    client = mlflow.MlflowClient()
    runs = mlflow.search_runs(experiment_names=["recommender_gnn"], output_format="list")
    assert len(runs) == 1
    assert runs[0].data.metrics["test.covisitation.score"] == metrics.loc["covisitation", "score"]
    artifacts = {item.path for item in client.list_artifacts(runs[0].info.run_id, "evaluation")}
    assert "evaluation/evaluation_plot.png" in artifacts
    champion = client.get_model_version_by_alias("recommender_gnn", "champion")
    assert champion.version in (1, "1")


def test_a_failed_run_names_the_problem_and_keeps_earlier_outputs(tiny_project):
    data = tiny_project / "data"
    reports = data / "08_reporting" / "evaluation_metrics.csv"
    submissions = data / "07_model_output" / "submission.csv"
    before = sorted(reports.iterdir()), sorted(submissions.iterdir())
    train_file = (data / "01_raw" / "train.jsonl").read_bytes()
    failed = run_kedro(
        tiny_project,
        "run",
        "--env=local",
        "--params",
        TINY_PARAMS + ",data_generation.otto.test_days=40",
        check=False,
    )
    assert failed.returncode != 0
    assert "data_generation.test_days (40) must be smaller" in " ".join(failed.stderr.split())
    assert (sorted(reports.iterdir()), sorted(submissions.iterdir())) == before
    assert (data / "01_raw" / "train.jsonl").read_bytes() == train_file


def write_official_jsonl(path, events: pd.DataFrame) -> None:
    """OTTO's own formatting (spaces after separators), events grouped per session line."""
    names = ["clicks", "carts", "orders"]
    with path.open("w") as out:
        for session, group in events.groupby("session"):
            record = {
                "session": int(session),
                "events": [
                    {"aid": int(aid), "ts": int(ts) * 1000, "type": names[int(kind)]}
                    for aid, ts, kind in zip(group["aid"], group["ts"], group["type"], strict=True)
                ],
            }
            out.write(json.dumps(record) + "\n")


def test_end_to_end_on_files_in_the_official_layout(tmp_path):
    project = copy_project(tmp_path / "recommender_gnn")
    raw = project / "data" / "01_raw"
    chunks = list(generate_otto_sessions(otto_params(n_sessions=2500, n_items=300), seed=3))
    train, test, labels = (
        pd.concat(parts, ignore_index=True) for parts in list(zip(*chunks, strict=False))[:3]
    )
    # Real files are imperfect: one session's events out of time order, one empty session.
    sizes = train.groupby("session")["session"].transform("size")
    first = train["session"] == train.loc[sizes >= 3, "session"].iloc[0]
    train.loc[first, "ts"] = train.loc[first, "ts"].to_numpy()[::-1]
    write_official_jsonl(raw / "train.jsonl", train)
    with (raw / "train.jsonl").open("a") as out:
        out.write('{"session": 999999, "events": []}\n')
    write_official_jsonl(raw / "test.jsonl", test)
    with (raw / "test_labels.jsonl").open("w") as out:
        for session, group in labels.groupby("session"):
            by_type = {
                t: group.loc[group["event_type"] == t, "aid"].tolist() for t in ("carts", "orders")
            }
            clicks = group.loc[group["event_type"] == "clicks", "aid"].tolist()
            record = {"clicks": clicks[0]} if clicks else {}
            record.update({t: aids for t, aids in by_type.items() if aids})
            out.write(json.dumps({"session": int(session), "labels": record}) + "\n")

    done = run_kedro(
        project, "run", "--env=local", "--pipeline=end_to_end", "--params", TINY_PARAMS
    )
    log = " ".join((done.stdout + done.stderr).split())
    assert "1 of" in log and "sessions have no events and were skipped" in log
    assert "are out of time order: sorted by ts" in log
    metrics = pd.read_csv(
        latest_version(project / "data" / "08_reporting" / "evaluation_metrics.csv")
    )
    assert set(metrics["model"]) == MODELS - {"oracle"}  # real data has no oracle
    submissions = project / "data" / "07_model_output" / "submission.csv"
    submission = pd.read_csv(latest_version(submissions), dtype=str)
    assert len(submission) == 3 * test["session"].nunique()
    assert not (raw / "oracle_next_items.parquet").exists()

    # A malformed line stops the next run, names file and line, and keeps the submission.
    lines = (raw / "test.jsonl").read_text().splitlines()
    lines[2] = lines[2][:-5]
    (raw / "test.jsonl").write_text("\n".join(lines) + "\n")
    failed = run_kedro(
        project, "run", "--env=local", "--pipeline=end_to_end", "--params", TINY_PARAMS, check=False
    )
    assert failed.returncode != 0
    message = " ".join(failed.stderr.split())
    assert "test.jsonl, line 3: not valid JSON" in message.replace("test. jsonl", "test.jsonl")
    assert len(list(submissions.iterdir())) == 1
    assert np.isfinite(metrics["score"]).all()
