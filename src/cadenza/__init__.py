"""cadenza: diffusion models of music audio."""

from cadenza.sampling import METHODS, sample
from cadenza.schedules import schedule
from cadenza.version import __version__

TASKS = ("generate", "extend", "inpaint", "outpaint", "transfer", "interpolate")
"""What you do with a loaded model: ``cadenza.generate(model, 4.0)`` and so on (cadenza.tasks)."""

__all__ = ["METHODS", "TASKS", "__version__", "load", "sample", "schedule", *TASKS]


def load(path, device="cpu"):
    """Load a trained model folder as a pipeline (see ``cadenza.pipeline.load``)."""
    from cadenza.pipeline import load as load_pipeline  # heavy imports only when used

    return load_pipeline(path, device)


def __getattr__(name: str):
    if name in TASKS:  # imported on first use: tasks pull in the representations (librosa)
        from cadenza import tasks

        return getattr(tasks, name)
    raise AttributeError(f"module 'cadenza' has no attribute {name!r}")
