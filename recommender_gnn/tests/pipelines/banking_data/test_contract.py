"""clean_santander reads the real file's quirks and rejects what is not the format, naming the
dataset, the column and the expectation; added_products follows each customer's own months."""

import numpy as np
import pandas as pd
import pytest

from recommender_gnn.pipelines.banking_data.contract import (
    PRODUCTS,
    TEST_COLUMNS,
    TRAIN_COLUMNS,
    added_products,
    clean_santander,
)


def raw_train(rows: int = 4) -> pd.DataFrame:
    """A hand-made raw train frame (every value as the CSV text), one customer per row."""
    frame = pd.DataFrame({column: ["0"] * rows for column in TRAIN_COLUMNS}, dtype=object)
    frame["fecha_dato"] = ["2015-01-28", "2015-06-28", "2016-05-28", "2016-05-28"][:rows]
    frame["ncodpers"] = ["15889", " 1050611", "1553689", "15890"][:rows]
    frame["age"] = [" 35", "NA", "  8", " NA"][:rows]
    frame["antiguedad"] = ["     6", "     NA", "-999999", "35"][:rows]
    frame["renta"] = ["87218.10", "NA", np.nan, "   326124.90"][:rows]
    frame["indrel_1mes"] = ["1", "1.0", "P", np.nan][:rows]
    frame["fecha_alta"] = ["2015-01-12", "", "2012-08-10", "NA"][:rows]
    frame["ult_fec_cli_1t"] = [np.nan, "2015-07-02", "", ""][:rows]
    frame["nomprov"] = ["CORUÑA, A", "MADRID", "", "CORUÑA, A"][:rows]
    frame["segmento"] = ["02 - PARTICULARES", "01 - TOP", np.nan, "02 - PARTICULARES"][:rows]
    frame["ind_cco_fin_ult1"] = ["1", "0", " 1", "1.0"][:rows]
    frame["ind_nomina_ult1"] = ["1", "NA", np.nan, "0"][:rows]
    frame["ind_nom_pens_ult1"] = ["1", "NA", np.nan, "0.0"][:rows]
    return frame


def test_quirks_are_parsed_into_the_typed_table():
    clean = clean_santander(raw_train(), "train_ver2", has_products=True)
    assert clean["customer"].dtype == "int32" and clean["month"].dtype == "int16"
    # Sorted by month, then customer.
    assert clean["month"].tolist() == [0, 5, 16, 16]
    assert clean["customer"].tolist() == [15889, 1050611, 15890, 1553689]
    assert clean["fecha_dato"].dt.strftime("%Y-%m-%d").tolist()[1] == "2015-06-28"
    np.testing.assert_array_equal(clean["age"].to_numpy(), np.array([35, np.nan, np.nan, 8]))
    np.testing.assert_array_equal(clean["antiguedad"], [6, np.nan, 35, -999999])
    assert clean["age"].dtype == "float32" and clean["renta"].dtype == "float32"
    np.testing.assert_allclose(clean["renta"], [87218.1, np.nan, 326124.9, np.nan], rtol=1e-6)
    assert clean["indrel_1mes"].astype(object).tolist()[:3] == ["1", "1", np.nan]
    assert clean["indrel_1mes"].astype(object).tolist()[3] == "P"
    assert isinstance(clean["nomprov"].dtype, pd.CategoricalDtype)
    assert clean["nomprov"].astype(object).tolist() == ["CORUÑA, A", "MADRID", "CORUÑA, A", np.nan]
    assert clean["fecha_alta"].isna().tolist() == [False, True, True, False]
    assert clean["ult_fec_cli_1t"].notna().tolist() == [False, True, False, False]
    assert clean["ind_cco_fin_ult1"].tolist() == [1, 0, 1, 1]
    assert (clean[PRODUCTS].dtypes == "int8").all()
    assert clean["ind_nomina_ult1"].tolist() == [1, 0, 0, 0]  # missing -> 0
    assert clean["payroll_flags_missing"].tolist() == [False, True, False, True]
    assert list(clean.columns[:3]) == ["month", "fecha_dato", "customer"]


