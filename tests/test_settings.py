"""Typed settings: defaults stated once; unknown options and wrong types are one-line errors."""

import pytest

from cadenza.settings import DataSettings, SamplingSettings, TrainConfig


def test_a_train_config_from_a_dict_keeps_the_defaults_and_refuses_unknown_options():
    config = TrainConfig.from_dict({"steps": 12})
    assert config.steps == 12 and config.batch_size == TrainConfig().batch_size
    with pytest.raises(ValueError, match=r"unknown training option\(s\) \['stepz'\]"):
        TrainConfig.from_dict({"stepz": 12})


def test_values_are_checked_and_numbers_taken_as_yaml_writes_them():
    config = TrainConfig.from_dict({"learning_rate": "1e-3", "adam_betas": [0, 0.99],
                                    "weight_decay": 0})
    assert config.learning_rate == 1e-3 and config.adam_betas == (0.0, 0.99)
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


@pytest.mark.parametrize(
    ("section", "values", "message"),
    [
        (TrainConfig, {"steps": -5}, "training.steps must be at least 1, got -5"),
        (TrainConfig, {"batch_size": 0}, "training.batch_size must be at least 1, got 0"),
        (TrainConfig, {"learning_rate": 0}, "training.learning_rate must be above 0, got 0.0"),
        (TrainConfig, {"learning_rate": float("nan")},
         "training.learning_rate must be a finite number"),
        (TrainConfig, {"adam_betas": [0.9, 1]}, "training.adam_betas must be at least 0 and "
                                                r"below 1, got \(0.9, 1.0\)"),
        (TrainConfig, {"ema_decay": 1.5}, "training.ema_decay must be at least 0 and at most 1"),
        (TrainConfig, {"mixed_precision": "fp8"},
         "training.mixed_precision must be one of no, bf16, fp16, got 'fp8'"),
        (DataSettings, {"crop_seconds": 0}, "data.crop_seconds must be above 0, got 0.0"),
        (DataSettings, {"crop_seconds": 1, "validation_fraction": 1},
         "data.validation_fraction must be at least 0 and below 1, got 1.0"),
        (SamplingSettings, {"steps": 0}, "sampling.steps must be at least 1, got 0"),
    ],
)
def test_numbers_out_of_range_are_one_line_errors_naming_the_option(section, values, message):
    with pytest.raises(ValueError, match=message) as error:
        section.from_dict(values)
    assert "\n" not in str(error.value)


def test_a_section_made_in_code_is_checked_too():
    with pytest.raises(ValueError, match=r"training\.steps must be at least 1, got 0"):
        TrainConfig(steps=0)


def test_every_bundled_preset_is_in_range():
    from cadenza.presets import load_preset, preset_names

    for name in preset_names():
        load_preset(name)
