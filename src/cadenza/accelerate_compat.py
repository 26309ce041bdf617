"""The one place cadenza reaches into Accelerate's private state."""

from __future__ import annotations


def reset_accelerate_state() -> None:
    """Forget this process's ``AcceleratorState``, so that the next ``Accelerator`` may use
    another mixed precision.

    Accelerate keeps one state per process and refuses a second ``Accelerator`` with another
    precision, which a notebook or test that trains a bf16 model and then an fp32 one needs.
    Accelerate has no public way to reset it; its private ``AcceleratorState._reset_state`` is
    what its own tests use. Call it only in a single-process run: launched processes share it.
    """
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state()
