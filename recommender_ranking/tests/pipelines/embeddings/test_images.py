"""Picture decoding: reduced-size JPEG decoding (draft), the process pool, and bad pictures."""

import io
import logging

import fsspec
import numpy as np
import pandas as pd
import pytest
import yaml
from kedro.io import DataCatalog
from PIL import Image

from recommender_ranking.pipelines.data_generation.catalogue import article_images, build_articles
from recommender_ranking.pipelines.embeddings import images
from recommender_ranking.pipelines.embeddings.nodes import image_pixels
from tests.kedro_cli import BLUEPRINT

SIZE = 32


def photo(rng: np.random.Generator, width: int = 600, height: int = 900) -> Image.Image:
    """A photo-like picture: smooth colour gradients, a darker shape, sensor noise."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = rng.uniform(40, 220, 3)
    slope = rng.uniform(-0.15, 0.15, (2, 3))
    pixels = base + x[..., None] * slope[0] + y[..., None] * slope[1]
    cy, cx, r = rng.uniform(0.3, 0.7) * height, rng.uniform(0.3, 0.7) * width, width / 4
    pixels[(y - cy) ** 2 + (x - cx) ** 2 < r * r] *= 0.6
    pixels += rng.normal(0, 6, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def catalog_entry(path) -> dict:
    entry = yaml.safe_load(
        (BLUEPRINT / "conf" / "base" / "catalog_data_generation.yml").read_text()
    )["raw_article_images"]
    entry["path"] = str(path)
    return entry


def save_and_load(path, pictures: dict) -> dict:
    """Pictures written and read back through the real catalog entry (lazy loaders)."""
    catalog = DataCatalog.from_config({"raw_article_images": catalog_entry(path)})
    catalog.save("raw_article_images", pictures)
    return catalog.load("raw_article_images")


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    """50 photo-like 600 x 900 JPEGs (quality 90) and the articles they belong to."""
    rng = np.random.default_rng(11)
    ids = [f"{108775000 + i:010d}" for i in range(50)]
    pictures = {f"{a[:3]}/{a}": photo(rng) for a in ids}
    loaded = save_and_load(tmp_path_factory.mktemp("large"), pictures)
    return loaded, pd.DataFrame({"article_id": ids})


def full_decode(load, size: int = SIZE) -> np.ndarray:
    """What image_pixels did before draft mode: the whole picture, then the resize."""
    picture = load().convert("RGB")
    return np.asarray(picture.resize((size, size), Image.Resampling.BILINEAR))


def test_the_pool_gives_the_same_pixels_in_the_same_order_as_in_process(large, caplog):
    loaded, articles = large
    with caplog.at_level(logging.INFO):
        alone = image_pixels(loaded, articles, {"image_size": SIZE, "decode_workers": 1})
        pooled = image_pixels(
            loaded,
            articles,
            {"image_size": SIZE, "decode_workers": 2, "decode_pool_min_images": 10},
        )
    assert "in-process" in caplog.text and "2 worker processes" in caplog.text
    assert alone["article_id"].tolist() == pooled["article_id"].tolist()
    assert alone["article_id"].tolist() == articles["article_id"].tolist()
    assert np.array_equal(alone["pixels"], pooled["pixels"])
    # Below the threshold (default 2000) no pool is started, whatever decode_workers says.
    caplog.clear()
    with caplog.at_level(logging.INFO):
        few = image_pixels(loaded, articles.head(5), {"image_size": SIZE, "decode_workers": 2})
    assert np.array_equal(few["pixels"], alone["pixels"][:5])
    assert "5 decoded" in caplog.text and "in-process" in caplog.text


def test_draft_decodes_large_jpegs_smaller_and_stays_close_to_the_full_decode(large):
    loaded, articles = large
    keys = [f"{a[:3]}/{a}" for a in articles["article_id"]]
    drafted, used = images.decode_pictures([(k, loaded[k]) for k in keys], SIZE)
    assert used == 0 and drafted.shape == (50, SIZE, SIZE, 3)
    full = np.stack([full_decode(loaded[k]) for k in keys])
    difference = np.abs(drafted.astype(int) - full.astype(int))
    assert difference.mean() < 3, difference.mean()
    assert not np.array_equal(drafted, full)  # draft did act: 1/8 scale for 600 x 900 at 32
    data = io.BytesIO()
    photo(np.random.default_rng(1)).save(data, format="JPEG", quality=90)
    with Image.open(data) as jpeg:
        jpeg.draft("RGB", (images.DRAFT_GAP * SIZE, images.DRAFT_GAP * SIZE))
        assert jpeg.size == (75, 113)


def test_the_generators_tiny_pictures_give_exactly_the_same_pixels_as_before(tmp_path):
    articles = build_articles(np.random.default_rng(5), n_articles=400, n_weeks=3)
    loaded = save_and_load(tmp_path, article_images(articles, 1, SIZE, missing_share=0.1))
    pixels = image_pixels(loaded, articles, {"image_size": SIZE})
    by_article = {key.rsplit("/", 1)[-1]: load for key, load in loaded.items()}
    before = np.stack([full_decode(by_article[a]) for a in pixels["article_id"]])
    assert np.array_equal(pixels["pixels"], before)
    # Smaller sizes stay close to the old resize (draft decodes at 1/2 for 8 px, not at all 16+).
    for size in (8, 16, 28):
        resized = image_pixels(loaded, articles.head(30), {"image_size": size})
        before = np.stack([full_decode(by_article[a], size) for a in resized["article_id"]])
        assert np.abs(resized["pixels"].astype(int) - before.astype(int)).mean() < 3


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"not a jpeg at all", "cannot identify image file"), (None, "truncated")],
)
def test_a_bad_picture_is_named_with_its_article_and_partition(tmp_path, workers, content, reason):
    rng = np.random.default_rng(2)
    ids = [f"{200000000 + i:010d}" for i in range(12)]
    loaded = save_and_load(tmp_path, {f"{a[:3]}/{a}": photo(rng, 120, 180) for a in ids})
    bad = tmp_path / "020" / f"{ids[7]}.jpg"
    good = bad.read_bytes()
    bad.write_bytes(content if content is not None else good[: len(good) // 3])
    params = {"image_size": SIZE, "decode_workers": workers, "decode_pool_min_images": 2}
    with pytest.raises(ValueError, match="raw_article_images") as error:
        image_pixels(loaded, pd.DataFrame({"article_id": ids}), params)
    message = str(error.value)
    assert f"article {ids[7]} (partition 020/{ids[7]}" in message
    assert str(bad) in message and reason in message and "expected a JPEG" in message


def test_a_missing_file_is_named_too(tmp_path):
    ids = ["0300000001", "0300000002"]
    loaded = save_and_load(
        tmp_path, {f"030/{a}": photo(np.random.default_rng(3), 60, 90) for a in ids}
    )
    (tmp_path / "030" / f"{ids[1]}.jpg").unlink()
    with pytest.raises(ValueError, match=f"article {ids[1]} \\(partition 030/{ids[1]}"):
        image_pixels(loaded, pd.DataFrame({"article_id": ids}), {"image_size": SIZE})


def test_pictures_on_a_remote_filesystem_are_read_as_bytes_and_decoded_in_the_pool(tmp_path):
    """fsspec's memory:// stands for gs://: the workers only ever get bytes."""
    rng = np.random.default_rng(4)
    ids = [f"{400000000 + i:010d}" for i in range(20)]
    local = save_and_load(tmp_path, {f"040/{a}": photo(rng, 300, 450) for a in ids})
    memory = fsspec.filesystem("memory")
    for a in ids:  # the same files, byte for byte
        memory.pipe(f"/article-images/040/{a}.jpg", (tmp_path / "040" / f"{a}.jpg").read_bytes())
    try:
        remote = DataCatalog.from_config(
            {"raw_article_images": catalog_entry("memory://article-images")}
        ).load("raw_article_images")
        articles = pd.DataFrame({"article_id": ids})
        params = {"image_size": SIZE, "decode_workers": 2, "decode_pool_min_images": 2}
        got = image_pixels(remote, articles, params)
        expected = image_pixels(local, articles, {"image_size": SIZE, "decode_workers": 1})
    finally:
        memory.rm("/article-images", recursive=True)
    assert got["article_id"].tolist() == ids
    assert np.array_equal(got["pixels"], expected["pixels"])


def test_loaders_that_are_not_pillow_datasets_are_decoded_in_process(large):
    loaded, articles = large
    plain = {key: (lambda load=load: load()) for key, load in loaded.items()}
    params = {"image_size": SIZE, "decode_workers": 2, "decode_pool_min_images": 2}
    got = image_pixels(plain, articles, params)
    expected = np.stack([full_decode(plain[f"{a[:3]}/{a}"]) for a in articles["article_id"]])
    assert np.array_equal(got["pixels"], expected)  # already decoded: no draft, the old pixels


def test_decode_workers_parameter():
    assert images.decode_workers(3) == 3
    assert 1 <= images.decode_workers(None) <= 4
    with pytest.raises(ValueError, match="decode_workers must be null or at least 1; got 0"):
        images.decode_workers(0)
