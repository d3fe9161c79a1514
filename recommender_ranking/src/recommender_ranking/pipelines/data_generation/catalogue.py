"""Synthetic articles (with their images) and customers in the exact H&M Kaggle columns.

Every (product group, colour, price tier) cell holds at least one article sold from the first
week: the customers' taste model picks a cell first, so no cell may ever be empty.
"""

from collections.abc import Callable

import numpy as np
import pandas as pd
from PIL import Image

from .vocabulary import (
    APPEARANCE_WEIGHTS,
    APPEARANCES,
    CLUB_STATUS,
    COLOURS,
    FEATURES,
    INDEXES,
    MATERIALS,
    NAME_WORDS,
    NEWS_FREQUENCY,
    PRODUCT_GROUPS,
)

GROUP_NAMES = list(PRODUCT_GROUPS)
N_TIERS = 3
TIER_PRICE = np.array([0.6, 1.0, 1.7])  # price multiplier of the low, middle and high tier
ARTICLE_COLUMNS = [
    "article_id", "product_code", "prod_name", "product_type_no", "product_type_name",
    "product_group_name", "graphical_appearance_no", "graphical_appearance_name",
    "colour_group_code", "colour_group_name", "perceived_colour_value_id",
    "perceived_colour_value_name", "perceived_colour_master_id", "perceived_colour_master_name",
    "department_no", "department_name", "index_code", "index_name", "index_group_no",
    "index_group_name", "section_no", "section_name", "garment_group_no", "garment_group_name",
    "detail_desc",
]  # fmt: skip
CUSTOMER_COLUMNS = [
    "customer_id", "FN", "Active", "club_member_status", "fashion_news_frequency", "age",
    "postal_code",
]  # fmt: skip


def n_cells() -> int:
    return len(GROUP_NAMES) * len(COLOURS) * N_TIERS


def hex_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """n distinct-looking 64-character hexadecimal ids (like customer_id and postal_code)."""
    return np.frombuffer(rng.bytes(32 * n).hex().encode(), dtype="S64").astype(str)


