"""recommender_ranking: next-week fashion purchases (H&M), candidates + LightGBM ranker."""

__version__ = "0.1.0"
