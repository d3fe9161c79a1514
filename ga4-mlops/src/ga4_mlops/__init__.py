"""ga4-mlops: propensity to buy on Google Analytics 4 e-commerce export data."""

__version__ = "0.1.0"
