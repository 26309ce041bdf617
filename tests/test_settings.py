"""Typed settings: defaults stated once; unknown options and wrong types are one-line errors."""

import pytest

from cadenza.settings import DataSettings, SamplingSettings, TrainConfig


def test_a_train_config_from_a_dict_keeps_the_defaults_and_refuses_unknown_options():
    config = TrainConfig.from_dict({"steps": 12})
    assert config.steps == 12 and config.batch_size == TrainConfig().batch_size
    with pytest.raises(ValueError, match=r"unknown training option\(s\) \['stepz'\]"):
        TrainConfig.from_dict({"stepz": 12})


def test_values_are_checked_and_numbers_taken_as_yaml_writes_them():
    config = TrainConfig.from_dict({"learning_rate": "1e-3", "adam_betas": [0.5, 1],
                                    "weight_decay": 0})
    assert config.learning_rate == 1e-3 and config.adam_betas == (0.5, 1.0)
    assert isinstance(config.weight_decay, float)
    sampling = SamplingSettings.from_dict({"steps": None, "vocoder": "runs/vocos/vocoder"})
    assert sampling.steps is None and sampling.vocoder == "runs/vocos/vocoder"
    assert DataSettings.from_dict({"crop_seconds": 4}).crop_seconds == 4.0


@pytest.mark.parametrize(
    ("section", "values", "message"),
    [
        (TrainConfig, {"steps": "many"}, "training.steps must be a whole number, got 'many'"),
        (TrainConfig, {"steps": 2.5}, "training.steps must be a whole number, got 2.5"),
        (TrainConfig, {"seed": True}, "training.seed must be a whole number, got True"),
        (TrainConfig, {"adam_betas": [0.9]}, r"training.adam_betas must be a list of 2 values"),
        (TrainConfig, {"mixed_precision": 16}, "training.mixed_precision must be text, got 16"),
        (SamplingSettings, {"steps": "x"}, "sampling.steps must be a whole number or null"),
        (DataSettings, {}, "data needs crop_seconds"),
        (DataSettings, [4.0], r"data must be a mapping of options, got \[4.0\]"),
    ],
)
def test_mistakes_are_one_line_errors_naming_the_option(section, values, message):
    with pytest.raises(ValueError, match=message) as error:
        section.from_dict(values)
    assert "\n" not in str(error.value)
