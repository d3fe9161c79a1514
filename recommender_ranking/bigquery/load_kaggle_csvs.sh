#!/usr/bin/env bash
# Load the three Kaggle CSVs into BigQuery as they are (to explore or check the raw files
# there; the pipeline's SQL reads the prepared tables instead: bigquery/link_prepared_tables.sh),
# with the explicit schemas of bigquery/schema/ (never autodetect: it reads article_id as INT64
# and drops its leading zero, t_dat could come out as a string). The schema files list the
# columns in the files' order, because a CSV load maps columns by position.
#
#   GCP_PROJECT_ID=my-project bigquery/load_kaggle_csvs.sh [gs://folder-holding-the-csvs]
#
# Default folder: gs://$GCP_PROJECT_ID-recommender_ranking/data/01_raw (conf/gcp's raw layer).
# BQ_DATASET (hm_personalized_fashion) and BQ_LOCATION (EU) override the dataset. Tables are
# replaced, so rerunning after new files is safe. Needs the Cloud SDK's `bq`.
set -euo pipefail

project=${GCP_PROJECT_ID:?set GCP_PROJECT_ID to the project that owns the dataset}
source=${1:-gs://$project-recommender_ranking/data/01_raw}
dataset=${BQ_DATASET:-hm_personalized_fashion}
location=${BQ_LOCATION:-EU}
schemas=$(cd "$(dirname "$0")/schema" && pwd)

if ! bq --project_id="$project" show --dataset "$project:$dataset" >/dev/null 2>&1; then
  bq --project_id="$project" mk --dataset --location="$location" "$project:$dataset"
fi
for table in articles customers transactions_train; do
  bq --project_id="$project" load --replace --source_format=CSV --skip_leading_rows=1 \
    --allow_quoted_newlines "$project:$dataset.$table" "$source/$table.csv" \
    "$schemas/$table.json"
done
bq --project_id="$project" query --use_legacy_sql=false \
  "SELECT COUNTIF(LENGTH(article_id) != 10) AS short_article_ids
   FROM \`$project.$dataset.transactions_train\`"
