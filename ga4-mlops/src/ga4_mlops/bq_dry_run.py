"""``make bq-dry-run``: what the feature query would scan on BigQuery, before paying for it.

Sends the query the ``gcp`` environment would run (its SQL, default dataset and named
parameters, from the same catalog entry) with ``dry_run=True``: BigQuery validates it and
returns the bytes it would bill, for free. Needs Google credentials (``gcloud auth
application-default login`` or a service account) and ``GCP_PROJECT_ID``; without them it
says so and exits non-zero.
"""

import argparse
import sys
from pathlib import Path
from typing import Any

DATASET = "ga4_events@user_features"
NO_CREDENTIALS = (
    "bq-dry-run needs Google credentials to ask BigQuery: run `gcloud auth "
    "application-default login` (or set GOOGLE_APPLICATION_CREDENTIALS to a service "
    "account key file) and export GCP_PROJECT_ID, then retry"
)


def query_job(project_root: Path, env: str, runtime_params: dict[str, Any]) -> tuple[str, Any, str]:
    """The feature query's SQL, a dry-run job configuration and the billed project."""
    from google.cloud import bigquery
    from kedro.config import OmegaConfigLoader

    from ga4_mlops.settings import CONFIG_LOADER_ARGS

    config = OmegaConfigLoader(
        conf_source=str(project_root / "conf"),
        env=env,
        runtime_params=runtime_params,
        **CONFIG_LOADER_ARGS,
    )
    entry = config["catalog"][DATASET]
    job_config = bigquery.QueryJobConfig.from_api_repr(
        {"query": dict(entry["load_args"]["configuration"]["query"])}
    )
    job_config.dry_run = True
    job_config.use_query_cache = False
    return (project_root / entry["filepath"]).read_text(), job_config, entry["project"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="gcp")
    parser.add_argument("--anchor-date", help="as with kedro run --params anchor_date=...")
    args = parser.parse_args(argv)
    runtime_params = {"anchor_date": args.anchor_date} if args.anchor_date else {}
    try:
        sql, job_config, project = query_job(Path.cwd(), args.env, runtime_params)
    except Exception as error:  # config errors name what to set (e.g. GCP_PROJECT_ID)
        reason = str(error).strip().splitlines()[0]
        print(
            f"bq-dry-run: cannot build the query of {DATASET} from conf/{args.env}: {reason} "
            "(export GCP_PROJECT_ID, see docs/vertex-ai.md)",
            file=sys.stderr,
        )
        return 2
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError
    from google.cloud import bigquery

    try:
        credentials, _ = google.auth.default()
    except DefaultCredentialsError:
        print(NO_CREDENTIALS, file=sys.stderr)
        return 2
    job = bigquery.Client(project=project, credentials=credentials).query(
        sql, job_config=job_config
    )
    scanned = int(job.total_bytes_processed or 0)
    print(
        f"{DATASET}: BigQuery would scan {scanned:,} bytes ({scanned / 1e9:.2f} GB) "
        f"billed to project {project} (dry run, nothing was run or billed)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
