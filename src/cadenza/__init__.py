"""cadenza: diffusion models of music audio."""

from cadenza.sampling import METHODS, sample
from cadenza.schedules import schedule

__version__ = "0.1.0"
__all__ = ["METHODS", "__version__", "sample", "schedule"]
