"""Dataset classes that kedro-datasets has no equivalent for."""
