"""Accelerate's private state reset, behind cadenza's one compatibility function."""

import pytest
from accelerate import Accelerator
from accelerate.state import AcceleratorState

from cadenza.accelerate_compat import reset_accelerate_state


def test_the_reset_lets_a_second_accelerator_use_another_precision():
    reset_accelerate_state()  # whatever earlier tests in this process left
    assert Accelerator(mixed_precision="no").mixed_precision == "no"
    # Without the reset, the installed Accelerate refuses: this is why the function exists.
    with pytest.raises(ValueError, match="already been initialized"):
        Accelerator(mixed_precision="bf16")
    reset_accelerate_state()
    assert Accelerator(mixed_precision="bf16").mixed_precision == "bf16"
    assert AcceleratorState().mixed_precision == "bf16"
    reset_accelerate_state()
