import pytest

from cadenza.presets import SECTIONS, Preset, load_preset, preset_names
from cadenza.settings import DataSettings, SamplingSettings, TrainConfig


def test_every_bundled_preset_has_every_section_and_a_tiny_twin():
    names = preset_names()
    assert "diffwave-piano" in names and "tiny-diffwave-piano" in names
    for name in names:
        preset = load_preset(name)
        assert preset.name == name
        assert all(isinstance(getattr(preset, section), dict) for section in SECTIONS[:3])
        assert isinstance(preset.data, DataSettings) and isinstance(preset.training, TrainConfig)
        assert isinstance(preset.sampling, SamplingSettings)
        if not name.startswith("tiny-"):  # its twin is tiny-NAME, or the one it names
            assert (preset.tiny or f"tiny-{name}") in names


def test_a_preset_is_typed_once_with_the_defaults_filled_in():
    preset = load_preset("msanii-mel")
    assert preset.training.adam_betas == (0.5, 0.999)  # a tuple, though YAML gives a list
    assert preset.training.grad_accumulation == TrainConfig().grad_accumulation  # not in YAML
    assert preset.data.min_seconds == DataSettings(crop_seconds=1.0).min_seconds
    assert load_preset("tiny-vocoder").sampling.sample_seconds == SamplingSettings().sample_seconds
    # What a run records reads back as the same preset; sections also read as mappings.
    assert Preset.from_dict(preset.to_dict()) == preset
    assert preset["training"]["adam_betas"] == [0.5, 0.999]
    assert preset["data"]["crop_seconds"] == preset.data.crop_seconds


def test_overrides_are_parsed_as_yaml_and_reach_any_depth():
    preset = load_preset(
        "diffwave-piano",
        ["training.steps=12", "training.learning_rate=1e-3", "network.residual_channels=16",
         "network.extra.flag=true"],
    )
    assert preset.training.steps == 12 and preset.training.learning_rate == 1e-3
    assert preset.network["residual_channels"] == 16 and preset.network["extra"]["flag"]


@pytest.mark.parametrize(
    ("name", "overrides", "message"),
    [
        ("no-such-preset", [], "unknown preset"),
        ("diffwave-piano", ["training.steps"], "section.key=value"),
        ("diffwave-piano", ["model.steps=1"], "must start with one of"),
        ("diffwave-piano", ["training.stepz=1"],
         r"^preset diffwave-piano: unknown training option\(s\) \['stepz'\]"),
        ("diffwave-piano", ["data.extra.flag=true"], r"unknown data option\(s\) \['extra'\]"),
        ("diffwave-piano", ["training.steps=many"],
         "training.steps must be a whole number, got 'many'"),
        ("diffwave-piano", ["sampling.sample_seconds=[1]"],
         r"sampling.sample_seconds must be a number, got \[1\]"),
    ],
)
def test_mistakes_are_clear_errors(name, overrides, message):
    with pytest.raises(ValueError, match=message) as error:
        load_preset(name, overrides)
    assert "\n" not in str(error.value)


def test_a_preset_file_is_checked(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("representation: {kind: waveform}\n")
    with pytest.raises(ValueError, match="needs the sections"):
        load_preset(str(path))
    path.write_text("representation: [unclosed\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_preset(str(path))
    sections = "".join(f"{section}: {{}}\n" for section in SECTIONS)
    path.write_text(sections + "colour: blue\n")
    with pytest.raises(ValueError, match=r"mine\.yaml: unknown key\(s\) \['colour'\]"):
        load_preset(str(path))
    path.write_text(sections)
    with pytest.raises(ValueError, match=r"mine\.yaml: data needs crop_seconds"):
        load_preset(str(path))
