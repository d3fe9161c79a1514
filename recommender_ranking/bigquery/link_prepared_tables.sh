#!/usr/bin/env bash
# Make the BigQuery tables the SQL reads on Vertex AI: external tables over the Parquet files
# data_preparation writes to the bucket (02_intermediate), named as the queries name them, in
# the dataset conf/gcp/globals.yml gives (gcp.bigquery_dataset). The queries then read the
# validated, sampled and windowed tables, as DuckDB does locally, not the raw Kaggle files.
# Once per project: an external table reads its file at query time, so later runs' files are
# read without re-linking.
#
#   GCP_PROJECT_ID=my-project bigquery/link_prepared_tables.sh [gs://folder-of-the-parquet-files]
#
# Default folder: gs://$GCP_PROJECT_ID-recommender_ranking/data/02_intermediate (conf/gcp's
# layer). BQ_DATASET (hm_prepared) and BQ_LOCATION (EU) override the dataset; the location must
# be the bucket's. Needs the Cloud SDK's `bq`.
set -euo pipefail

project=${GCP_PROJECT_ID:?set GCP_PROJECT_ID to the project that owns the dataset}
source=${1:-gs://$project-recommender_ranking/data/02_intermediate}
dataset=${BQ_DATASET:-hm_prepared}
location=${BQ_LOCATION:-EU}

if ! bq --project_id="$project" show --dataset "$project:$dataset" >/dev/null 2>&1; then
  bq --project_id="$project" mk --dataset --location="$location" "$project:$dataset"
fi
# table the SQL names : file data_preparation writes
for pair in transactions_train:transactions customers:customers articles:articles; do
  table=${pair%%:*}
  file=${pair##*:}
  bq --project_id="$project" rm -f -t "$project:$dataset.$table"
  bq --project_id="$project" mk \
    --external_table_definition="PARQUET=$source/$file.parquet" "$project:$dataset.$table"
done
