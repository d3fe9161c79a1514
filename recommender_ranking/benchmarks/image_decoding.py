"""Decoding full-size article pictures: images/s and the projected time for the H&M data.

    python benchmarks/image_decoding.py              # 300 pictures, image_size 32
    python benchmarks/image_decoding.py -n 600 --workers 2 4

Writes N synthetic pictures the size of H&M's (1166 x 1750 px, smooth gradients, a shape and
sensor noise: 80-150 KB at JPEG quality 90) to a temporary folder, reads them back through the
real catalog entry (``raw_article_images``: a PartitionedDataset of pillow ImageDatasets) and
times the embeddings pipeline's decoding (``images.decode_pictures``):

- full decode + resize, in-process (what ``image_pixels`` did before draft mode);
- draft + resize, in-process (``decode_workers: 1``);
- draft + resize with a pool of 2 (``--workers``) processes.

Prints a markdown table with the projection for 105,542 pictures, and the load average (the
machine may be shared).
"""

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml
from kedro.io import DataCatalog
from PIL import Image

BLUEPRINT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BLUEPRINT / "src"))

from recommender_ranking.pipelines.embeddings import images  # noqa: E402

REAL_PICTURES = 105_542
WIDTH, HEIGHT = 1166, 1750
NOISE = 1.2  # sd of the sensor noise: 80-150 KB per picture at quality 90


def photo(rng: np.random.Generator) -> Image.Image:
    """Photo-like content: a lit background gradient, a garment-like darker shape, noise."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    base = rng.uniform(150, 235, 3)
    slope = rng.uniform(-0.04, 0.04, (2, 3))
    pixels = base + x[..., None] * slope[0] + y[..., None] * slope[1]
    cy, cx = rng.uniform(0.4, 0.6) * HEIGHT, rng.uniform(0.4, 0.6) * WIDTH
    inside = ((y - cy) / (0.35 * HEIGHT)) ** 2 + ((x - cx) / (0.3 * WIDTH)) ** 2 < 1
    colour = rng.uniform(20, 200, 3)
    shade = 0.8 + 0.2 * np.sin(x / rng.uniform(20, 60)) * np.cos(y / rng.uniform(30, 90))
    pixels[inside] = (colour * shade[..., None])[inside]
    pixels += rng.normal(0, NOISE, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def write_pictures(folder: Path, n: int, seed: int) -> dict:
    """N pictures through the catalog entry; its lazy loaders, as image_pixels gets them."""
    entry = yaml.safe_load((BLUEPRINT / "conf/base/catalog_data_generation.yml").read_text())[
        "raw_article_images"
    ]
    entry["path"] = str(folder)
    catalog = DataCatalog.from_config({"raw_article_images": entry})
    ids = [f"{108775015 + i:010d}" for i in range(n)]
    catalog.save(
        "raw_article_images",
        {
            f"{a[:3]}/{a}": (lambda s=seed + i: photo(np.random.default_rng(s)))
            for i, a in enumerate(ids)
        },
    )
    return catalog.load("raw_article_images")


def full_decode(loads: list, size: int) -> np.ndarray:
    """The old image_pixels: the loader (a full decode), convert, resize."""
    pixels = np.zeros((len(loads), size, size, 3), dtype=np.uint8)
    for row, (_, load) in enumerate(loads):
        picture = load().convert("RGB")
        pixels[row] = np.asarray(picture.resize((size, size), Image.Resampling.BILINEAR))
    return pixels


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the pool's workers)."""
    return sum(
        usage.ru_utime + usage.ru_stime
        for usage in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=300, help="pictures (default 300)")
    parser.add_argument("--size", type=int, default=32, help="embeddings.image_size")
    parser.add_argument("--workers", type=int, nargs="+", default=[2], help="pool sizes")
    parser.add_argument("--repeat", type=int, default=3, help="passes over the pictures")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="image_decoding_") as folder:
        started = time.perf_counter()
        loaded = write_pictures(Path(folder), args.n, args.seed)
        loads = sorted(loaded.items())
        sizes = [p.stat().st_size / 1000 for p in Path(folder).rglob("*.jpg")]
        print(
            f"{args.n} pictures of {WIDTH} x {HEIGHT} px written in "
            f"{time.perf_counter() - started:.0f} s: {np.mean(sizes):.0f} KB on average "
            f"({np.min(sizes):.0f}-{np.max(sizes):.0f}), {sum(sizes) / 1000:.0f} MB; "
            f"output {args.size} x {args.size}; cores available: {len(os.sched_getaffinity(0))}"
        )
        full_decode(loads[:5], args.size)  # warm the file cache and imports alike
        runs = [("full decode + resize, in-process (before)", None)]
        runs += [("draft + resize, in-process (`decode_workers: 1`)", 1)]
        runs += [(f"draft + resize, {w} worker processes", w) for w in args.workers]
        rows, reference = [], None
        for label, workers in runs:
            load_before = os.getloadavg()[0]
            cpu = cpu_seconds()
            started = time.perf_counter()
            # One call over the pictures repeated: one pool for them all, as in image_pixels.
            if workers is None:
                pixels = full_decode(loads * args.repeat, args.size)
            else:
                pixels, _ = images.decode_pictures(loads * args.repeat, args.size, workers=workers)
            seconds = time.perf_counter() - started
            cpu = cpu_seconds() - cpu
            decoded = args.n * args.repeat
            if reference is None:
                reference, note = pixels, ""
            elif workers == 1:
                reference_draft = pixels
                diff = np.abs(pixels.astype(int) - reference.astype(int)).mean()
                note = f"mean abs diff to full decode {diff:.2f} / 255"
            else:
                note = (
                    "pixels identical to in-process"
                    if np.array_equal(pixels, reference_draft)
                    else "PIXELS DIFFER"
                )
            rate = decoded / seconds
            projected = REAL_PICTURES / rate
            rows.append(
                f"| {label} | {seconds:.1f} s | {rate:.0f} | {1000 * cpu / decoded:.1f} ms "
                f"| {projected / 60:.1f} min | {load_before:.1f} | {note} |"
            )
        print()
        print(
            f"| {args.n} pictures x {args.repeat} passes, {WIDTH} x {HEIGHT} to {args.size} x "
            f"{args.size} | time | images/s | CPU per picture (all processes) "
            f"| projected for {REAL_PICTURES:,} "
            "| load average before | note |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- |")
        print("\n".join(rows))
        print(f"\nload average at the end (1, 5, 15 min): {os.getloadavg()}")


if __name__ == "__main__":
    main()
