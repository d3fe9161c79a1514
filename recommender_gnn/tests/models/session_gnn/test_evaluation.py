"""Training's validation score (early stopping; the gate and the blend use the same function)
is the evaluation report's score: one definition of OTTO's metric, checked on the cases where
two implementations would part (over 20 labels, ranks past 20, sessions without predictions)."""

import numpy as np
import pandas as pd
import pytest

from recommender_gnn.models.session_gnn.evaluation import otto_scores, predictions_frame
from recommender_gnn.pipelines.model_evaluation.nodes import evaluate_models


def test_validation_scores_equal_the_evaluation_report():
    rng = np.random.default_rng(7)
    n_sessions, n_items, k = 60, 80, 25  # k > 20: ranks 21-25 must not count
    sessions = np.arange(n_sessions)
    items = np.stack([np.stack([rng.permutation(n_items)[:k] for _ in range(3)]) for _ in sessions])
    scores = -np.broadcast_to(np.arange(k, dtype=float), items.shape)
    predicted = predictions_frame(sessions[:50], items[:50], scores[:50])  # 10 go unanswered
    labels = pd.concat(
        [
            pd.DataFrame({"session": sessions, "event_type": "clicks", "item": items[:, 0, 3]}),
            pd.DataFrame(  # 30 carts per session: the denominator is capped at 20
                {
                    "session": np.repeat(sessions[::3], 30),
                    "event_type": "carts",
                    "item": np.concatenate([rng.permutation(n_items)[:30] for _ in sessions[::3]]),
                }
            ),
            pd.DataFrame(
                {"session": sessions[::4], "event_type": "orders", "item": items[::4, 2, 22]}
            ),
        ],
        ignore_index=True,
    )
    validation = otto_scores(predicted, labels)
    report = evaluate_models(
        labels, pd.DataFrame({"session": sessions}), gnn=predicted[predicted["rank"] <= 20]
    )[0].iloc[0]
    for event_type in ("clicks", "carts", "orders"):
        assert validation[event_type] == pytest.approx(report[f"recall_{event_type}"])
    assert validation["score"] == pytest.approx(report["score"])
    # The case is not degenerate: clicks hit (rank 4) but orders never do (rank 23).
    assert validation["clicks"] == pytest.approx(50 / 60)
    assert validation["orders"] == 0.0
    assert 0 < validation["carts"] < 1
