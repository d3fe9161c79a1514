"""The model-side pipelines fit together and need only the data side's outputs."""

import pandas as pd
import pytest

from recommender_ranking.pipelines import (
    candidate_generation,
    feature_engineering,
    model_evaluation,
    model_registry,
    model_training,
    recommendations,
)
from recommender_ranking.pipelines.recommendations.nodes import recommend

DATA_SIDE = {
    "transactions@pandas",
    "transactions@days_customers",
    "transactions@days_articles",
    "customers",
    "articles",
    "article_image_embeddings",
    "article_text_embeddings",
    "oracle_recommendations",
}


def test_training_needs_only_data_side_outputs_queries_parameters_and_the_champion():
    training = (
        candidate_generation.create_pipeline()
        + feature_engineering.create_pipeline()
        + model_training.create_pipeline()
        + model_evaluation.create_pipeline()
        + model_registry.create_pipeline()
    )
    free = {name for name in training.inputs() if not name.startswith("params:")}
    queries = {name for name in free if name.startswith("sql_")}
    assert free - queries == DATA_SIDE | {"current_champion"}
    assert "recommendation_customers" in training.outputs()
    assert "champion_model" in training.outputs()
    # every query reads files data_preparation writes: each node loading one must run after
    # data_preparation, i.e. depend (transitively) on `transactions`
    after_transactions = {node.name for node in training.from_inputs("transactions").nodes}
    readers = [n.name for n in training.nodes if any(i.startswith("sql_") for i in n.inputs)]
    assert len(readers) == 10  # calendar, customers, labels, 6 sources, the feature join
    assert set(readers) <= after_transactions


def test_inference_runs_alone_on_persisted_inputs_and_the_champion():
    inference = recommendations.create_pipeline()
    free = {name for name in inference.inputs() if not name.startswith("params:")}
    queries = {name for name in free if name.startswith("recommendation_sql_")}
    narrow = {"transactions@days_customers", "transactions@days_articles"}  # sources only
    assert free - queries == (DATA_SIDE - {"oracle_recommendations", *narrow}) | {
        "champion_model",
        "recommendation_customers",
    }
    # the same queries as the labelled weeks' sources and features, for week 0
    training = candidate_generation.create_pipeline() + feature_engineering.create_pipeline()
    assert {q.removeprefix("recommendation_") for q in queries} == {
        name for name in training.inputs() if name.startswith("sql_candidates_")
    } | {name for name in training.inputs() if name.endswith("_features")}
    assert inference.outputs() == {"submission"}


def test_recommend_without_chunks_says_what_to_run():
    with pytest.raises(ValueError, match=r"recommendation_customers has no chunk.*candidate_gen"):
        recommend(
            None,
            pd.DataFrame({"customer_id": ["c"]}),
            None,
            None,
            None,
            None,
            {},
            {},
            {"k": 12, "fallback_rank_column": "rank_popularity"},
            customer_weeks={},
        )
