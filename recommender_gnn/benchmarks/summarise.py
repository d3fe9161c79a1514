"""Markdown tables from benchmark.py's JSON lines (benchmarks/results.jsonl -> RESULTS.md).

    python benchmarks/summarise.py benchmarks/results.jsonl

One table per (setting, seed): every model's validation score with its 95% interval, its
difference with the strongest baseline, and the test week's score (reported only).
"""

import json
import sys
from pathlib import Path

ORDER = ["popularity", "covisitation", "transitions", "sknn", "gnn", "blend", "oracle"]


def _interval(row: dict, name: str) -> str:
    low, high = row.get(f"{name}_ci_low"), row.get(f"{name}_ci_high")
    if low is None or high is None or low != low:  # NaN: no interval (the oracle)
        return f"{row[name]:.3f}"
    return f"{row[name]:.3f} [{low:.3f}, {high:.3f}]"


def table(record: dict) -> str:
    valid = {row["model"]: row for row in record["validation"]}
    test = {row["model"]: row for row in record["test"]}
    lines = [
        f"**{record['setting']}, seed {record['seed']}** ({record['seconds'] / 60:.1f} min, "
        f"peak {record['peak_gb']:.2f} GB; submitted: {record['decision']['submitted_model']})",
        "",
        "| model | validation score [95% CI] | clicks | carts | orders "
        "| minus best baseline [95% CI] | test score [95% CI] |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for model in [m for m in ORDER if m in valid]:
        row, diff = valid[model], ""
        if row.get("score_diff") is not None and row["score_diff"] == row["score_diff"]:
            diff = (
                f"{row['score_diff']:+.3f} "
                f"[{row['score_diff_ci_low']:+.3f}, {row['score_diff_ci_high']:+.3f}]"
            )
        test_score = _interval(test[model], "score") if model in test else ""
        lines.append(
            f"| {model} | {_interval(row, 'score')} | {row['recall_clicks']:.3f} "
            f"| {row['recall_carts']:.3f} | {row['recall_orders']:.3f} | {diff} | {test_score} |"
        )
    return "\n".join(lines)


def main(path: str) -> None:
    records = [json.loads(line) for line in Path(path).read_text().splitlines() if line]
    print("\n\n".join(table(record) for record in records))


if __name__ == "__main__":
    main(sys.argv[1])
