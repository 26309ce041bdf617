"""Choosing a renderer."""

import pytest

from cadenza.data.renderers import resolve_renderer


def test_unknown_renderer_is_an_error():
    with pytest.raises(ValueError, match="renderer"):
        resolve_renderer("timidity")
    assert resolve_renderer("synth") == "synth"
