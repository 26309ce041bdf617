"""Evaluate a folder of generated audio against reference audio: every metric, JSON and HTML.

``evaluate(generated_dir, reference_dir, out_dir=...)`` is ``cadenza eval``: it reads every
audio file under each folder into mono clips of ``clip_seconds`` at ``sample_rate``
(``cadenza.clips.load_clips``: recursively, non-overlapping, files that cannot be used are
skipped and listed with the reason), measures the generated clips against the reference
clips, and the training clips for copy detection with ``train_dir`` (``cadenza.measure``:
C2ST, FAD and FAD-∞, KID, Kolmogorov–Smirnov distances, nearest-reference distances, copies,
and PIS / IIS / PKID / IKID when the shipped classifiers are installed).

When the reference is a split of a corpus made by ``cadenza data piano`` (a ``train``,
``validation`` or ``test`` folder beside ``corpus.json``), the corpus's other held-out splits
are the floors: real audio no model saw, scored against the reference as the generated clips
are (``floors``: or name a folder, or "none").

It writes ``metrics.json`` and a self-contained ``report.html`` (``cadenza.eval_report``:
figures and audio inlined; opens from disk) to ``out_dir`` and returns the metrics as a dict.
``load_clips`` and ``measure`` are the two halves, for callers that already hold clips
(benchmarks); they are importable from here with ``ClipSet`` and ``Evaluation``.
"""

from __future__ import annotations

import datetime
import os
import platform
import time
from pathlib import Path

from cadenza.atomic import check_writable, write_json
from cadenza.clips import ClipSet, load_clips
from cadenza.eval_report import write_report
from cadenza.measure import Evaluation, measure
from cadenza.metrics import embedders as embedder_registry
from cadenza.version import __version__

# The two halves stay importable from the entry point, as they were before the split.
__all__ = ["ClipSet", "Evaluation", "evaluate", "floor_folders", "load_clips", "measure"]

CORPUS_SPLITS = ("train", "validation", "test")
HELD_OUT_SPLITS = ("validation", "test")  # train is what a model saw: never a floor


def floor_folders(reference_dir: str | os.PathLike, floors: str | os.PathLike | None = "auto"
                  ) -> dict[str, Path]:
    """The floor sets by name: a named folder, none (None or "none"), or with "auto" the
    held-out splits beside ``reference_dir`` when it is a split of a ``cadenza data piano``
    corpus (its parent holds ``corpus.json``), the reference's own split left out."""
    if floors is None or str(floors) == "none":
        return {}
    if str(floors) != "auto":
        folder = Path(floors)
        if not folder.is_dir():
            raise ValueError(f"--floor {folder}: not a folder (give held-out real audio, "
                             "'auto' or 'none')")
        return {f"held-out: {folder.name}": folder}
    reference = Path(reference_dir).resolve()
    if reference.name not in CORPUS_SPLITS or not (reference.parent / "corpus.json").is_file():
        return {}
    return {f"held-out: {split} split": reference.parent / split for split in HELD_OUT_SPLITS
            if split != reference.name and (reference.parent / split).is_dir()}


def evaluate(
    generated_dir: str | os.PathLike,
    reference_dir: str | os.PathLike,
    *,
    train_dir: str | os.PathLike | None = None,
    embedder: str = "mel_stats",
    sample_rate: int = 16000,
    clip_seconds: float = 4.0,
    out_dir: str | os.PathLike,
    seed: int = 0,
    classifiers: bool = True,
    progress: bool = True,
    embedder_rate: int = 16000,
    floors: str | os.PathLike | None = "auto",
) -> dict:
    """Compare the audio under ``generated_dir`` with ``reference_dir``; write the results.

    Writes ``out_dir/metrics.json`` (atomically) and ``out_dir/report.html`` and returns the
    metrics (the content of ``metrics.json``). See ``cadenza.measure`` for what is measured.
    Third-party embedder names raise ``ThirdPartyModelError`` before any file is read.
    ``classifiers=False`` skips PIS, IIS, PKID and IKID (see ``measure``). ``embedder`` may
    be the path of a ``torch.export`` program (``.pt2``) or a TorchScript embedding model that
    expects audio at ``embedder_rate``. ``floors``: see ``floor_folders``.
    """
    started = time.perf_counter()
    if sample_rate <= 0 or clip_seconds <= 0:
        raise ValueError("sample_rate and clip_seconds must be positive")
    model_file = Path(embedder).suffix.lower() in embedder_registry.MODEL_FILE_SUFFIXES
    options = {"model_rate": embedder_rate} if model_file else {"sample_rate": sample_rate}
    model = embedder_registry.embedder(embedder, **options)  # fails early
    check_writable(out_dir)  # before minutes of measuring, not after
    floor_dirs = floor_folders(reference_dir, floors)
    folders = {"generated": generated_dir, "reference": reference_dir, "train": train_dir}
    sets = {name: load_clips(folder, sample_rate, clip_seconds, name=name, progress=progress)
            for name, folder in folders.items() if folder is not None}
    floor_sets = {name: load_clips(folder, sample_rate, clip_seconds, name=name,
                                   progress=progress) for name, folder in floor_dirs.items()}
    evaluation = measure(sets["generated"], sets["reference"], sets.get("train"),
                         embedder=model, seed=seed, classifiers=classifiers,
                         floors=floor_sets, progress=progress)
    out = Path(out_dir)
    metrics = {
        "cadenza": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.system()} {platform.machine()}, python {platform.python_version()}",
        "config": {"generated_dir": str(generated_dir), "reference_dir": str(reference_dir),
                   "train_dir": None if train_dir is None else str(train_dir),
                   "embedder": embedder, "sample_rate": sample_rate,
                   "clip_seconds": clip_seconds, "seed": seed, "classifiers": classifiers,
                   "floors": {name: str(folder) for name, folder in floor_dirs.items()}},
        "sets": {name: clips.summary() for name, clips in sets.items()},
        **evaluation.metrics,
        "elapsed_seconds": round(time.perf_counter() - started, 3),
        "files": {"metrics": str(out / "metrics.json"), "report": str(out / "report.html")},
    }
    write_report(evaluation, metrics, out / "report.html")
    write_json(out / "metrics.json", metrics)
    return metrics
