"""One folder per pipeline; ``pipeline_registry`` registers each ``create_pipeline`` by name."""
