"""The whole project through the real kedro CLI: the default run on tiny generated data, the
``end_to_end`` pipeline on tiny files in OTTO's official layout, and failed runs."""

import json

import mlflow
import numpy as np
import pandas as pd

from recommender_gnn.pipelines.data_generation.nodes import generate_otto_sessions
from recommender_gnn.pipelines.submission.nodes import build_submission, check_submission
from tests.conftest import CLOSED_GATES, TINY_PARAMS
from tests.kedro_cli import copy_project, latest_version, run_kedro
from tests.pipelines.data_generation.test_nodes import otto_params

BASELINES = ["popularity", "covisitation", "transitions", "sknn"]
MODELS = {*BASELINES, "gnn", "blend", "oracle"}


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
    assert (metrics["score_ci_low"] <= metrics["score"]).all()
    assert (metrics["score"] <= metrics["score_ci_high"]).all()
    # Choices come from validation: the strongest baseline is the best baseline there.
    validation = pd.read_csv(latest_version(data / "08_reporting" / "validation_metrics.csv"))
    report = json.loads(
        latest_version(data / "08_reporting" / "model_selection_report.json").read_text()
    )
    best = validation.set_index("model").loc[BASELINES, "score"].idxmax()
    assert report["strongest_baseline"] == best
    assert metrics.loc[best, "score_diff"] == 0.0
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
    decision = json.loads(
        latest_version(data / "08_reporting" / "submission_decision.json").read_text()
    )
    assert decision["passed"] and decision["submitted_model"] == "blend"


def test_closed_gates_refuse_the_candidate(tiny_project):
    """Margins of +1 cannot be met: the GNN is registered but not promoted, and the submission
    comes from the strongest baseline instead of the blend; with test_week_models=submitted
    only that baseline predicts the test week."""
    data = tiny_project / "data"
    closed = ",".join([TINY_PARAMS, *CLOSED_GATES, "model_selection.test_week_models=submitted"])
    run_kedro(tiny_project, "run", "--env=local", "--pipelines=model_registry", "--params", closed)
    run_kedro(
        tiny_project,
        *("run", "--env=local", "--from-nodes=model_evaluation.gate_submission"),
        *("--params", closed),
    )
    promotion = json.loads(
        latest_version(data / "08_reporting" / "promotion_decision.json").read_text()
    )
    assert not promotion["promote"]
    assert "uplift_over_best_baseline" in promotion["failed_checks"]
    mlflow.set_tracking_uri(f"sqlite:///{tiny_project / 'mlflow.db'}")
    client = mlflow.MlflowClient()
    assert client.get_model_version_by_alias("recommender_gnn", "champion").version in (1, "1")
    assert len(client.search_model_versions("name='recommender_gnn'")) == 2

    decision = json.loads(
        latest_version(data / "08_reporting" / "submission_decision.json").read_text()
    )
    strongest = decision["strongest_baseline"]
    assert not decision["passed"] and decision["submitted_model"] == strongest
    expected = build_submission(
        pd.read_parquet(
            latest_version(data / "07_model_output" / f"{strongest}_predictions.parquet")
        ),
        pd.read_parquet(latest_version(data / "06_models" / "refit_popular_items.parquet")),
        pd.read_parquet(data / "02_intermediate" / "item_map.parquet"),
        pd.read_parquet(data / "02_intermediate" / "session_map.parquet"),
    )
    submitted = pd.read_csv(latest_version(data / "07_model_output" / "submission.csv"), dtype=str)
    pd.testing.assert_frame_equal(submitted, expected.astype(str))
    for model in [*BASELINES, "gnn", "blend"]:
        predictions = pd.read_parquet(
            latest_version(data / "07_model_output" / f"{model}_predictions.parquet")
        )
        assert predictions.empty is (model != strongest), model
    metrics = pd.read_csv(latest_version(data / "08_reporting" / "evaluation_metrics.csv"))
    assert set(metrics["model"]) == {strongest, "oracle"}


def test_without_revisits_no_model_puts_a_seen_item_first(tiny_project, tmp_path):
    """The seen-item policy comes from validation: at OTTO-like revisits the session's items go
    up for carts and orders; in a log where nobody comes back to an item they stay out."""
    project = copy_project(tmp_path / "recommender_gnn")
    models = [*BASELINES, "gnn", "blend"]
    run_kedro(
        project, "run", "--env=local",
        "--to-outputs=" + ",".join(f"{model}_predictions" for model in models),
        "--params", TINY_PARAMS + ",data_generation.otto.revisit_share=0.0",
    )  # fmt: skip
    sessions = pd.read_parquet(project / "data" / "02_intermediate" / "test_sessions.parquet")
    seen = set(zip(sessions["session"], sessions["item"], strict=True))
    for model in models:
        policies = {
            name: json.loads(
                latest_version(folder / "08_reporting" / f"{model}_seen_policy.json").read_text()
            )["weights"]
            for name, folder in (("zero", project / "data"), ("otto", tiny_project / "data"))
        }
        assert policies["zero"] == dict.fromkeys(["clicks", "carts", "orders"], 0.0), model
        assert policies["otto"]["carts"] != 0.0 and policies["otto"]["orders"] != 0.0, model
        predictions = pd.read_parquet(
            latest_version(project / "data" / "07_model_output" / f"{model}_predictions.parquet")
        )
        first = predictions[predictions["rank"] == 1]
        assert not any((s, i) in seen for s, i in zip(first["session"], first["item"], strict=True))


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
        project, "run", "--env=local", "--pipelines=end_to_end", "--params", TINY_PARAMS
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
        project,
        "run",
        "--env=local",
        "--pipelines=end_to_end",
        "--params",
        TINY_PARAMS,
        check=False,
    )
    assert failed.returncode != 0
    message = " ".join(failed.stderr.split())
    assert "test.jsonl, line 3: not valid JSON" in message.replace("test. jsonl", "test.jsonl")
    assert len(list(submissions.iterdir())) == 1
    assert np.isfinite(metrics["score"]).all()
