"""One folder per pipeline; ``find_pipelines`` registers each ``create_pipeline``."""
