import pytest

from cadenza.presets import SECTIONS, load_preset, preset_names


def test_every_bundled_preset_has_every_section_and_a_tiny_twin():
    names = preset_names()
    assert "diffwave-piano" in names and "tiny-diffwave-piano" in names
    for name in names:
        preset = load_preset(name)
        assert all(isinstance(preset[section], dict) for section in SECTIONS)
        if not name.startswith("tiny-"):  # its twin is tiny-NAME, or the one it names
            assert preset.get("tiny", f"tiny-{name}") in names


def test_overrides_are_parsed_as_yaml_and_reach_any_depth():
    preset = load_preset(
        "diffwave-piano",
        ["training.steps=12", "training.learning_rate=1e-3", "network.residual_channels=16",
         "data.extra.flag=true"],
    )
    assert preset["training"]["steps"] == 12 and preset["training"]["learning_rate"] == 1e-3
    assert preset["network"]["residual_channels"] == 16 and preset["data"]["extra"]["flag"]


@pytest.mark.parametrize(
    ("name", "overrides", "message"),
    [
        ("no-such-preset", [], "unknown preset"),
        ("diffwave-piano", ["training.steps"], "section.key=value"),
        ("diffwave-piano", ["model.steps=1"], "must start with one of"),
    ],
)
def test_mistakes_are_clear_errors(name, overrides, message):
    with pytest.raises(ValueError, match=message):
        load_preset(name, overrides)


def test_a_preset_file_is_checked(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("representation: {kind: waveform}\n")
    with pytest.raises(ValueError, match="needs the sections"):
        load_preset(str(path))
    path.write_text("representation: [unclosed\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_preset(str(path))
