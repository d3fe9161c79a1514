"""Decoding the article pictures to size x size RGB: reduced-size JPEG decoding, in parallel.

The H&M pictures are about 1166 x 1750 px (50-150 KB of JPEG each, 105 k of them) and the
autoencoder uses 32 x 32. ``Image.draft`` lets libjpeg decode at 1/2, 1/4 or 1/8 of the size
(DCT scaling) before the same bilinear resize as before, and many pictures are decoded by a
process pool. The pool's workers get compressed bytes, never the catalog's loaders (bound
methods of datasets holding an fsspec filesystem): the parent reads the bytes of one chunk of
pictures at a time (cheap next to decoding; a few threads for remote filesystems such as gs://)
and the workers decode them, so memory stays bounded to the chunks in flight.
"""

import contextlib
import io
import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

import numpy as np
from kedro.io.core import get_filepath_str
from PIL import Image
from tqdm.auto import tqdm

DATASET = "raw_article_images"
EXPECTED = "expected a JPEG (or another image format Pillow reads)"
# Draft decodes to at least twice the output size, like Image.thumbnail's reducing_gap: on the
# generator's 32 px pictures resized to 16, exactly the full decode's pixels (a gap of 1: 5.5
# of 255 off on average); on the real 1166 x 1750 pictures the scale is 1/8 either way.
DRAFT_GAP = 2
# Pictures per task sent to a worker: about 3-5 MB of compressed bytes at the real size.
CHUNK = 32
# Threads reading the bytes of one chunk from a remote filesystem (latency-bound).
REMOTE_READ_THREADS = 8


def shrink(picture: Image.Image, size: int, draft: bool = True) -> np.ndarray:
    """``size`` x ``size`` x 3 uint8. With ``draft``, a JPEG not yet decoded is decoded at the
    smallest DCT scale (1/2, 1/4 or 1/8) that keeps both sides at least ``DRAFT_GAP`` x ``size``
    (as ``Image.thumbnail`` does), then resized as before: a picture already that small is
    decoded as it is, so its pixels do not change."""
    if draft:
        picture.draft("RGB", (DRAFT_GAP * size, DRAFT_GAP * size))
    picture = picture.convert("RGB")
    if picture.size != (size, size):
        picture = picture.resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(picture)


def _problem(key: str, where: str, error: BaseException) -> ValueError:
    article_id = key.rsplit("/", 1)[-1]
    return ValueError(
        f"{DATASET}: the picture of article {article_id} (partition {key}, {where}) is not a "
        f"readable image ({type(error).__name__}: {error}); {EXPECTED}"
    )


def decode_chunk(items: Sequence[tuple[str, str, bytes]], size: int, draft: bool) -> np.ndarray:
    """Decode ``(partition key, location, bytes)`` items: len x size x size x 3 uint8. Runs in
    the pool's workers (module-level, so it pickles) as well as in-process."""
    pixels = np.empty((len(items), size, size, 3), dtype=np.uint8)
    for row, (key, where, data) in enumerate(items):
        try:
            with Image.open(io.BytesIO(data)) as picture:
                pixels[row] = shrink(picture, size, draft)
        except Exception as error:  # any decoder failure: name the picture
            raise _problem(key, where, error) from None
    return pixels


class _Picture:
    """One partition: its bytes when the loader is a pillow ImageDataset's (fsspec, any
    protocol), else whatever the loader returns (an Image, or bytes)."""

    def __init__(self, key: str, load: Callable[[], Any]) -> None:
        self.key, self.load = key, load
        owner = getattr(load, "__self__", None)
        self.owner = (
            owner
            if all(hasattr(owner, name) for name in ("_fs", "_get_load_path", "_protocol"))
            else None
        )
        self.where = (
            get_filepath_str(owner._get_load_path(), owner._protocol)
            if self.owner is not None
            else "in memory"
        )
        self.remote = self.owner is not None and owner._protocol not in ("file", "local")

    def read(self) -> bytes | Image.Image:
        try:
            if self.owner is None:
                return self.load()
            open_args = getattr(self.owner, "_fs_open_args_load", {}) or {}
            with self.owner._fs.open(self.where, **{"mode": "rb", **open_args}) as file:
                return file.read()
        except Exception as error:
            raise _problem(self.key, self.where, error) from error


