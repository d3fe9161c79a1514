"""Where the models run: the GPU when torch sees one (Vertex AI), else the CPU."""

import torch


def select_device(requested: str = "auto", setting: str = "model_training.device") -> torch.device:
    """``auto``: the GPU when one is present, else the CPU; or exactly what is asked
    (``setting`` names the parameter in the error)."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(requested)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"params {setting} is '{requested}' but torch sees no CUDA device; "
            "use 'auto' (GPU when present, else CPU) or 'cpu'"
        )
    return device
