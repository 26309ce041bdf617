"""The classifiers' one import path, and the metrics evaluate computes with them."""

import json

import numpy as np

from cadenza.data import synth
from cadenza.data.notes import Note
from cadenza.metrics import classifier, classifier_training, note_classifier

RATE = 16000


def note(pitch: int, seconds: float = 1.5, velocity: int = 90, timbre: str = "piano"):
    wave = synth.render_notes([Note(pitch, velocity, 0.05, 1.0)], RATE, seconds, timbre=timbre)
    return wave[0].astype(np.float64)


def test_both_halves_are_importable_from_one_module():
    """The command line and the embedder registry import from cadenza.metrics.classifier."""
    for name in classifier.__all__:
        value = getattr(classifier, name)
        assert any(getattr(half, name, None) is value
                   for half in (note_classifier, classifier_training)), name
    assert classifier.train_classifier is classifier_training.train_classifier
    assert classifier.TARGETS == ("pitch", "instrument")


def test_evaluate_reports_pis_iis_pkid_ikid(tmp_path):
    from cadenza.data import audio
    from cadenza.evaluate import evaluate

    pitches = range(36, 97, 6)
    for i, p in enumerate(pitches):  # the reference spans the range; generated repeats C4
        audio.write(tmp_path / "reference" / f"{i}.wav", note(p, seconds=1.0), RATE)
        audio.write(tmp_path / "generated" / f"{i}.wav", note(60, seconds=1.0, velocity=60 + i),
                    RATE)
    options = {"sample_rate": RATE, "clip_seconds": 1.0, "progress": False}
    metrics = evaluate(tmp_path / "generated", tmp_path / "reference", out_dir=tmp_path / "eval",
                       **options)
    on_disk = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert on_disk["pis"] == metrics["pis"] and on_disk["config"]["classifiers"] is True
    pis, iis = metrics["pis"], metrics["iis"]
    assert pis["mean"] < 1.1 < 5 < pis["reference_mean"] and pis["classes"] == 21
    assert 1 <= iis["mean"] <= 8 and iis["splits"] == 1 and iis["std"] == 0
    assert metrics["pkid"]["mean"] > 0 and metrics["ikid"]["subset_size"] == len(pitches)
    about = metrics["classifiers"]["pitch"]
    assert about["generated_shares"][about["labels"].index("60")] > 0.9
    assert about["validation_accuracy"] > 0.9
    page = (tmp_path / "eval" / "report.html").read_text()
    assert all(name in page for name in ("PIS", "IIS", "PKID", "IKID", "C4 (60)"))

    without = evaluate(tmp_path / "generated", tmp_path / "reference", out_dir=tmp_path / "x",
                       classifiers=False, **options)
    assert without["pis"] is None and without["ikid"] is None
    assert without["classifiers"] == {"unavailable": "not requested"}