def test_test_frame_has_no_product_columns():
    raw = raw_train()[TEST_COLUMNS].assign(fecha_dato="2016-06-28")
    clean = clean_santander(raw, "test_ver2", has_products=False)
    assert (clean["month"] == 17).all()
    assert not set(PRODUCTS) & set(clean.columns)
    assert "payroll_flags_missing" not in clean.columns


def test_missing_column_is_named():
    raw = raw_train().drop(columns=["ind_recibo_ult1"])
    with pytest.raises(ValueError, match=r"train_ver2 lacks column\(s\) \['ind_recibo_ult1'\]"):
        clean_santander(raw, "train_ver2", has_products=True)


@pytest.mark.parametrize("date", ["2015-02-27", "28/02/2015", "2014-12-28", ""])
def test_snapshot_dates_must_be_on_the_28th(date):
    raw = raw_train()
    raw.loc[1, "fecha_dato"] = date
    pattern = r"train_ver2: column 'fecha_dato' must hold a date on the 28th from 2015-01-28"
    with pytest.raises(ValueError, match=pattern) as error:
        clean_santander(raw, "train_ver2", has_products=True)
    assert "in 1 row(s)" in str(error.value)


def test_customer_ids_must_be_integers():
    raw = raw_train()
    raw.loc[2, "ncodpers"] = "1553689.5"
    with pytest.raises(ValueError, match=r"test_ver2: column 'ncodpers' must hold a positive "
                       r"integer customer id .*found \['1553689.5'\]"):  # fmt: skip
        clean_santander(raw[TEST_COLUMNS], "test_ver2", has_products=False)


def test_product_flags_must_be_zero_one_or_blank():
    raw = raw_train()
    raw.loc[0, "ind_tjcr_fin_ult1"] = "2"
    with pytest.raises(ValueError, match=r"train_ver2: column 'ind_tjcr_fin_ult1' must hold a "
                       r"product flag 0, 1 or blank; found \['2'\]"):  # fmt: skip
        clean_santander(raw, "train_ver2", has_products=True)


def test_customer_and_month_pairs_must_be_unique():
    raw = raw_train()
    raw.loc[3, "ncodpers"] = "1553689"  # same month as row 2
    with pytest.raises(ValueError, match=r"train_ver2: \(fecha_dato, ncodpers\) must be unique"):
        clean_santander(raw, "train_ver2", has_products=True)


def test_numbers_and_indrel_1mes_outside_the_format_are_rejected():
    raw = raw_train()
    raw.loc[0, "age"] = "thirty"
    with pytest.raises(ValueError, match=r"column 'age' must hold a number, blank or NA"):
        clean_santander(raw, "train_ver2", has_products=True)
    raw = raw_train()
    raw.loc[0, "indrel_1mes"] = "5"
    with pytest.raises(ValueError, match=r"column 'indrel_1mes' must hold one of"):
        clean_santander(raw, "train_ver2", has_products=True)


def history(rows) -> pd.DataFrame:
    """(customer, month, products held) -> a canonical-like frame."""
    frame = pd.DataFrame(0, index=range(len(rows)), columns=PRODUCTS, dtype="int8")
    frame.insert(0, "month", [month for _, month, _ in rows])
    frame.insert(0, "customer", [customer for customer, _, _ in rows])
    for index, (_, _, held) in enumerate(rows):
        frame.loc[index, list(held)] = 1
    return frame.sample(frac=1, random_state=3)  # order must not matter


def test_added_products_compare_each_customer_with_their_previous_month():
    cco, recibo, reca = "ind_cco_fin_ult1", "ind_recibo_ult1", "ind_reca_fin_ult1"
    held = history(
        [
            (1, 0, [cco, recibo]),  # first month: adds nothing
            (1, 1, [cco]),  # recibo dropped
            (1, 2, [cco, recibo, reca]),  # recibo re-added, reca added
            (2, 3, [cco]),  # enters mid-history: adds nothing
            (2, 5, [cco, reca]),  # gap: compared with month 3
            (3, 0, [recibo]),
            (3, 1, [recibo]),  # nothing new
        ]
    )
    added = added_products(held)
    assert list(added.columns) == ["customer", "month", "product"]
    # In PRODUCTS order within a (customer, month): reca comes before recibo.
    assert added.to_numpy().tolist() == [[1, 2, reca], [1, 2, recibo], [2, 5, reca]]
