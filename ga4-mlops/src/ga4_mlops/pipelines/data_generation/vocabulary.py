"""Vocabularies and constants of the simulated export: values as in the public GA4 sample."""

from __future__ import annotations

SECONDS_PER_DAY = 86_400
ENGAGED_SECONDS = 10  # GA4: a session is engaged after 10 s, 2 page views or a conversion
MICROS = 1_000_000
STREAM_ID = 2_100_450_278
SITE = "https://shop.googlemerchandisestore.com"
DEVICE_CATEGORIES = ("desktop", "mobile", "tablet")
MEDIUMS = ("organic", "(none)", "referral", "cpc", "<Other>", "(data deleted)")
TARGET_EVENTS = ("purchase", "add_to_cart")
FUNNEL_STEPS = (
    "view_item",
    "add_to_cart",
    "begin_checkout",
    "add_shipping_info",
    "add_payment_info",
    "purchase",
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAY_COLUMNS = tuple(f"rate_multiplier_{day}" for day in WEEKDAYS)


# (category, operating_system, operating_system_version, mobile_brand_name,
#  mobile_model_name, browser, browser_version, share within the category)
DEVICE_PROFILES = (
    ("desktop", "Windows", "Windows 10", "Microsoft", "Chrome", "Chrome", "87.0", 0.30),
    ("desktop", "Windows", "<Other>", "<Other>", "Edge", "Edge", "87.0", 0.06),
    ("desktop", "Windows", "Windows 10", "<Other>", "Firefox", "Firefox", "84.0", 0.04),
    ("desktop", "Macintosh", "Macintosh Intel 10.15", "Apple", "Chrome", "Chrome", "87.0", 0.22),
    ("desktop", "Macintosh", "Macintosh Intel 10.15", "Apple", "Safari", "Safari", "14.0", 0.12),
    ("desktop", "Linux", "<Other>", "<Other>", "Chrome", "Chrome", "87.0", 0.08),
    ("desktop", "Chrome OS", "<Other>", "Google", "Chrome", "Chrome", "87.0", 0.08),
    ("desktop", "Web", "(not set)", "(not set)", "(not set)", "<Other>", "<Other>", 0.05),
    ("desktop", "<Other>", "<Other>", "<Other>", "<Other>", "<Other>", "<Other>", 0.05),
    ("mobile", "iOS", "iOS 14.2", "Apple", "iPhone", "Safari", "14.0", 0.36),
    ("mobile", "iOS", "iOS 14.3", "Apple", "iPhone", "Chrome", "87.0", 0.16),
    ("mobile", "Android", "Android 10", "Google", "Pixel 4", "Chrome", "87.0", 0.14),
    ("mobile", "Android", "Android 10", "Samsung", "<Other>", "Chrome", "87.0", 0.20),
    ("mobile", "Android", "<Other>", "<Other>", "<Other>", "Samsung Internet", "<Other>", 0.08),
    ("mobile", "<Other>", "<Other>", "<Other>", "<Other>", "<Other>", "<Other>", 0.06),
    ("tablet", "iOS", "iOS 14.2", "Apple", "iPad", "Safari", "14.0", 0.65),
    ("tablet", "Android", "<Other>", "Samsung", "<Other>", "Chrome", "87.0", 0.30),
    ("tablet", "<Other>", "<Other>", "<Other>", "<Other>", "<Other>", "<Other>", 0.05),
)
LANGUAGES = (("en-us", 0.55), ("en-gb", 0.06), ("en-ca", 0.04), ("zh-cn", 0.04),
             ("es-es", 0.03), ("fr-fr", 0.03), ("de-de", 0.02), ("<Other>", 0.20),
             ("(not set)", 0.03))  # fmt: skip

# (continent, sub_continent, country, region, city, share). Rare places are "<Other>".
GEO_PLACES = (
    ("Americas", "Northern America", "United States", "California", "Mountain View", 0.06),
    ("Americas", "Northern America", "United States", "California", "San Jose", 0.04),
    ("Americas", "Northern America", "United States", "California", "Los Angeles", 0.04),
    ("Americas", "Northern America", "United States", "New York", "New York", 0.06),
    ("Americas", "Northern America", "United States", "Texas", "Dallas", 0.03),
    ("Americas", "Northern America", "United States", "Washington", "Seattle", 0.03),
    ("Americas", "Northern America", "United States", "Illinois", "Chicago", 0.03),
    ("Americas", "Northern America", "United States", "(not set)", "(not set)", 0.09),
    ("Americas", "Northern America", "United States", "<Other>", "<Other>", 0.06),
    ("Americas", "Northern America", "Canada", "Ontario", "Toronto", 0.04),
    ("Americas", "Northern America", "Canada", "(not set)", "(not set)", 0.03),
    ("Asia", "Southern Asia", "India", "Karnataka", "Bengaluru", 0.04),
    ("Asia", "Southern Asia", "India", "(not set)", "(not set)", 0.05),
    ("Europe", "Northern Europe", "United Kingdom", "England", "London", 0.03),
    ("Europe", "Northern Europe", "United Kingdom", "(not set)", "(not set)", 0.02),
    ("Europe", "Western Europe", "France", "(not set)", "(not set)", 0.02),
    ("Europe", "Western Europe", "Germany", "(not set)", "(not set)", 0.02),
    ("Europe", "Southern Europe", "Spain", "Madrid", "Madrid", 0.02),
    ("Europe", "Southern Europe", "Italy", "(not set)", "(not set)", 0.01),
    ("Europe", "Western Europe", "Netherlands", "(not set)", "(not set)", 0.01),
    ("Asia", "Eastern Asia", "Taiwan", "(not set)", "(not set)", 0.02),
    ("Asia", "Eastern Asia", "Japan", "Tokyo", "(data deleted)", 0.02),
    ("Asia", "Eastern Asia", "China", "(not set)", "(not set)", 0.02),
    ("Asia", "South-Eastern Asia", "Singapore", "(not set)", "Singapore", 0.02),
    ("Oceania", "Australasia", "Australia", "(not set)", "(not set)", 0.02),
    ("Americas", "South America", "Brazil", "(not set)", "(not set)", 0.02),
    ("Americas", "Central America", "Mexico", "(not set)", "(not set)", 0.01),
    ("Asia", "Western Asia", "Turkey", "(not set)", "(not set)", 0.02),
    ("Africa", "Western Africa", "Nigeria", "(not set)", "(not set)", 0.01),
    ("(not set)", "(not set)", "(not set)", "(not set)", "(not set)", 0.01),
    ("<Other>", "<Other>", "<Other>", "<Other>", "<Other>", 0.06),
)

# First-touch acquisition (traffic_source.name, .medium, .source, share).
TRAFFIC_SOURCES = (
    ("(organic)", "organic", "google", 0.27),
    ("(organic)", "organic", "<Other>", 0.03),
    ("(direct)", "(none)", "(direct)", 0.22),
    ("(referral)", "referral", "shop.googlemerchandisestore.com", 0.07),
    ("(referral)", "referral", "analytics.google.com", 0.03),
    ("(referral)", "referral", "<Other>", 0.04),
    ("<Other>", "cpc", "google", 0.04),
    ("Data Share Promo", "cpc", "google", 0.01),
    ("<Other>", "<Other>", "<Other>", 0.16),
    ("(data deleted)", "(data deleted)", "(data deleted)", 0.13),
)
REFERRER_BY_SOURCE = {
    "google": "https://www.google.com/",
    "analytics.google.com": "https://analytics.google.com/",
    "shop.googlemerchandisestore.com": "https://shop.googlemerchandisestore.com/",
}
ITEM_CATEGORIES = ("Apparel", "Bags", "Drinkware", "Office", "Lifestyle", "Electronics",
                   "Accessories", "Stationery", "Campus Collection", "New")  # fmt: skip
ITEM_NOUNS = ("Tee", "Hoodie", "Cap", "Backpack", "Tote", "Water Bottle", "Mug", "Notebook",
              "Pen Set", "Sticker Sheet", "Socks", "Beanie", "Charger", "Sunglasses", "Lanyard",
              "Umbrella", "Journal", "Tumbler", "Sweatshirt", "Jacket")  # fmt: skip
ITEM_ADJECTIVES = ("Navy", "Black", "Red", "Green", "Blue", "White", "Speckled", "Classic",
                   "Recycled", "Eco", "Cloud", "Android", "YouTube", "Chrome Dino", "Campus",
                   "Striped", "Heathered", "Vintage", "Super G", "Bold")  # fmt: skip

# Event names (codes are positions in this tuple).
EVENT_NAMES = (
    "first_visit",
    "session_start",
    "page_view",
    "view_promotion",
    "select_promotion",
    "view_item_list",
    "select_item",
    "view_search_results",
    "view_item",
    "add_to_cart",
    "begin_checkout",
    "add_shipping_info",
    "add_payment_info",
    "purchase",
    "scroll",
    "user_engagement",
)
EVENT_CODE = {name: code for code, name in enumerate(EVENT_NAMES)}
SINGLE_ITEM_EVENTS = ("view_item", "select_item", "add_to_cart")
CART_EVENTS = ("begin_checkout", "add_shipping_info", "add_payment_info", "purchase")

# Pages of a session, in the order a session walks through them.
LANDING, BROWSE, PRODUCT, CART, CHECKOUT, CONFIRMATION = range(6)
# Event slots of a page, in firing order.
SLOT_FIRST_VISIT, SLOT_SESSION_START, SLOT_PAGE_VIEW, SLOT_MAIN, SLOT_SECONDARY = range(5)
SLOT_SCROLL, SLOT_ENGAGEMENT = 5, 6
N_SLOTS = 7
# The event a page type fires after its page_view, and the optional one after that
# ("page_view" where a page has none: the slot is never present there).
MAIN_EVENT_BY_PAGE = ("view_promotion", "view_item_list", "view_item", "begin_checkout",
                      "add_shipping_info", "purchase")  # fmt: skip
SECONDARY_EVENT_BY_PAGE = ("select_promotion", "select_item", "add_to_cart", "page_view",
                           "add_payment_info", "page_view")  # fmt: skip
PARAM_KEYS = (
    "ga_session_id",
    "ga_session_number",
    "page_location",
    "page_title",
    "page_referrer",
    "entrances",
    "source",
    "medium",
    "campaign",
    "session_engaged",
    "engagement_time_msec",
    "percent_scrolled",
)
STRING_PARAMS = {"page_location", "page_title", "page_referrer", "source", "medium",
                 "campaign", "session_engaged"}  # fmt: skip


DEVICE_CATEGORY_SHARES = (0.57, 0.40, 0.03)
# Share of single-session starts per UTC hour: the store's visitors are mostly American.
DIURNAL_UTC = (4, 3, 2, 2, 2, 2, 2, 2, 2, 3, 3, 4, 4, 5, 6, 7, 7, 7, 7, 6, 6, 5, 5, 5)
TRAFFIC_MEDIUM = tuple(MEDIUMS.index(medium) for _, medium, _, _ in TRAFFIC_SOURCES)
PARAMETER_GROUPS = ("users", "visits", "funnel", "session")
N_RANDOM_STREAMS = {
    "users": 0,
    "plan": 1,
    "day": 2,
    "catalogue": 3,
    "drift": 4,
    "taste": 5,  # each user's favourite category
    "taste_day": 6,  # which pages of a day follow the taste (drawn only when it is > 0)
}


def event_code(name: str) -> int:
    return EVENT_CODE[name]
