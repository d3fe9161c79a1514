"""Exit status for a scheduler: 0 when the latest retraining decision says retrain, else 1.

The decision (``retraining_decision``, written by the performance_monitoring pipeline) is
read through the project's Data Catalog, so the same command reads ``data/08_reporting``
locally and the bucket on GCP. Used by ``make weekly`` and by the job that follows the
weekly Vertex AI run (docs/vertex-ai.md):

    python -m ga4_mlops.retraining_gate --env local && kedro run --pipelines=end_to_end
"""

import argparse
import json
import sys
from pathlib import Path

from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

RETRAIN, KEEP = 0, 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="local", help="Kedro environment (local, gcp)")
    parser.add_argument("--project", default=".", help="the project folder")
    args = parser.parse_args(argv)
    project = Path(args.project).resolve()
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env=args.env) as session:
        decision = session.load_context().catalog.load("retraining_decision")
    print(json.dumps(decision, indent=2))
    return RETRAIN if decision["retrain"] else KEEP


if __name__ == "__main__":
    sys.exit(main())
