"""Typed settings: defaults stated once, unknown options refused."""

import pytest

from cadenza.settings import TrainConfig


def test_a_train_config_from_a_dict_keeps_the_defaults_and_refuses_unknown_options():
    config = TrainConfig.from_dict({"steps": 12})
    assert config.steps == 12 and config.batch_size == TrainConfig().batch_size
    with pytest.raises(ValueError, match=r"unknown training option\(s\) \['stepz'\]"):
        TrainConfig.from_dict({"stepz": 12})
