"""The month graph by hand: edges and features come from months before the target month and
its own attributes only; a product held only in the target month is neither an edge nor a
feature, and the additions of that month are the targets."""

import numpy as np
import pandas as pd

from recommender_gnn.models.banking_gnn.graph import build_month_graph, fit_encoder
from recommender_gnn.pipelines.banking_data.contract import PRODUCTS

CCO, RECIBO, TJCR, CTMA = (
    PRODUCTS.index(f"ind_{name}_ult1") for name in ("cco_fin", "recibo", "tjcr_fin", "ctma_fin")
)


def row(customer: int, month: int, held=(), age: float = 40.0) -> dict:
    return {
        "customer": customer, "month": month, "age": age, "antiguedad": 10.0, "renta": 5e4,
        "ind_nuevo": 0.0, "ind_actividad_cliente": 1.0, "indrel": 1.0, "sexo": "V",
        "segmento": "02 - PARTICULARES", "canal_entrada": "KHE", "ind_empleado": "N",
        "indext": "N", "indresi": "S", "tiprel_1mes": "A", "indrel_1mes": "1",
        "pais_residencia": "ES", "nomprov": "MADRID", "indfall": "N",
        **{product: np.int8(index in held) for index, product in enumerate(PRODUCTS)},
    }  # fmt: skip


def table(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame["customer"] = frame["customer"].astype("int32")
    return frame


def tiny() -> pd.DataFrame:
    """Customer 1: a current account throughout, direct debits added in month 1, a card held
    only in month 2 (the target). Customer 2: deposits in month 0, dropped in month 1.
    Customer 3: first seen in month 2."""
    return table(
        [
            row(1, 0, {CCO}), row(1, 1, {CCO, RECIBO}), row(1, 2, {CCO, RECIBO, TJCR}, age=41),
            row(2, 0, {CTMA}, age=70), row(2, 1, set(), age=70), row(2, 2, set(), age=70),
            row(3, 2, {CCO}, age=20),
        ]
    )  # fmt: skip


def edges(graph) -> set[tuple[int, int, tuple[float, ...]]]:
    return {
        (int(graph.customers[r]), int(p), tuple(a))
        for r, p, a in zip(graph.edge_row, graph.edge_product, graph.edge_attr, strict=True)
    }


def test_edges_are_the_holdings_of_the_months_before_the_target():
    history = tiny()
    graph = build_month_graph(history, 2, fit_encoder(history), lags=2, labelled=True)
    assert graph.customers.tolist() == [1, 2]  # customer 3 is not in month 1
    # flags: (held in month 1, held in month 0): held since, added last month, dropped
    assert edges(graph) == {(1, CCO, (1.0, 1.0)), (1, RECIBO, (1.0, 0.0)), (2, CTMA, (0.0, 1.0))}
    assert graph.held_last[0, [CCO, RECIBO]].tolist() == [1, 1]
    assert graph.held_last[1].sum() == 0  # the dropped product is an edge, not a holding
    assert np.flatnonzero(graph.targets[0]).tolist() == [TJCR]  # added in month 2
    assert graph.targets[1].sum() == 0


def test_a_product_held_only_in_the_target_month_is_neither_edge_nor_feature():
    history = tiny()
    encoder = fit_encoder(history)
    graph = build_month_graph(history, 2, encoder, lags=2)
    assert not any(product == TJCR for _, product, _ in edges(graph))
    planted = history.copy()
    planted.loc[planted["month"] == 2, PRODUCTS] = 1  # every product held in month 2
    again = build_month_graph(planted, 2, encoder, lags=2)
    assert edges(again) == edges(graph)
    np.testing.assert_array_equal(again.x, graph.x)
    np.testing.assert_array_equal(again.held_last, graph.held_last)


def test_attributes_are_those_of_the_target_month_with_the_previous_as_fallback():
    history = tiny()
    encoder = fit_encoder(history)
    graph = build_month_graph(history, 2, encoder, lags=2)
    older = history.copy()
    older.loc[older["month"] == 2, "age"] = 18.0  # the target month's age is what counts
    assert not np.array_equal(build_month_graph(older, 2, encoder, lags=2).x, graph.x)
    test_rows = history[history["month"] == 2].drop(columns=PRODUCTS)
    from_test = build_month_graph(history[history["month"] < 2], 2, encoder, 2, test_rows)
    np.testing.assert_array_equal(from_test.x, graph.x)
    # Without a month-2 row a customer keeps its month-1 attributes (age 40, not 41).
    fallback = build_month_graph(history[history["month"] < 2], 2, encoder, lags=2)
    expected = build_month_graph(history, 1, encoder, lags=2)  # the month-1 attributes
    age = 0  # the first feature: standardised age
    np.testing.assert_allclose(fallback.x[:, age], expected.x[[0, 1], age])
