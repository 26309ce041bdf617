"""Training a note classifier: a tiny one beats chance; the command line; clear errors."""

import json

import pytest

from cadenza.data.note_set import build_note_set
from cadenza.metrics.classifier_training import train_classifier
from cadenza.metrics.note_classifier import ClassifierEmbedder, load_classifier

PITCHES = (48, 55, 62, 69, 76, 83)
TINY = {"channels": (8, 16, 16, 16), "embedding": 32, "n_mels": 64, "batch_size": 16}


@pytest.fixture(scope="module")
def notes(tmp_path_factory):
    """36 synthesised notes: 6 pitches x 3 velocities x piano and organ, 1 s each."""
    out = tmp_path_factory.mktemp("notes")
    build_note_set(out, pitches=PITCHES, velocities=(50, 90, 127), instruments=("piano", "organ"),
                   seconds=1.0, renderer="synth", progress=False)
    return out


def test_a_tiny_classifier_beats_chance_on_held_out_notes(notes, tmp_path):
    out = tmp_path / "pitch"
    summary = train_classifier(notes, out, target="pitch", steps=40, eval_every=20,
                               progress=False, **TINY)
    assert sorted(p.name for p in out.iterdir()) == [
        "classifier.json", "classifier.safetensors", "log.csv"]
    assert summary["notes_per_split"] == {"train": 22, "validation": 6, "test": 8}
    chance = 1 / len(PITCHES)
    assert summary["chance"] == pytest.approx(chance, abs=1e-4)
    # Validation and test notes are other (velocity, instrument) pairs of the pitches.
    assert summary["validation_accuracy"] >= 3 * chance
    assert summary["test_accuracy"] >= 2 * chance
    log = (out / "log.csv").read_text().splitlines()
    assert log[0].startswith("step,loss") and len(log) == 3  # steps 20 and 40
    config = json.loads((out / "classifier.json").read_text())
    assert config["network"]["labels"] == [str(p) for p in PITCHES]
    assert config["training"]["validation_accuracy"] == summary["validation_accuracy"]
    model = load_classifier(out)
    assert model.training_summary == summary and not model.training
    assert ClassifierEmbedder(path=out).dim == 32


def test_a_folder_that_is_not_a_note_set_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="not a note set"):
        train_classifier(tmp_path, tmp_path / "out", steps=1, progress=False)


def test_train_classifier_command(notes, tmp_path):
    from typer.testing import CliRunner

    from cadenza.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["train-classifier", str(notes), "--target", "instrument",
                                 "--out", str(tmp_path / "instrument"), "--steps", "3"])
    assert result.exit_code == 0, result.output
    assert "validation accuracy" in result.output and "chance 50.0%" in result.output
    assert load_classifier(tmp_path / "instrument").labels == ["piano", "organ"]
    wrong = runner.invoke(app, ["train-classifier", str(notes), "--target", "tempo", "--out",
                                str(tmp_path / "x")])
    assert isinstance(wrong.exception, ValueError) and "--target" in str(wrong.exception)
    assert not (tmp_path / "x").exists()
