"""95% paired bootstrap intervals over sessions for every metric and every model.

Sessions are the unit a recommender serves, so they are resampled with replacement; every
model is scored on the same resamples (paired), which is what makes the interval of a
*difference* between two models narrower than the two intervals side by side. A gap whose
difference interval holds 0 is not a measured gap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommender_gnn.model_selection.metrics import EVENT_TYPES, TYPE_WEIGHTS

METRICS = ["recall_clicks", "mrr_clicks", "recall_carts", "recall_orders", "score"]


def _session_matrix(scores: pd.DataFrame, sessions: np.ndarray) -> np.ndarray:
    """(sessions, 7): hits and capped labels per event type, then the click's reciprocal rank."""
    position = np.searchsorted(sessions, scores["session"].to_numpy())
    matrix = np.zeros((sessions.size, 7))
    for index, event_type in enumerate(EVENT_TYPES):
        part = (scores["event_type"] == event_type).to_numpy()
        matrix[position[part], 2 * index] = scores["hits"].to_numpy()[part]
        matrix[position[part], 2 * index + 1] = scores["labels"].to_numpy()[part]
        if event_type == "clicks":
            matrix[position[part], 6] = scores["reciprocal_rank"].to_numpy()[part]
    return matrix


def _metrics(sums: np.ndarray, click_sessions: np.ndarray) -> np.ndarray:
    """Metrics (rows of METRICS) from summed columns ``[..., 7]``; 0 where nothing is labelled."""
    with np.errstate(invalid="ignore", divide="ignore"):
        recalls = [np.nan_to_num(sums[..., 2 * i] / sums[..., 2 * i + 1]) for i in range(3)]
        mrr = np.nan_to_num(sums[..., 6] / click_sessions)
    score = sum(TYPE_WEIGHTS[t] * recalls[i] for i, t in enumerate(EVENT_TYPES))
    return np.stack([recalls[0], mrr, recalls[1], recalls[2], score])


def paired_bootstrap(
    session_scores: dict[str, pd.DataFrame],
    resamples: int,
    seed: int,
    reference: str | None = None,
    confidence: float = 0.95,
    block: int = 50,
) -> pd.DataFrame:
    """One row per model: each metric, its ``_ci_low``/``_ci_high``, and with ``reference`` the
    difference to that model (``score_diff``, ``score_diff_ci_low``, ``score_diff_ci_high``).

    ``session_scores`` maps a model to ``metrics.session_scores`` rows (every model scored
    against the same labels).
    """
    sessions = np.unique(np.concatenate([s["session"].to_numpy() for s in session_scores.values()]))
    models = list(session_scores)
    stacked = np.concatenate([_session_matrix(session_scores[m], sessions) for m in models], axis=1)
    is_click = np.zeros(sessions.size)
    for scores in session_scores.values():
        clicks = scores.loc[scores["event_type"] == "clicks", "session"].to_numpy()
        is_click[np.searchsorted(sessions, clicks)] = 1.0
    rng = np.random.default_rng(seed)
    draws = []
    for start in range(0, resamples, block):
        size = min(block, resamples - start)
        counts = np.stack(
            [
                np.bincount(rng.integers(0, sessions.size, sessions.size), minlength=sessions.size)
                for _ in range(size)
            ]
        ).astype(float)
        draws.append(np.concatenate([counts @ stacked, (counts @ is_click)[:, None]], axis=1))
    sums = np.concatenate(draws)  # [resamples, 7 * models + 1]
    point = np.concatenate([stacked.sum(0), [is_click.sum()]])
    alpha = (1 - confidence) / 2
    by_model = {
        m: (
            _metrics(point[7 * i : 7 * i + 7], point[-1]),
            _metrics(sums[:, 7 * i : 7 * i + 7], sums[:, -1]),
        )
        for i, m in enumerate(models)
    }
    rows = []
    for model in models:
        value, boot = by_model[model]
        row = {"model": model}
        for index, metric in enumerate(METRICS):
            low, high = np.quantile(boot[index], [alpha, 1 - alpha])
            row.update(
                {
                    metric: float(value[index]),
                    f"{metric}_ci_low": float(low),
                    f"{metric}_ci_high": float(high),
                }
            )
        if reference is not None:
            diff = boot[METRICS.index("score")] - by_model[reference][1][METRICS.index("score")]
            low, high = np.quantile(diff, [alpha, 1 - alpha])
            row.update(
                {
                    "score_diff": float(value[-1] - by_model[reference][0][-1]),
                    "score_diff_ci_low": float(low),
                    "score_diff_ci_high": float(high),
                }
            )
        rows.append(row)
    return pd.DataFrame(rows)
