"""docs/new-blueprint.md's "Copy for a table of your own", run as written on a fresh copy.

make new-blueprint copies ga4-mlops; the guide's drop list removes the GA4 demo pieces, the
registry is rewired as the guide says, a conf environment points ``model_input_table`` at a
churn table (the guide's worked example), and ``training`` then ``scoring`` run through the
``kedro`` CLI with ga4-mlops' .venv (no new install). A drop the guide lists that breaks the
copy, or a piece it forgets, fails here. Run by make new-blueprint-test (after the install).
"""

import contextlib
import io
import re
import shutil
import tempfile
import unittest
from pathlib import Path

import new_blueprint
from test_new_blueprint import FROM, ROOT, monorepo, run_in_copy, source_bin

NAME = "table-ml"
GUIDE = ROOT / "docs" / "new-blueprint.md"
SECTION = "## Copy for a table of your own"
# The folder pipelines the guide drops (data_generation, oracle_benchmark, feature_extraction
# from its table; inference and performance_monitoring: "the inference and
# performance_monitoring pipelines").
DROPPED_PIPELINES = (
    "data_generation",
    "oracle_benchmark",
    "feature_extraction",
    "inference",
    "performance_monitoring",
)

TABLE_ENV = {
    "catalog.yml": """model_input_table:
  type: pandas.ParquetDataset
  filepath: data/05_model_input/churn.parquet
""",
    "parameters_model_input.yml": """model_input:
  columns:
    id: [customer_id, as_of]
    date: as_of
    target: churned
    other_targets: []
    numeric: [tenure_months, support_tickets]
    categorical: [plan, region]
  splits:
    by: date
    dates:
      train: ["2024-01-07", "2024-01-14"]
      validation: ["2024-01-21"]
      calibration: ["2024-01-28"]
      test: ["2024-02-04"]
      scoring: ["2024-02-11"]
    label_horizon_days: 7
""",
    # A tiny table cannot promise the real thresholds (as the blueprint's own tests open it).
    "parameters_small.yml": """model_training:
  model:
    optuna: {n_trials: 2}
model_explanation:
  max_rows: 200
model_registry:
  quality_gate:
    min_roc_auc: 0.0
    max_ece_over_base_rate: 100.0
    min_roc_auc_uplift_over_baseline: -1.0
""",
}

WRITE_TABLE = """
from tests.conftest import make_churn_table
make_churn_table(n_customers=1500, seed=3).to_parquet("data/05_model_input/churn.parquet")
"""


def drop_list(package: str) -> list[str]:
    """The paths of the guide's drop table (its first column), ``<package>`` filled in."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    table = section[section.index("| drop |") : section.index("\n\n", section.index("| drop |"))]
    paths = []
    for row in table.splitlines()[2:]:
        first_cell = row.split("|")[1]
        for path in re.findall(r"`([^`]+)`", first_cell):
            paths += expand_braces(path.replace("<package>", package))
    return paths


def expand_braces(pattern: str) -> list[str]:
    """``a/{b,c}/`` -> ``a/b/``, ``a/c/`` (the guide's shell-style shorthand)."""
    found = re.search(r"\{([^{}]*)\}", pattern)
    if not found:
        return [pattern]
    return [
        expanded
        for option in found.group(1).split(",")
        for expanded in expand_braces(pattern[: found.start()] + option + pattern[found.end() :])
    ]


def rewire_registry(registry: Path, package: str) -> None:
    """The guide's step 3: dropped folders out, end_to_end = training + scoring, __default__ =
    end_to_end."""
    text = registry.read_text(encoding="utf-8")
    for folder in DROPPED_PIPELINES:
        text = re.sub(rf'^    "{folder}",\n', "", text, flags=re.MULTILINE)
    text = re.sub(
        r'    end_to_end = pipelines\["feature_extraction"\] \+ training \+ scoring\n',
        "    end_to_end = training + scoring\n",
        text,
    )
    text = re.sub(r"    # Every week:.*\n    weekly = .*\n", "", text)
    text = text.replace('        "weekly": weekly,\n', "")
    text = re.sub(
        r'        "__default__": \(\n.*?\n        \),\n',
        '        "__default__": end_to_end,\n',
        text,
        flags=re.DOTALL,
    )
    registry.write_text(text, encoding="utf-8")


class CopyGuideTest(unittest.TestCase):
    def test_the_drop_list_and_a_table_of_your_own_train_and_score(self):
        bin_dir = source_bin(self)
        with tempfile.TemporaryDirectory() as folder:
            root = monorepo(Path(folder))
            with contextlib.redirect_stdout(io.StringIO()):
                new_blueprint.create(root, NAME, FROM)
            copy, package = root / NAME, NAME.replace("-", "_")
            dropped = drop_list(package)
            self.assertIn(f"src/{package}/pipelines/data_generation/", dropped)
            for pattern in dropped:
                if " " in pattern or pattern.startswith(("ga4_events", "kit/")):
                    continue  # prose in the table, not a path of the copy (conf/local/catalog.yml,
                    # where the ga4_events@... entries are, holds only them: it goes whole)
                if pattern in DROPPED_PIPELINES:
                    pattern = f"src/{package}/pipelines/{pattern}/"
                matches = [
                    *copy.glob(pattern.rstrip("/")),
                    *copy.glob(f"src/{package}/{pattern}"),
                ]
                self.assertTrue(matches, f"the guide drops {pattern}: nothing in the copy")
                for match in matches:
                    shutil.rmtree(match) if match.is_dir() else match.unlink()
            for folder_pipeline in DROPPED_PIPELINES:
                pipeline_folder = copy / "src" / package / "pipelines" / folder_pipeline
                shutil.rmtree(pipeline_folder, ignore_errors=True)
            rewire_registry(copy / "src" / package / "pipeline_registry.py", package)
            table_env = copy / "conf" / "table"
            table_env.mkdir()
            for name, text in TABLE_ENV.items():
                (table_env / name).write_text(text, encoding="utf-8")

            def run(*command: str) -> str:
                done = run_in_copy(self, copy, [copy / "src", copy], *command)
                return done.stdout + done.stderr

            run(str(bin_dir / "python"), "-c", WRITE_TABLE)
            listed = run(str(bin_dir / "kedro"), "registry", "list")
            self.assertNotIn("data_generation", listed)
            for pipeline in ("training", "scoring"):
                run(str(bin_dir / "kedro"), "run", "--env=table", f"--pipelines={pipeline}")
            scores = list((copy / "data" / "07_model_output" / "batch_scores.parquet").rglob("*"))
            self.assertTrue([path for path in scores if path.is_file()], "no batch scores")


if __name__ == "__main__":
    unittest.main()
