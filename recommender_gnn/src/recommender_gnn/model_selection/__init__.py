"""What every model is chosen by: the seen-item policy, tuning on validation, intervals."""
