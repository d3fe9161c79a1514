"""The GA4 BigQuery export schema as a pyarrow schema.

The generator writes exactly this shape, so the feature query runs unchanged on real
exports (``bq extract --destination_format=PARQUET`` of ``events_YYYYMMDD`` tables).
Field names and types follow the public GA4 export documentation.
"""

import pyarrow as pa

PARAM_VALUE = pa.struct(
    [
        ("string_value", pa.string()),
        ("int_value", pa.int64()),
        ("float_value", pa.float64()),
        ("double_value", pa.float64()),
    ]
)
KEY_VALUE_LIST = pa.list_(pa.struct([("key", pa.string()), ("value", PARAM_VALUE)]))
USER_PROPERTY_VALUE = pa.struct(
    [
        ("string_value", pa.string()),
        ("int_value", pa.int64()),
        ("float_value", pa.float64()),
        ("double_value", pa.float64()),
        ("set_timestamp_micros", pa.int64()),
    ]
)
ITEM = pa.struct(
    [
        ("item_id", pa.string()),
        ("item_name", pa.string()),
        ("item_brand", pa.string()),
        ("item_variant", pa.string()),
        ("item_category", pa.string()),
        ("item_category2", pa.string()),
        ("item_category3", pa.string()),
        ("item_category4", pa.string()),
        ("item_category5", pa.string()),
        ("price_in_usd", pa.float64()),
        ("price", pa.float64()),
        ("quantity", pa.int64()),
        ("item_revenue_in_usd", pa.float64()),
        ("item_revenue", pa.float64()),
        ("item_refund_in_usd", pa.float64()),
        ("item_refund", pa.float64()),
        ("coupon", pa.string()),
        ("affiliation", pa.string()),
        ("location_id", pa.string()),
        ("item_list_id", pa.string()),
        ("item_list_name", pa.string()),
        ("item_list_index", pa.string()),
        ("promotion_id", pa.string()),
        ("promotion_name", pa.string()),
        ("creative_name", pa.string()),
        ("creative_slot", pa.string()),
    ]
)

GA4_EVENT_SCHEMA = pa.schema(
    [
        ("event_date", pa.string()),
        ("event_timestamp", pa.int64()),
        ("event_name", pa.string()),
        ("event_params", KEY_VALUE_LIST),
        ("event_previous_timestamp", pa.int64()),
        ("event_value_in_usd", pa.float64()),
        ("event_bundle_sequence_id", pa.int64()),
        ("event_server_timestamp_offset", pa.int64()),
        ("user_id", pa.string()),
        ("user_pseudo_id", pa.string()),
        (
            "privacy_info",
            pa.struct(
                [
                    ("analytics_storage", pa.string()),
                    ("ads_storage", pa.string()),
                    ("uses_transient_token", pa.string()),
                ]
            ),
        ),
        (
            "user_properties",
            pa.list_(pa.struct([("key", pa.string()), ("value", USER_PROPERTY_VALUE)])),
        ),
        ("user_first_touch_timestamp", pa.int64()),
        ("user_ltv", pa.struct([("revenue", pa.float64()), ("currency", pa.string())])),
        (
            "device",
            pa.struct(
                [
                    ("category", pa.string()),
                    ("mobile_brand_name", pa.string()),
                    ("mobile_model_name", pa.string()),
                    ("mobile_marketing_name", pa.string()),
                    ("mobile_os_hardware_model", pa.string()),
                    ("operating_system", pa.string()),
                    ("operating_system_version", pa.string()),
                    ("vendor_id", pa.string()),
                    ("advertising_id", pa.string()),
                    ("language", pa.string()),
                    ("is_limited_ad_tracking", pa.string()),
                    ("time_zone_offset_seconds", pa.int64()),
                    (
                        "web_info",
                        pa.struct([("browser", pa.string()), ("browser_version", pa.string())]),
                    ),
                ]
            ),
        ),
        (
            "geo",
            pa.struct(
                [
                    ("continent", pa.string()),
                    ("sub_continent", pa.string()),
                    ("country", pa.string()),
                    ("region", pa.string()),
                    ("city", pa.string()),
                    ("metro", pa.string()),
                ]
            ),
        ),
        (
            "app_info",
            pa.struct(
                [
                    ("id", pa.string()),
                    ("version", pa.string()),
                    ("install_store", pa.string()),
                    ("firebase_app_id", pa.string()),
                    ("install_source", pa.string()),
                ]
            ),
        ),
        (
            "traffic_source",
            pa.struct([("name", pa.string()), ("medium", pa.string()), ("source", pa.string())]),
        ),
        ("stream_id", pa.int64()),
        ("platform", pa.string()),
        ("event_dimensions", pa.struct([("hostname", pa.string())])),
        (
            "ecommerce",
            pa.struct(
                [
                    ("total_item_quantity", pa.int64()),
                    ("purchase_revenue_in_usd", pa.float64()),
                    ("purchase_revenue", pa.float64()),
                    ("refund_value_in_usd", pa.float64()),
                    ("refund_value", pa.float64()),
                    ("shipping_value_in_usd", pa.float64()),
                    ("shipping_value", pa.float64()),
                    ("tax_value_in_usd", pa.float64()),
                    ("tax_value", pa.float64()),
                    ("unique_items", pa.int64()),
                    ("transaction_id", pa.string()),
                ]
            ),
        ),
        ("items", pa.list_(ITEM)),
    ]
)
