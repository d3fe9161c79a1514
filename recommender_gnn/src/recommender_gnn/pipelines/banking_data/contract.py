"""The Santander Product Recommendation files (Kaggle 2016): their columns, and the typed table
every later step reads, so the quirks of the raw text are handled once, here.

The raw frames hold every column as the CSV text (read with ``dtype: str``, Latin-1): padded
numbers (" 35", "     6"), "NA" and blanks, ``indrel_1mes`` as "1" / "1.0" / "P".
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from recommender_gnn.checks import require_columns

logger = logging.getLogger(__name__)

ATTRIBUTES = [
    "ind_empleado", "pais_residencia", "sexo", "age", "fecha_alta", "ind_nuevo", "antiguedad",
    "indrel", "ult_fec_cli_1t", "indrel_1mes", "tiprel_1mes", "indresi", "indext", "conyuemp",
    "canal_entrada", "indfall", "tipodom", "cod_prov", "nomprov", "ind_actividad_cliente",
    "renta", "segmento",
]  # fmt: skip
PRODUCTS = [
    "ind_ahor_fin_ult1", "ind_aval_fin_ult1", "ind_cco_fin_ult1", "ind_cder_fin_ult1",
    "ind_cno_fin_ult1", "ind_ctju_fin_ult1", "ind_ctma_fin_ult1", "ind_ctop_fin_ult1",
    "ind_ctpp_fin_ult1", "ind_deco_fin_ult1", "ind_deme_fin_ult1", "ind_dela_fin_ult1",
    "ind_ecue_fin_ult1", "ind_fond_fin_ult1", "ind_hip_fin_ult1", "ind_plan_fin_ult1",
    "ind_pres_fin_ult1", "ind_reca_fin_ult1", "ind_tjcr_fin_ult1", "ind_valo_fin_ult1",
    "ind_viv_fin_ult1", "ind_nomina_ult1", "ind_nom_pens_ult1", "ind_recibo_ult1",
]  # fmt: skip
TRAIN_COLUMNS = ["fecha_dato", "ncodpers", *ATTRIBUTES, *PRODUCTS]
TEST_COLUMNS = ["fecha_dato", "ncodpers", *ATTRIBUTES]
SUBMISSION_COLUMNS = ["ncodpers", "added_products"]
PAYROLL_PRODUCTS = ["ind_nomina_ult1", "ind_nom_pens_ult1"]  # the flags missing on some rows

FIRST_MONTH = pd.Timestamp("2015-01-28")  # month index 0
N_TRAIN_MONTHS = 17  # 2015-01-28 .. 2016-05-28
TEST_MONTH = N_TRAIN_MONTHS  # 2016-06-28
VALIDATION_MONTH = N_TRAIN_MONTHS - 1  # 2016-05-28

NUMERIC = ["age", "antiguedad", "renta", "ind_nuevo", "indrel", "tipodom", "cod_prov",
           "ind_actividad_cliente"]  # fmt: skip
DATES = ["fecha_alta", "ult_fec_cli_1t"]
CATEGORIES = [name for name in ATTRIBUTES if name not in {*NUMERIC, *DATES, "indrel_1mes"}]
INDREL_1MES = ["1", "2", "3", "4", "P"]
MISSING = {"", "NA", "NAN", "NONE"}  # compared after stripping and upper-casing


def month_date(month: int) -> str:
    """The snapshot date of month index ``month`` (0 = 2015-01-28), as the files write it."""
    return f"{2015 + month // 12}-{month % 12 + 1:02d}-28"


def month_index(dates: pd.Series) -> pd.Series:
    return ((dates.dt.year - FIRST_MONTH.year) * 12 + dates.dt.month - 1).astype("int16")


class _Column:
    """A raw column parsed once per distinct value: the real file has 13.6 M rows but few
    distinct texts per column. ``text``: stripped, NA where blank or "NA" (padded or not)."""

    def __init__(self, raw: pd.DataFrame, column: str) -> None:
        codes, uniques = pd.factorize(raw[column], use_na_sentinel=True)
        self.raw, self.name = raw[column], column
        self.codes = np.where(codes < 0, len(uniques), codes)  # the last entry: missing
        text = pd.Series([*uniques, None], dtype="string").str.strip()
        missing = text.isna() | text.str.upper().isin(MISSING)
        self.text, self.missing = text.mask(missing), missing.to_numpy(dtype=bool)

    def rows(self, per_value: np.ndarray) -> np.ndarray:
        return np.asarray(per_value)[self.codes]

    def check(self, bad_value: np.ndarray, dataset: str, expected: str) -> None:
        """Raise naming ``dataset``, the column, ``expected`` and what was found."""
        bad = self.rows(bad_value)
        if bad.any():
            found = self.raw[bad]
            examples = sorted({str(value) for value in found.head(1000)})[:5]
            raise ValueError(
                f"{dataset}: column {self.name!r} must hold {expected}; found {examples} "
                f"in {len(found)} row(s)"
            )


def _numeric(raw: pd.DataFrame, column: str, dataset: str) -> np.ndarray:
    parsed = _Column(raw, column)
    values = pd.to_numeric(parsed.text, errors="coerce")
    parsed.check(values.isna().to_numpy(dtype=bool) & ~parsed.missing, dataset,
                 "a number, blank or NA")  # fmt: skip
    return parsed.rows(values.to_numpy(dtype="float32", na_value=np.nan))


def _dates(parsed: _Column) -> pd.Series:
    return pd.to_datetime(parsed.text, format="%Y-%m-%d", errors="coerce").astype("datetime64[ns]")


def _date(raw: pd.DataFrame, column: str, dataset: str) -> np.ndarray:
    parsed = _Column(raw, column)
    dates = _dates(parsed)
    parsed.check(dates.isna().to_numpy(dtype=bool) & ~parsed.missing, dataset,
                 "a date YYYY-MM-DD, blank or NA")  # fmt: skip
    return parsed.rows(dates.to_numpy())


def _snapshot_months(raw: pd.DataFrame, dataset: str) -> tuple[np.ndarray, np.ndarray]:
    parsed = _Column(raw, "fecha_dato")
    dates = _dates(parsed)
    bad = (dates.isna() | (dates.dt.day != 28) | (dates < FIRST_MONTH)).to_numpy(dtype=bool)
    parsed.check(bad, dataset, "a date on the 28th from 2015-01-28")
    months = month_index(dates.fillna(FIRST_MONTH))
    return parsed.rows(dates.to_numpy()), parsed.rows(months.to_numpy())


def customer_ids(raw: pd.DataFrame, dataset: str) -> np.ndarray:
    """``ncodpers`` as int32, whether read as text or built in memory."""
    parsed = _Column(raw, "ncodpers")
    integer = parsed.text.str.fullmatch(r"\d{1,9}").fillna(False).to_numpy(dtype=bool)
    parsed.check(~integer, dataset, "a positive integer customer id (at most 9 digits)")
    return parsed.rows(parsed.text.fillna("0").astype("int64").to_numpy()).astype("int32")


def _indrel_1mes(raw: pd.DataFrame, dataset: str) -> pd.Categorical:
    """The same customer type is written "1" and "1.0": both become "1"."""
    parsed = _Column(raw, "indrel_1mes")
    normal = parsed.text.str.replace(r"^([1-4])(\.0)?$", r"\1", regex=True).str.upper()
    valid = normal.isin(INDREL_1MES).to_numpy(dtype=bool)
    parsed.check(~valid & ~parsed.missing, dataset,
                 f"one of {INDREL_1MES} (or 1.0 .. 4.0), blank or NA")  # fmt: skip
    return _categorical(parsed, normal.mask(parsed.missing), INDREL_1MES)


def _categorical(parsed: _Column, text: pd.Series, categories=None) -> pd.Categorical:
    values = pd.Categorical(text.astype(object), categories=categories)
    return pd.Categorical.from_codes(parsed.rows(values.codes), values.categories)


def _product_flags(raw: pd.DataFrame, dataset: str) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """int8 flags (missing -> 0) and, per row, whether a payroll flag was missing."""
    flags, payroll_missing = {}, np.zeros(len(raw), dtype=bool)
    for product in PRODUCTS:
        parsed = _Column(raw, product)
        normal = parsed.text.str.replace(r"\.0$", "", regex=True)
        valid = normal.isin(["0", "1"]).to_numpy(dtype=bool)
        parsed.check(~valid & ~parsed.missing, dataset, "a product flag 0, 1 or blank")
        flags[product] = parsed.rows((normal == "1").fillna(False).to_numpy(dtype="int8"))
        missing = parsed.rows(parsed.missing)
        if product in PAYROLL_PRODUCTS:
            payroll_missing |= missing
        elif missing.any():
            logger.warning("%s: %d missing %s flag(s) read as 0", dataset, missing.sum(), product)
    return flags, payroll_missing


def clean_santander(raw: pd.DataFrame, dataset: str, has_products: bool) -> pd.DataFrame:
    """The typed table of a raw Santander frame (train: ``has_products``; test: not).

    Columns: month (int16, 2015-01-28 = 0), fecha_dato (datetime64), customer (int32), the 22
    attributes (age, antiguedad, renta and the other numbers float32 with NaN for "NA"/blank;
    fecha_alta and ult_fec_cli_1t datetime64; indrel_1mes one of "1" "2" "3" "4" "P" or NaN;
    the rest pandas categories), then with ``has_products`` the 24 flags as int8 (missing ->
    0) and ``payroll_flags_missing`` (bool: a payroll flag of the row was blank). Sorted by
    (month, customer). Bad input raises a ValueError naming ``dataset``, the column, what was
    expected and what was found.
    """
    required = TRAIN_COLUMNS if has_products else TEST_COLUMNS
    require_columns(raw, required, dataset, hint=" (the Santander train/test CSV columns)")
    dates, months = _snapshot_months(raw, dataset)
    customers = customer_ids(raw, dataset)
    keys = pd.DataFrame({"fecha_dato": dates, "ncodpers": customers})
    duplicated = keys.duplicated(keep=False).to_numpy()
    if duplicated.any():
        pairs = keys[duplicated].head(3).astype(str).agg(" ".join, axis=1).tolist()
        raise ValueError(
            f"{dataset}: (fecha_dato, ncodpers) must be unique, one row per customer and month; "
            f"found {duplicated.sum()} rows on repeated pairs, e.g. {pairs}"
        )
    table = {"month": months, "fecha_dato": dates, "customer": customers}
    for column in ATTRIBUTES:
        if column in NUMERIC:
            table[column] = _numeric(raw, column, dataset)
        elif column in DATES:
            table[column] = _date(raw, column, dataset)
        elif column == "indrel_1mes":
            table[column] = _indrel_1mes(raw, dataset)
        else:
            parsed = _Column(raw, column)
            table[column] = _categorical(parsed, parsed.text)
    if has_products:
        flags, payroll_missing = _product_flags(raw, dataset)
        table.update(flags)
        table["payroll_flags_missing"] = payroll_missing
        if payroll_missing.any():
            logger.info("%s: %d row(s) lack a payroll flag, read as 0", dataset,
                        payroll_missing.sum())  # fmt: skip
    clean = pd.DataFrame(table)
    return clean.sort_values(["month", "customer"], kind="stable").reset_index(drop=True)


def added_products(held: pd.DataFrame) -> pd.DataFrame:
    """Long table (customer, month, product) of each product held in a month and not in the
    previous month the customer appears, one row per addition, sorted by customer, month and
    the PRODUCTS order. A customer's first month adds nothing: there is nothing to compare."""
    require_columns(held, ["customer", "month", *PRODUCTS], "added_products input")
    ordered = held.sort_values(["customer", "month"], kind="stable")
    flags = ordered[PRODUCTS].to_numpy(dtype="int8")
    customers = ordered["customer"].to_numpy()
    has_previous = np.zeros(len(ordered), dtype=bool)
    has_previous[1:] = customers[1:] == customers[:-1]
    previous = np.zeros_like(flags)
    previous[1:] = flags[:-1]
    rows, columns = np.nonzero((flags == 1) & (previous == 0) & has_previous[:, None])
    return pd.DataFrame(
        {
            "customer": customers[rows].astype("int32"),
            "month": ordered["month"].to_numpy()[rows].astype("int16"),
            "product": np.asarray(PRODUCTS, dtype=object)[columns],
        }
    )
