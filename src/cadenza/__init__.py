"""cadenza: diffusion models of music audio."""

from cadenza.sampling import METHODS, sample
from cadenza.schedules import schedule
from cadenza.version import __version__

__all__ = ["METHODS", "__version__", "load", "sample", "schedule"]


def load(path, device="cpu"):
    """Load a trained model folder as a pipeline (see ``cadenza.pipeline.load``)."""
    from cadenza.pipeline import load as load_pipeline  # heavy imports only when used

    return load_pipeline(path, device)
