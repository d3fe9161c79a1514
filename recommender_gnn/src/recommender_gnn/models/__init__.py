"""Model code that several pipelines use (training, tuning, inference, registry, hm_sequences):
beside ``pipelines/``, so no pipeline imports another one's internals."""
