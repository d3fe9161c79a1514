"""The raw files' contract: the H&M Kaggle columns each pipeline relies on, and their kinds."""

import pandas as pd

# column -> what it must hold (used in error messages and checked below).
ARTICLES = {
    "article_id": "10-digit string with leading zero (e.g. 0108775015)",
    "product_code": "integer",
    "prod_name": "text",
    "product_type_no": "integer",
    "product_type_name": "text",
    "product_group_name": "text",
    "graphical_appearance_no": "integer",
    "graphical_appearance_name": "text",
    "colour_group_code": "integer",
    "colour_group_name": "text",
    "perceived_colour_value_id": "integer",
    "perceived_colour_value_name": "text",
    "perceived_colour_master_id": "integer",
    "perceived_colour_master_name": "text",
    "department_no": "integer",
    "department_name": "text",
    "index_code": "text",
    "index_name": "text",
    "index_group_no": "integer",
    "index_group_name": "text",
    "section_no": "integer",
    "section_name": "text",
    "garment_group_no": "integer",
    "garment_group_name": "text",
    "detail_desc": "text (may be empty)",
}
CUSTOMERS = {
    "customer_id": "64-character hexadecimal string",
    "FN": "1.0 or empty",
    "Active": "1.0 or empty",
    "club_member_status": "text (may be empty)",
    "fashion_news_frequency": "text (may be empty)",
    "age": "number (may be empty)",
    "postal_code": "text",
}
TRANSACTIONS = {
    "t_dat": "date YYYY-MM-DD",
    "customer_id": "64-character hexadecimal string (a customer of customers.csv)",
    "article_id": "10-digit string with leading zero (an article of articles.csv)",
    "price": "number",
    "sales_channel_id": "integer 1 or 2",
}
FILES = {
    "articles": "articles.csv",
    "customers": "customers.csv",
    "transactions": "transactions_train.csv",
}
ID_HINT = (
    "Read it as a string: the catalog entry needs load_args: {dtype: {article_id: str}} "
    "(conf/base/catalog_data_generation.yml), or pandas.read_csv(..., dtype={'article_id': str})"
)


def require_columns(data: pd.DataFrame, contract: dict[str, str], dataset: str) -> None:
    """Fail naming the file, every missing column and what it should hold."""
    missing = [column for column in contract if column not in data.columns]
    if missing:
        expected = "; ".join(f"'{column}' ({contract[column]})" for column in missing)
        raise ValueError(
            f"{FILES[dataset]} lacks column(s) {expected}. It has {sorted(map(str, data.columns))}"
        )


def article_ids(values: pd.Series, dataset: str) -> tuple[pd.Series, int]:
    """10-character article ids, and how many had lost their leading zero (then repaired).

    Ids read as numbers fail (their zeros are gone and the catalog must read them as text);
    ids of 9 digits read as text (a file re-saved by a spreadsheet) are padded and counted.
    """
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        raise ValueError(
            f"{FILES[dataset]}: column 'article_id' was read as {values.dtype}, so its leading "
            f"zeros are lost (e.g. {values.iloc[0] if len(values) else '?'} instead of a "
            f"10-digit id). {ID_HINT}"
        )
    text = values.astype(str).str.strip()
    bad = ~text.str.fullmatch(r"\d{9,10}")
    if bad.any():
        raise ValueError(
            f"{FILES[dataset]}: column 'article_id' must hold 10-digit ids with leading zero; "
            f"{int(bad.sum())} value(s) do not, e.g. {text[bad].head(3).tolist()}"
        )
    short = text.str.len() == 9
    return text.str.zfill(10), int(short.sum())
