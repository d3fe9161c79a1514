"""Seeded Santander-format data with the exact addition probabilities, so that a model can be
compared with the best possible score (the oracle) on data that has the real file's quirks.

Each customer has static attributes. In the month they enter they hold an initial set of
products; every later month each product not held is added with probability
``sigmoid(logit)``, where the logit sums the product's base rate, attribute effects (activity,
age, segment, income, channel), the products already held (a current account raises direct
debits; payroll and pension come together), the calendar month (taxes ``ind_reca`` peak in
June) and one interaction (age band x segment) that no main effect shows. Held products are
dropped with small probabilities. Payroll and pension share one uniform draw, so they are added
(and dropped) together while each keeps its exact marginal probability.

Text quirks as in the real file: ages padded (" 35") before 2015-07 and plain after, " NA";
antiguedad padded to 6 ("     6"); renta "NA" (train) or padded (test); indrel_1mes mixing
"1", "1.0", "P", "3.0" and blanks; payroll flags "NA" on some rows (only rows where neither is
held, so reading them as 0 is right and the oracle stays exact); Latin-1 province names.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .contract import (
    N_TRAIN_MONTHS,
    PRODUCTS,
    SUBMISSION_COLUMNS,
    TEST_COLUMNS,
    TEST_MONTH,
    TRAIN_COLUMNS,
    VALIDATION_MONTH,
    month_date,
)

P = {name: index for index, name in enumerate(PRODUCTS)}
# product short name: (initial holding logit, monthly add logit, monthly drop probability)
RATES = {
    "ahor": (-7.0, -12.0, 0.005), "aval": (-7.0, -12.0, 0.005), "cco": (1.0, -4.5, 0.01),
    "cder": (-6.0, -9.5, 0.01), "cno": (-2.5, -6.5, 0.01), "ctju": (-6.0, -9.0, 0.005),
    "ctma": (-4.5, -7.5, 0.02), "ctop": (-2.2, -7.5, 0.01), "ctpp": (-3.3, -8.0, 0.01),
    "deco": (-6.0, -8.5, 0.05), "deme": (-6.0, -9.0, 0.02), "dela": (-3.2, -7.5, 0.015),
    "ecue": (-2.5, -6.8, 0.01), "fond": (-3.8, -8.5, 0.01), "hip": (-5.0, -10.0, 0.002),
    "plan": (-4.5, -9.0, 0.002), "pres": (-5.0, -9.5, 0.01), "reca": (-3.5, -7.5, 0.01),
    "tjcr": (-3.0, -6.0, 0.04), "valo": (-3.5, -8.0, 0.01), "viv": (-5.0, -10.0, 0.005),
    "nomina": (-2.5, -6.3, 0.04), "nom_pens": (-2.4, -6.2, 0.04), "recibo": (-1.5, -5.2, 0.03),
}  # fmt: skip
SHORT = [name.removeprefix("ind_").removesuffix("_ult1").removesuffix("_fin") for name in PRODUCTS]
INITIAL, ADD, DROP = (np.array([RATES[short][i] for short in SHORT]) for i in range(3))
# (held product, added product, logit boost): what holding one product does to adding another
HOLDING_EFFECTS = [
    ("cco", "recibo", 1.5), ("cco", "tjcr", 0.8), ("cno", "nomina", 1.5),
    ("cno", "nom_pens", 1.5), ("nomina", "nom_pens", 3.0), ("nom_pens", "nomina", 3.0),
    ("recibo", "tjcr", 0.5), ("tjcr", "recibo", 0.7), ("ecue", "valo", 0.5),
]  # fmt: skip
SEGMENTS = np.array(["01 - TOP", "02 - PARTICULARES", "03 - UNIVERSITARIO"], dtype=object)
CHANNELS = np.array(["KHE", "KAT", "KFC", "KFA", "KHQ", "RED", "KHK", ""], dtype=object)
CHANNEL_SHARES = [0.3, 0.25, 0.15, 0.08, 0.07, 0.05, 0.08, 0.02]
PROVINCES = [
    ("28", "MADRID"), ("8", "BARCELONA"), ("46", "VALENCIA"), ("41", "SEVILLA"),
    ("15", "CORUÑA, A"), ("29", "MALAGA"), ("30", "MURCIA"), ("3", "ALICANTE"),
    ("36", "PONTEVEDRA"), ("50", "ZARAGOZA"), ("33", "ASTURIAS"), ("26", "RIOJA, LA"),
    ("7", "BALEARS, ILLES"), ("23", "JAEN"), ("24", "LEON"),
]  # fmt: skip
EMPLOYEE = np.array(["N", "A", "B", "F", "S"], dtype=object)
EMPLOYEE_SHARES = [0.995, 0.002, 0.001, 0.001, 0.001]
COUNTRIES = np.array(["FR", "DE", "GB", "US"], dtype=object)  # the few non-residents
PROVINCE_SHARES = np.array([30, 14, 8, 6, 6, 5, 5, 5, 4, 4, 4, 3, 3, 2, 1], dtype=float)


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-logits))


def _customers(rng: np.random.Generator, params: dict[str, Any]) -> dict[str, np.ndarray]:
    """Static attributes, entry and exit month of each customer (ids ascend with entry)."""
    n = int(params["n_customers"])
    entering = rng.random(n) < float(params["entering_share"])
    entry = np.where(entering, rng.integers(1, N_TRAIN_MONTHS, n), 0)
    # Leavers have their last row before the validation month; the rest stay to the test month.
    can_leave = entry < VALIDATION_MONTH - 1
    leaving = can_leave & (rng.random(n) < float(params["leaving_share"]))
    exit_ = np.where(
        leaving,
        rng.integers(np.minimum(entry + 1, VALIDATION_MONTH - 1), VALIDATION_MONTH),
        TEST_MONTH,
    )
    student = rng.random(n) < 0.3
    age = np.where(student, rng.integers(18, 26, n), np.clip(rng.normal(48, 14, n), 2, 100))
    age = np.rint(age).astype(int)
    segment = np.where(
        age < 26,
        rng.choice(3, n, p=[0.01, 0.19, 0.8]),
        rng.choice(3, n, p=[0.06, 0.9, 0.04]),
    )
    log_income = rng.normal(11.5, 0.6, n) + 0.4 * (segment == 0)
    order = np.argsort(entry, kind="stable")
    ids = 15_889 + np.sort(rng.choice(1_540_000, n, replace=False))
    ncodpers = np.empty(n, dtype=np.int64)
    ncodpers[order] = ids
    return {
        "ncodpers": ncodpers,
        "entry": entry,
        "exit": exit_,
        "age": age,
        "segment": segment,
        "log_income": log_income,
        "active": rng.random(n) < np.where(age < 26, 0.3, 0.55),
        "channel": rng.choice(len(CHANNELS), n, p=CHANNEL_SHARES),
        "province": rng.choice(len(PROVINCES), n, p=PROVINCE_SHARES / PROVINCE_SHARES.sum()),
        "seniority": np.where(entering, 0, rng.integers(0, 250, n)),  # months at entry
    }


def _attribute_logits(people: dict[str, np.ndarray], params: dict[str, Any]) -> np.ndarray:
    """(customers, products) logit shift from the attributes, including the interaction."""
    age, segment = people["age"], people["segment"]
    income = np.clip((people["log_income"] - 11.5) / 0.6, -3, 3)
    shift = np.zeros((len(age), len(PRODUCTS)))
    shift += float(params["activity_boost"]) * people["active"][:, None]
    shift[:, P["ind_ctju_fin_ult1"]] += np.where(age < 20, 5.0, 0.0)
    shift[:, P["ind_plan_fin_ult1"]] += np.where(age >= 45, 1.0, 0.0)
    shift[:, P["ind_hip_fin_ult1"]] += np.where((age >= 30) & (age < 50), 1.0, 0.0)
    shift[:, P["ind_ecue_fin_ult1"]] += np.where((age >= 25) & (age < 50), 0.5, 0.0)
    for short, boost in (("fond", 1.0), ("valo", 1.0), ("dela", 0.5), ("plan", 0.5)):
        shift[:, SHORT.index(short)] += boost * (segment == 0)
    for short in ("valo", "fond", "dela", "plan", "hip"):
        shift[:, SHORT.index(short)] += 0.5 * income
    students = segment == 2
    for short in SHORT:
        if short not in ("cco", "ecue", "tjcr", "ctju"):
            shift[:, SHORT.index(short)] -= 1.0 * students
    shift[:, P["ind_ecue_fin_ult1"]] += 0.8 * (people["channel"] == 0)
    shift[:, P["ind_dela_fin_ult1"]] += 0.3 * (people["channel"] == 1)
    # The interaction, on top of the main effects above: only the combination of an age band
    # and a segment gets it, so a model of age alone or segment alone cannot find it.
    boost = float(params["interaction_boost"])
    shift[:, P["ind_fond_fin_ult1"]] += boost * ((age >= 25) & (age < 40) & (segment == 0))
    shift[:, P["ind_dela_fin_ult1"]] += boost * ((age >= 60) & (segment == 1))
    return shift


def _holding_matrix() -> np.ndarray:
    effects = np.zeros((len(PRODUCTS), len(PRODUCTS)))
    for held, added, boost in HOLDING_EFFECTS:
        effects[SHORT.index(held), SHORT.index(added)] = boost
    return effects


def _payroll_shared(uniforms: np.ndarray) -> np.ndarray:
    uniforms[:, P["ind_nom_pens_ult1"]] = uniforms[:, P["ind_nomina_ult1"]]
    return uniforms


def simulate_holdings(
    rng: np.random.Generator, people: dict[str, np.ndarray], params: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """(held, add probability), both (months 0..TEST_MONTH, customers, products): the true
    holdings and the exact probability each product was added with in that month (0 where it
    was held the month before or the customer is in their first month; meaningless before a
    customer's entry month, which ``_oracle`` never reads)."""
    n, n_months = len(people["age"]), TEST_MONTH + 1
    attributes = _attribute_logits(people, params)
    effects = _holding_matrix()
    season = np.zeros((12, len(PRODUCTS)))
    season[5, P["ind_reca_fin_ult1"]] = float(params["reca_june_boost"])  # June
    new_customer = np.where(np.arange(len(PRODUCTS)) == P["ind_cco_fin_ult1"], 0.5, -1.5)
    held = np.zeros((n_months, n, len(PRODUCTS)), dtype=bool)
    probability = np.zeros((n_months, n, len(PRODUCTS)))
    for month in range(n_months):
        previous = held[month - 1] if month else held[0]
        logits = ADD + attributes + previous @ effects + season[month % 12]
        chance = np.where(previous, 0.0, _sigmoid(logits))
        added = _payroll_shared(rng.random((n, len(PRODUCTS)))) < chance
        dropped = _payroll_shared(rng.random((n, len(PRODUCTS)))) < DROP
        held[month] = (previous & ~dropped) | added
        probability[month] = chance
        entering = people["entry"] == month
        start = INITIAL + 0.5 * attributes + (people["seniority"] == 0)[:, None] * new_customer
        initial = _payroll_shared(rng.random((n, len(PRODUCTS)))) < _sigmoid(start)
        held[month, entering] = initial[entering]
        probability[month, entering | (month == 0)] = 0.0
    return held, probability


def _either(condition: np.ndarray, when_true, otherwise) -> np.ndarray:
    """np.where as Python strings (object), as a CSV read with dtype str holds them."""
    return np.where(condition, when_true, otherwise).astype(object)


def _text(values: np.ndarray) -> np.ndarray:
    return np.asarray(values).astype(str).astype(object)


def _per_customer(rng: np.random.Generator, people: dict[str, np.ndarray], params) -> dict:
    """The text of each customer's static attributes (sparse customers: blanks and NA, as the
    real file's rows that lack most attributes)."""
    n = len(people["age"])
    sparse = rng.random(n) < float(params["sparse_share"])
    foreign = rng.random(n) < 0.005
    first_day = pd.Timestamp(month_date(0)) - pd.to_timedelta(people["seniority"] * 30.44, "D")
    entry_day = pd.to_datetime(pd.Series(people["entry"]).map(month_date)).to_numpy()
    alta = np.where(
        people["seniority"] == 0,
        entry_day - pd.to_timedelta(rng.integers(0, 28, n), "D").to_numpy(),
        first_day.to_numpy(),
    )
    codes = np.array([code for code, _ in PROVINCES], dtype=object)
    names = np.array([name for _, name in PROVINCES], dtype=object)
    income = np.exp(people["log_income"])
    renta_missing = rng.random(n) < float(params["renta_missing_share"])

    def blank_if(mask, values, blank=""):
        return np.where(mask, blank, values).astype(object)

    return {
        "sparse": sparse,
        "ncodpers": _text(people["ncodpers"]),
        "ind_empleado": blank_if(sparse, rng.choice(EMPLOYEE, n, p=EMPLOYEE_SHARES)),
        "pais_residencia": blank_if(sparse, np.where(foreign, rng.choice(COUNTRIES, n), "ES")),
        "sexo": blank_if(
            sparse | (rng.random(n) < 0.005), np.where(rng.random(n) < 0.45, "V", "H")
        ),
        "fecha_alta": blank_if(sparse, _text(pd.DatetimeIndex(alta).strftime("%Y-%m-%d"))),
        "indresi": blank_if(sparse, np.where(foreign, "N", "S")),
        "indext": blank_if(sparse, np.where(foreign | (rng.random(n) < 0.04), "S", "N")),
        "conyuemp": blank_if(rng.random(n) > 0.0002, "N"),
        "canal_entrada": blank_if(sparse, CHANNELS[people["channel"]]),
        "indfall": blank_if(sparse, np.where(rng.random(n) < 0.003, "S", "N")),
        "tipodom": blank_if(sparse, "1", "NA"),
        "cod_prov": blank_if(sparse | foreign, codes[people["province"]], "NA"),
        "nomprov": blank_if(sparse | foreign, names[people["province"]]),
        "ind_actividad_cliente": blank_if(sparse, _text(people["active"].astype(int)), "NA"),
        "renta_train": blank_if(sparse | renta_missing, _text(np.round(income, 2)), "NA"),
        "renta_test": blank_if(
            sparse | renta_missing,
            np.char.rjust(np.char.mod("%.2f", income), 12).astype(object),
            "         NA",
        ),
        "segmento": blank_if(sparse | (rng.random(n) < 0.01), SEGMENTS[people["segment"]]),
    }


def _rows(rng, people, static, held, customers, month, params) -> pd.DataFrame:
    """The raw text of one month's rows (``customers``: their indices)."""
    n, is_test = len(customers), month == TEST_MONTH
    sparse = static["sparse"][customers]
    age = people["age"][customers]
    age_text = np.char.rjust(age.astype(str), 3) if month < 6 else age.astype(str)
    seniority = people["seniority"][customers] + month - people["entry"][customers]
    leaving = people["exit"][customers] == month
    indrel_1mes = rng.choice(
        np.array(["1", "1.0", "P", "2", "2.0", "3", "3.0", "4", ""], dtype=object),
        n,
        p=[0.6, 0.37, 0.01, 0.002, 0.002, 0.003, 0.003, 0.0004, 0.0096],
    )
    last_day = f"{month_date(month)[:8]}{rng.integers(1, 28):02d}"
    columns = {
        "fecha_dato": np.full(n, month_date(month), dtype=object),
        "age": np.where(sparse, " NA", age_text).astype(object),
        "ind_nuevo": np.where(sparse, "NA", np.where(seniority <= 6, "1", "0")).astype(object),
        "antiguedad": _either(sparse, "     NA", np.char.rjust(seniority.astype(str), 6)),
        "indrel": np.where(sparse, "NA", np.where(leaving, "99", "1")).astype(object),
        "ult_fec_cli_1t": np.where(leaving, last_day, "").astype(object),
        "indrel_1mes": np.where(sparse, "", indrel_1mes).astype(object),
        "tiprel_1mes": _either(sparse, "", np.where(people["active"][customers], "A", "I")),
        "renta": static["renta_test" if is_test else "renta_train"][customers],
    }
    for name in ("ncodpers", "ind_empleado", "pais_residencia", "sexo", "fecha_alta", "indresi",
                 "indext", "conyuemp", "canal_entrada", "indfall", "tipodom", "cod_prov",
                 "nomprov", "ind_actividad_cliente", "segmento"):  # fmt: skip
        columns[name] = static[name][customers]
    if not is_test:
        flags = held[month, customers]
        for index, product in enumerate(PRODUCTS):
            columns[product] = np.where(flags[:, index], "1", "0").astype(object)
        # Blank payroll flags only where neither is held: reading them as 0 is then right.
        payroll = [P["ind_nomina_ult1"], P["ind_nom_pens_ult1"]]
        missing_share = float(params["payroll_missing_share"])
        blank = ~flags[:, payroll].any(axis=1) & (rng.random(n) < missing_share)
        for index in payroll:
            columns[PRODUCTS[index]][blank] = "NA"
    return pd.DataFrame(columns)[TEST_COLUMNS if is_test else TRAIN_COLUMNS]


def _oracle(people, probability, month: int) -> pd.DataFrame:
    """Wide: fecha_dato, ncodpers and each product's true addition probability in ``month``
    for the customers present that month and the one before (the others add nothing)."""
    present = (people["entry"] < month) & (people["exit"] >= month)
    customers = np.flatnonzero(present)
    customers = customers[np.argsort(people["ncodpers"][customers])]
    oracle = pd.DataFrame(probability[month, customers], columns=PRODUCTS)
    oracle.insert(0, "ncodpers", people["ncodpers"][customers])
    oracle.insert(0, "fecha_dato", month_date(month))
    return oracle


def generate_santander(params: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """{"train", "test", "test_labels", "oracle"}: the raw train (17 months) and test
    (2016-06-28) frames as the CSV text, the test customers' June additions in the submission
    form and the oracle (``_oracle``) for the validation (May) and test (June) months."""
    for name in ("n_customers", "seed"):
        if name not in params:
            raise ValueError(f"banking_data.generator lacks parameter {name!r}")
    if int(params["n_customers"]) < 1:
        raise ValueError(
            f"banking_data.generator.n_customers must be >= 1, got {params['n_customers']!r}"
        )
    seed = int(params["seed"])
    people = _customers(np.random.default_rng([seed, 0]), params)
    held, probability = simulate_holdings(np.random.default_rng([seed, 1]), people, params)
    static = _per_customer(np.random.default_rng([seed, 2]), people, params)
    text_rng = np.random.default_rng([seed, 3])
    by_id = np.argsort(people["ncodpers"])
    months = []
    for month in range(TEST_MONTH + 1):
        present = (people["entry"][by_id] <= month) & (people["exit"][by_id] >= month)
        months.append(_rows(text_rng, people, static, held, by_id[present], month, params))
    test_customers = by_id[people["exit"][by_id] == TEST_MONTH]
    added = held[TEST_MONTH, test_customers] & ~held[TEST_MONTH - 1, test_customers]
    names = np.asarray(PRODUCTS, dtype=object)
    labels = pd.DataFrame(
        {
            "ncodpers": people["ncodpers"][test_customers],
            "added_products": [" ".join(names[row]) for row in added],
        }
    )[SUBMISSION_COLUMNS]
    oracle = pd.concat(
        [_oracle(people, probability, VALIDATION_MONTH), _oracle(people, probability, TEST_MONTH)],
        ignore_index=True,
    )
    return {
        "train": pd.concat(months[:TEST_MONTH], ignore_index=True),
        "test": months[TEST_MONTH],
        "test_labels": labels,
        "oracle": oracle,
    }
