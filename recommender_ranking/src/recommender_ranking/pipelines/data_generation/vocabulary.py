"""H&M vocabularies: names with the numeric codes the Kaggle files pair them with.

Codes follow the real files where known (product types, colour groups, graphical
appearances, index and garment groups); the pairing name <-> code is one-to-one, as in the
real data, so a model or a check can use either.
"""

# product_group_name -> [(product_type_no, product_type_name, garment_group_no,
# garment_group_name, base price)]; prices are in H&M's normalised unit (about 0.0-0.6).
PRODUCT_GROUPS: dict[str, list[tuple[int, str, int, str, float]]] = {
    "Garment Upper body": [
        (255, "T-shirt", 1002, "Jersey Basic", 0.015),
        (253, "Vest top", 1002, "Jersey Basic", 0.012),
        (252, "Sweater", 1003, "Knitwear", 0.035),
        (258, "Blouse", 1010, "Blouses", 0.03),
        (245, "Hoodie", 1005, "Jersey Fancy", 0.033),
        (264, "Jacket", 1007, "Outdoor", 0.06),
    ],
    "Garment Lower body": [
        (272, "Trousers", 1009, "Trousers", 0.035),
        (274, "Shorts", 1025, "Shorts", 0.02),
        (275, "Skirt", 1012, "Skirts", 0.025),
    ],
    "Garment Full body": [
        (265, "Dress", 1013, "Dresses Ladies", 0.04),
        (267, "Jumpsuit/Playsuit", 1013, "Dresses Ladies", 0.038),
    ],
    "Underwear": [
        (306, "Bra", 1017, "Under-, Nightwear", 0.022),
        (286, "Underwear bottom", 1017, "Under-, Nightwear", 0.01),
        (302, "Socks", 1021, "Socks and Tights", 0.008),
    ],
    "Accessories": [
        (66, "Bag", 1019, "Accessories", 0.03),
        (83, "Scarf", 1019, "Accessories", 0.02),
        (87, "Hat/beanie", 1019, "Accessories", 0.015),
    ],
    "Shoes": [
        (93, "Sneakers", 1020, "Shoes", 0.05),
        (91, "Boots", 1020, "Shoes", 0.07),
        (95, "Sandals", 1020, "Shoes", 0.03),
    ],
    "Swimwear": [
        (298, "Bikini top", 1018, "Swimwear", 0.018),
        (59, "Swimwear bottom", 1018, "Swimwear", 0.012),
    ],
    "Nightwear": [
        (94, "Pyjama set", 1017, "Under-, Nightwear", 0.03),
        (98, "Robe", 1017, "Under-, Nightwear", 0.035),
    ],
}

# Week of the year (0-51) when each group sells best, and how strongly (0: no season).
GROUP_SEASON_PEAK: dict[str, tuple[int, float]] = {
    "Garment Upper body": (44, 0.2),
    "Garment Lower body": (38, 0.1),
    "Garment Full body": (24, 0.4),
    "Underwear": (0, 0.0),
    "Accessories": (48, 0.3),
    "Shoes": (40, 0.2),
    "Swimwear": (26, 1.0),
    "Nightwear": (50, 0.4),
}

# (colour_group_code, colour_group_name, perceived value id/name, perceived master id/name, RGB)
COLOURS: list[tuple[int, str, int, str, int, str, tuple[int, int, int]]] = [
    (9, "Black", 4, "Dark", 5, "Black", (20, 20, 20)),
    (10, "White", 3, "Light", 9, "White", (240, 240, 240)),
    (11, "Off White", 1, "Dusty Light", 11, "Beige", (225, 218, 200)),
    (7, "Grey", 2, "Medium Dusty", 12, "Grey", (128, 128, 128)),
    (13, "Beige", 1, "Dusty Light", 11, "Beige", (200, 180, 140)),
    (73, "Dark Blue", 4, "Dark", 2, "Blue", (25, 35, 90)),
    (71, "Light Blue", 3, "Light", 2, "Blue", (150, 190, 230)),
    (42, "Red", 5, "Bright", 18, "Red", (200, 30, 40)),
    (52, "Pink", 3, "Light", 4, "Pink", (240, 160, 190)),
    (62, "Dark Green", 4, "Dark", 19, "Green", (20, 80, 40)),
    (17, "Yellowish Brown", 2, "Medium Dusty", 3, "Mole", (150, 110, 50)),
    (8, "Dark Grey", 4, "Dark", 12, "Grey", (70, 70, 70)),
    (23, "Dark Yellow", 5, "Bright", 8, "Yellow", (210, 170, 20)),
    (82, "Turquoise", 5, "Bright", 7, "Turquoise", (40, 190, 180)),
]

# (graphical_appearance_no, graphical_appearance_name, image pattern, words for detail_desc)
APPEARANCES: list[tuple[int, str, str, str]] = [
    (1010016, "Solid", "solid", "plain"),
    (1010017, "Stripe", "stripe", "striped"),
    (1010001, "All over pattern", "pattern", "patterned"),
    (1010010, "Melange", "melange", "marled"),
    (1010004, "Check", "check", "checked"),
    (1010008, "Dot", "dot", "dotted"),
    (1010014, "Placement print", "print", "printed-motif"),
]
# Solid is far more common than any pattern, as in the real catalogue.
APPEARANCE_WEIGHTS = [0.45, 0.12, 0.12, 0.1, 0.08, 0.06, 0.07]

# (index_code, index_name, index_group_no, index_group_name, typical customer age)
INDEXES: list[tuple[str, str, int, str, float]] = [
    ("A", "Ladieswear", 1, "Ladieswear", 40.0),
    ("B", "Lingeries/Tights", 1, "Ladieswear", 35.0),
    ("D", "Divided", 2, "Divided", 22.0),
    ("F", "Menswear", 3, "Menswear", 35.0),
    ("H", "Children Sizes 92-140", 4, "Baby/Children", 33.0),
    ("S", "Sport", 26, "Sport", 30.0),
]

# The pieces product names and descriptions are built from.
NAME_WORDS = [
    "Ellie", "Tilly", "Luna", "Marvin", "Pluto", "Jade", "Nora", "Sam", "Rio", "Ivy",
    "Bowie", "Dora", "Felix", "Hugo", "Kim", "Lola", "Milo", "Nova", "Otis", "Zoe",
]  # fmt: skip
MATERIALS = ["cotton jersey", "soft knit", "woven fabric", "denim", "recycled polyester",
             "linen blend", "viscose", "fine-knit fabric"]  # fmt: skip
FEATURES = ["a round neckline", "long sleeves", "short sleeves", "an elasticated waist",
            "side pockets", "a wrapover front", "a zip at the back", "buttons down the front",
            "a relaxed fit", "a slim fit", "narrow shoulder straps", "a hood"]  # fmt: skip

# Customer vocabularies (shares roughly as in customers.csv).
CLUB_STATUS = (["ACTIVE", "PRE-CREATE", "LEFT CLUB", None], [0.92, 0.067, 0.003, 0.01])
NEWS_FREQUENCY = (["NONE", "Regularly", "Monthly", None], [0.63, 0.35, 0.005, 0.015])