def build_articles(
    rng: np.random.Generator,
    n_articles: int,
    n_weeks: int,
    late_variant_share: float = 0.0,
    max_variant_delay_weeks: int = 8,
) -> pd.DataFrame:
    """Articles with hidden columns (``_``-prefixed: group, colour, tier, price, launch week,
    pattern) that the simulation uses and the written CSV drops."""
    cells = n_cells()
    if n_articles < cells:
        raise ValueError(
            f"data_generation: n_articles={n_articles} is too small: at least {cells} articles "
            "(one per product group x colour x price tier) are needed"
        )
    # Products: the first `cells` cover every cell with one colour each, launched in week 0;
    # the rest get 1-4 colour variants (same product_code) and launch during the period.
    n_variants = [1] * cells
    while sum(n_variants) < n_articles:
        n_variants.append(int(rng.choice([1, 2, 3, 4], p=[0.35, 0.3, 0.2, 0.15])))
    n_variants[-1] -= sum(n_variants) - n_articles
    n_variants = np.array(n_variants)
    n_products = len(n_variants)
    cover = np.arange(cells)
    product_group = np.concatenate(
        [cover // (len(COLOURS) * N_TIERS), rng.integers(0, len(GROUP_NAMES), n_products - cells)]
    )
    product_tier = np.concatenate([cover % N_TIERS, rng.integers(0, N_TIERS, n_products - cells)])
    product_launch = np.concatenate(
        [np.zeros(cells, int), rng.integers(-n_weeks, n_weeks - 1, n_products - cells)]
    )
    product_type = np.array(
        [rng.integers(0, len(PRODUCT_GROUPS[GROUP_NAMES[g]])) for g in product_group]
    )
    product_index = rng.integers(0, len(INDEXES), n_products)
    product_appearance = rng.choice(len(APPEARANCES), n_products, p=APPEARANCE_WEIGHTS)
    product_code = 108775 + np.sort(rng.choice(800_000, n_products, replace=False))

    owner = np.repeat(np.arange(n_products), n_variants)  # product of each article
    variant = np.arange(n_articles) - np.repeat(np.cumsum(n_variants) - n_variants, n_variants)
    first_colour = np.concatenate(
        [(cover // N_TIERS) % len(COLOURS), rng.integers(0, len(COLOURS), n_products - cells)]
    )
    # Variants of one product take different colours (a shifted colour per variant).
    colour = (first_colour[owner] + variant * rng.integers(1, len(COLOURS), n_articles)) % len(
        COLOURS
    )
    group, tier = product_group[owner], product_tier[owner]
    type_rows = [
        PRODUCT_GROUPS[GROUP_NAMES[g]][t] for g, t in zip(group, product_type[owner], strict=False)
    ]
    type_no, type_name, garment_no, garment_name, base_price = map(
        np.array, zip(*type_rows, strict=True)
    )
    index_rows = [INDEXES[i] for i in product_index[owner]]
    index_code, index_name, index_group_no, index_group_name, _ = map(
        np.array, zip(*index_rows, strict=True)
    )
    colour_rows = [COLOURS[c] for c in colour]
    appearance_rows = [APPEARANCES[a] for a in product_appearance[owner]]
    codes = product_code[owner]
    # Department and section: one code per (index, garment group) and (index, product group).
    department_key = pd.Series(index_code).str.cat(pd.Series(garment_name), sep="|")
    section_key = pd.Series(index_code).str.cat(pd.Series(group.astype(str)), sep="|")
    department_no = 1000 + pd.factorize(department_key, sort=True)[0] * 13
    section_no = 2 + pd.factorize(section_key, sort=True)[0]
    price = base_price * TIER_PRICE[tier] * rng.lognormal(0.0, 0.15, n_articles)

    names = np.array(NAME_WORDS)[rng.integers(0, len(NAME_WORDS), n_products)][owner]
    articles = pd.DataFrame(
        {
            "article_id": [f"0{code}{v + 1:03d}" for code, v in zip(codes, variant, strict=False)],
            "product_code": codes,
            "prod_name": pd.Series(names).str.cat(pd.Series(type_name).str.lower(), sep=" "),
            "product_type_no": type_no.astype(int),
            "product_type_name": type_name,
            "product_group_name": np.array(GROUP_NAMES)[group],
            "graphical_appearance_no": [row[0] for row in appearance_rows],
            "graphical_appearance_name": [row[1] for row in appearance_rows],
            "colour_group_code": [row[0] for row in colour_rows],
            "colour_group_name": [row[1] for row in colour_rows],
            "perceived_colour_value_id": [row[2] for row in colour_rows],
            "perceived_colour_value_name": [row[3] for row in colour_rows],
            "perceived_colour_master_id": [row[4] for row in colour_rows],
            "perceived_colour_master_name": [row[5] for row in colour_rows],
            "department_no": department_no,
            "department_name": pd.Series(garment_name).str.cat(pd.Series(index_name), sep=" "),
            "index_code": index_code,
            "index_name": index_name,
            "index_group_no": index_group_no.astype(int),
            "index_group_name": index_group_name,
            "section_no": section_no,
            "section_name": pd.Series(index_name).str.cat(
                pd.Series(np.array(GROUP_NAMES)[group]), sep=" "
            ),
            "garment_group_no": garment_no.astype(int),
            "garment_group_name": garment_name,
            "detail_desc": _descriptions(rng, type_name, colour_rows, appearance_rows),
            "_group": group,
            "_colour": colour,
            "_tier": tier,
            "_price": price,
            "_launch_week": product_launch[owner]
            + _variant_delays(rng, owner, variant, late_variant_share, max_variant_delay_weeks),
            "_product": owner,
            "_pattern": [row[2] for row in appearance_rows],
        }
    )
    return articles


def _variant_delays(rng, owner, variant, share: float, max_weeks: int) -> np.ndarray:
    """Weeks after its product's launch that each variant launches: ``share`` of the variants
    after the first launch 1..``max_weeks`` weeks later, as colour variants do in the real
    data. Non-decreasing within a product, so its launched variants are its first articles."""
    late = (variant > 0) & (rng.random(len(variant)) < share)
    delay = np.where(late, rng.integers(1, max(max_weeks, 1) + 1, len(variant)), 0)
    return pd.Series(delay).groupby(owner).cummax().to_numpy()


def _descriptions(rng, type_name, colour_rows, appearance_rows) -> pd.Series:
    """A sentence that names the article's pattern, type and colour (text embeddings then carry
    the same signal as the categorical columns), missing for about 4% of the articles."""
    n = len(type_name)
    material = np.array(MATERIALS)[rng.integers(0, len(MATERIALS), n)]
    feature = np.array(FEATURES)[rng.integers(0, len(FEATURES), n)]
    text = pd.Series(
        [
            f"{appearance[3].capitalize()} {kind.lower()} in {colour[1].lower()} {stuff} "
            f"with {extra}."
            for kind, colour, appearance, stuff, extra in zip(
                type_name, colour_rows, appearance_rows, material, feature, strict=False
            )
        ]
    )
    return text.mask(rng.random(n) < 0.04)


def build_customers(rng: np.random.Generator, n_customers: int) -> pd.DataFrame:
    """Customers in customers.csv's columns, with nulls where the real file has them."""
    age = np.clip(np.round(rng.gamma(6.0, 6.0, n_customers) + 14), 16, 99)
    missing = rng.random(n_customers)
    fn = np.where(rng.random(n_customers) < 0.35, 1.0, np.nan)
    club = rng.choice(len(CLUB_STATUS[0]), n_customers, p=CLUB_STATUS[1])
    news = rng.choice(len(NEWS_FREQUENCY[0]), n_customers, p=NEWS_FREQUENCY[1])
    return pd.DataFrame(
        {
            "customer_id": hex_ids(rng, n_customers),
            "FN": fn,
            "Active": np.where((fn == 1.0) & (rng.random(n_customers) < 0.95), 1.0, np.nan),
            "club_member_status": np.array(CLUB_STATUS[0], dtype=object)[club],
            "fashion_news_frequency": np.array(NEWS_FREQUENCY[0], dtype=object)[news],
            "age": np.where(missing < 0.01, np.nan, age),
            "postal_code": hex_ids(rng, max(n_customers // 4, 1))[
                rng.integers(0, max(n_customers // 4, 1), n_customers)
            ],
        }
    )


def article_image(rgb: tuple[int, int, int], pattern: str, group: int, seed: int, size: int):
    """A small JPEG-ready picture: the article's colour and pattern on a silhouette of its
    product group over a light background (so image embeddings carry colour and pattern)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    base = np.array(rgb, dtype=float)
    accent = 255 - base * 0.6
    fabric = np.broadcast_to(base, (size, size, 3)).copy()
    stripes = {
        "stripe": (np.floor(y * 8) % 2 == 0),
        "check": (np.floor(y * 6) + np.floor(x * 6)) % 2 == 0,
        "dot": ((x * 6 % 1 - 0.5) ** 2 + (y * 6 % 1 - 0.5) ** 2) < 0.06,
        "pattern": np.sin(x * 25 + np.sin(y * 12) * 3) > 0.3,
        "print": ((x - 0.5) ** 2 + (y - 0.45) ** 2) < 0.02,
    }
    if pattern in stripes:
        fabric[stripes[pattern]] = accent
    elif pattern == "melange":
        fabric += rng.normal(0, 35, (size, size, 1))
    shape = _silhouette(group, x, y)
    picture = np.full((size, size, 3), 235.0)
    picture[shape] = fabric[shape]
    picture += rng.normal(0, 4, picture.shape)
    return Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8))


def _silhouette(group: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    name = GROUP_NAMES[group]
    if name in ("Garment Upper body", "Nightwear"):
        return ((abs(x - 0.5) < 0.22) & (y > 0.15) & (y < 0.85)) | (
            (abs(x - 0.5) < 0.42) & (y > 0.15) & (y < 0.4)
        )
    if name == "Garment Lower body":
        return (y > 0.1) & (y < 0.9) & (abs(x - 0.5) < 0.25) & ~((abs(x - 0.5) < 0.04) & (y > 0.4))
    if name == "Garment Full body":
        return (y > 0.08) & (y < 0.92) & (abs(x - 0.5) < 0.12 + 0.3 * y)
    if name == "Shoes":
        return (y > 0.55) & (y < 0.8) & (x > 0.15) & (x < 0.85)
    if name == "Accessories":
        return ((x - 0.5) ** 2 + (y - 0.55) ** 2) < 0.08
    return (y > 0.3) & (y < 0.7) & (abs(x - 0.5) < 0.3)  # underwear, swimwear


def article_images(
    articles: pd.DataFrame, seed: int, size: int, missing_share: float
) -> dict[str, Callable[[], Image.Image]]:
    """``{"0NN/<article_id>": lazy image}`` (the Kaggle folder layout); some articles get none.
    Lazy values let the PartitionedDataset write one picture at a time."""
    rng = np.random.default_rng(seed)
    keep = rng.random(len(articles)) >= missing_share
    images = {}
    rows = articles.loc[keep, ["article_id", "_colour", "_pattern", "_group"]]
    for number, (article_id, colour, pattern, group) in enumerate(rows.itertuples(index=False)):
        images[f"{article_id[:3]}/{article_id}"] = (
            lambda c=colour, p=pattern, g=group, s=seed + number: article_image(
                COLOURS[c][6], p, g, s, size
            )
        )
    return images