def _read_chunk(chunk: Sequence[_Picture], threads: ThreadPoolExecutor | None) -> list:
    values = threads.map(_Picture.read, chunk) if threads else map(_Picture.read, chunk)
    return [(p.key, p.where, value) for p, value in zip(chunk, values, strict=True)]


def _decode_read(items: list, size: int, draft: bool) -> np.ndarray:
    """In-process: bytes are decoded, Images (loaders that are not pillow datasets) shrunk."""
    if all(isinstance(value, bytes | bytearray) for _, _, value in items):
        return decode_chunk(items, size, draft)
    pixels = np.empty((len(items), size, size, 3), dtype=np.uint8)
    for row, (key, where, value) in enumerate(items):
        if isinstance(value, bytes | bytearray):
            pixels[row] = decode_chunk([(key, where, value)], size, draft)[0]
        elif isinstance(value, Image.Image):
            try:
                pixels[row] = shrink(value, size, draft)
            except Exception as error:
                raise _problem(key, where, error) from None
        else:
            raise ValueError(
                f"{DATASET}: partition {key} loaded as {type(value).__name__}; expected a PIL "
                "image or the bytes of one"
            )
    return pixels


def decode_workers(value: Any) -> int:
    """The ``decode_workers`` parameter: null = the cores available, at most 4."""
    if value is None:
        return min(4, len(os.sched_getaffinity(0)))
    workers = int(value)
    if workers < 1:
        raise ValueError(f"embeddings.decode_workers must be null or at least 1; got {value!r}")
    return workers


def _pool_context() -> multiprocessing.context.BaseContext:
    """fork on Linux: a spawned worker would import this package, hence torch (seconds and
    hundreds of MB each); the workers only run Pillow and numpy. Elsewhere the default."""
    return multiprocessing.get_context("fork" if sys.platform == "linux" else None)


def decode_pictures(
    loads: Sequence[tuple[str, Callable[[], Any]]],
    size: int,
    workers: int = 1,
    min_pool_images: int = 0,
    draft: bool = True,
    chunk: int = CHUNK,
) -> tuple[np.ndarray, int]:
    """``(partition key, loader)`` pairs -> (len x size x size x 3 uint8 in the same order,
    worker processes used: 0 = in-process). Same pixels whatever the workers."""
    pixels = np.zeros((len(loads), size, size, 3), dtype=np.uint8)
    pictures = [_Picture(key, load) for key, load in loads]
    # A pool needs bytes: pictures from loaders that are not pillow datasets stay in-process.
    use_pool = (
        workers > 1
        and len(pictures) >= max(min_pool_images, 2)
        and all(p.owner is not None for p in pictures)
    )
    if use_pool:  # at least 4 tasks per worker, so that the last ones do not wait for one
        chunk = max(1, min(chunk, -(-len(pictures) // (4 * workers))))
    remote = any(p.remote for p in pictures)
    chunks: Iterator[list[_Picture]] = (
        pictures[first : first + chunk] for first in range(0, len(pictures), chunk)
    )
    progress = tqdm(total=len(pictures), desc="images", mininterval=5, disable=None)
    threads = ThreadPoolExecutor(REMOTE_READ_THREADS) if remote else None
    with progress, threads or contextlib.nullcontext():
        if not use_pool:
            row = 0
            for part in chunks:
                pixels[row : row + len(part)] = _decode_read(
                    _read_chunk(part, threads), size, draft
                )
                row += len(part)
                progress.update(len(part))
            return pixels, 0
        used = min(workers, len(pictures))
        pool = ProcessPoolExecutor(used, _pool_context())
        try:
            in_flight: deque[tuple[int, Future]] = deque()
            row = 0
            for part in chunks:
                if len(in_flight) >= 2 * used:
                    first, done = in_flight.popleft()
                    result = done.result()
                    pixels[first : first + len(result)] = result
                    progress.update(len(result))
                items = _read_chunk(part, threads)
                in_flight.append((row, pool.submit(decode_chunk, items, size, draft)))
                row += len(part)
            for first, done in in_flight:
                result = done.result()
                pixels[first : first + len(result)] = result
                progress.update(len(result))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    return pixels, used
