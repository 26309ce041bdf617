"""Evaluate a folder of generated audio against reference audio: every metric, JSON and HTML.

``evaluate(generated_dir, reference_dir, out_dir=...)`` reads every audio file under each
folder (recursively; files that cannot be used are skipped and listed with the reason), turns
them into mono clips of ``clip_seconds`` at ``sample_rate`` (non-overlapping; a shorter
remainder at the end of a file is dropped), and computes

- C2ST (a classifier two-sample test, ``cadenza.metrics.c2st``): the held-out accuracy of a
  small log-mel CNN telling generated from reference clips, levelled to one RMS, with its
  exact binomial interval (0.5 = indistinguishable); the sharpest of these measures;
- FAD with a bootstrap 95% interval, and FAD-∞ (the 1/n extrapolation), on the chosen
  embedder's clip embeddings;
- KID (unbiased MMD², inverse multi-quadratic kernel) over random subsets;
- Kolmogorov–Smirnov D of per-frame RMS, spectral centroid and f0 (YIN), and of raw sample
  values (loudness-normalised per clip);
- each generated clip's distance to its nearest reference clip in the (standardised)
  embedding space, the best and worst of them to listen to;
- with ``train_dir``: copy detection against the training clips (``mel_stats`` with
  ``top_db=40``), with the pairs above 0.90 to listen to;
- when the shipped pitch and instrument classifiers are installed (``classifier`` embedder):
  PIS and IIS (inception score of each classifier's probabilities of the generated clips, over
  up to 10 splits, with the reference set's own score beside it) and PKID and IKID (KID on each
  classifier's embeddings, generated against reference), and each classifier's class shares.

It writes ``metrics.json`` and a self-contained ``report.html`` (figures and audio inlined;
opens from disk) to ``out_dir`` and returns the metrics as a dict. ``load_clips`` and
``measure`` are the two halves, for callers that already hold clips (benchmarks).
"""

from __future__ import annotations

import datetime
import math
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from cadenza.atomic import write_json
from cadenza.data import audio
from cadenza.metrics import embedders as embedder_registry
from cadenza.metrics.c2st import c2st
from cadenza.metrics.copies import CopyReport, detect_copies
from cadenza.metrics.frechet import FadInfinity, bootstrap_ci, fad_infinity
from cadenza.metrics.inception import inception_score
from cadenza.metrics.kernel import IMQ_C, kid
from cadenza.metrics.ks import ks_features, ks_samples
from cadenza.report import Report
from cadenza.version import __version__

COPY_LISTEN_THRESHOLD = 0.90
LISTEN_PAIRS = 5  # copy-detection pairs played in the report, at most
LISTEN_CLIPS = 3  # best and worst generated clips played in the report, each
C2ST_MIN_CLIPS = 4  # two to train on and two to judge, in each fold
EMBED_BATCH = 64  # clips embedded at once: bounds memory for large folders
IS_SPLITS = 10  # inception-score splits, at most; each split holds at least IS_SPLIT_CLIPS
IS_SPLIT_CLIPS = 10
# target -> (inception-score key, kernel-distance key) in metrics.json
CLASSIFIER_METRICS = {"pitch": ("pis", "pkid"), "instrument": ("iis", "ikid")}


@dataclass
class ClipSet:
    """Equal-length mono clips cut from the audio files under a folder, and what was skipped."""

    name: str
    folder: str
    sample_rate: int
    clips: np.ndarray  # (n, samples) float32
    sources: list[tuple[str, float]]  # (file relative to folder, start in seconds) per clip
    files: int = 0  # files that gave at least one clip
    skipped: list[dict] = field(default_factory=list)  # {"path", "reason"} per unused file

    def __len__(self) -> int:
        return len(self.clips)

    @property
    def seconds(self) -> float:
        return float(self.clips.size / self.sample_rate)

    def label(self, index: int) -> str:
        path, start = self.sources[index]
        return f"{path} @ {start:g} s"

    def summary(self) -> dict:
        return {"folder": self.folder, "files": self.files, "clips": len(self),
                "seconds": round(self.seconds, 3), "skipped": self.skipped}

    @classmethod
    def from_array(cls, name: str, clips: np.ndarray, sample_rate: int) -> ClipSet:
        """Clips already in memory, ``(n, samples)``; each is its own "file"."""
        clips = np.asarray(clips, dtype=np.float32)
        sources = [(f"{name}-{i}", 0.0) for i in range(len(clips))]
        return cls(name, f"<{name}>", sample_rate, clips, sources, files=len(clips))


def audio_files(folder: str | os.PathLike) -> list[Path]:
    """Every file with an audio suffix under ``folder``, recursively, in sorted order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder}: not a folder")
    return sorted(path for path in folder.rglob("*")
                  if path.is_file() and path.suffix.lower() in audio.AUDIO_SUFFIXES)


def load_clips(
    folder: str | os.PathLike,
    sample_rate: int = 16000,
    clip_seconds: float = 4.0,
    *,
    name: str = "clips",
    progress: bool = True,
) -> ClipSet:
    """Cut every audio file under ``folder`` into mono clips; never fails on a bad file.

    Each file is read, averaged to mono and resampled to ``sample_rate``, then cut into
    non-overlapping clips of ``clip_seconds`` from its start; the remainder shorter than a
    clip is dropped. A file that cannot be decoded, holds NaN / infinite samples, is empty, or
    is shorter than one clip is listed in ``skipped`` with the reason.
    """
    if sample_rate <= 0 or clip_seconds <= 0:
        raise ValueError("sample_rate and clip_seconds must be positive")
    root = Path(folder)
    length = round(clip_seconds * sample_rate)
    clips: list[np.ndarray] = []
    sources: list[tuple[str, float]] = []
    skipped: list[dict] = []
    files = 0
    for path in tqdm(audio_files(root), desc=f"reading {name}", unit="file",
                     disable=not progress):
        relative = str(path.relative_to(root))
        try:
            wave, _ = audio.load(path, sample_rate, channels=1)
        except audio.AudioError as error:
            skipped.append({"path": relative,
                            "reason": str(error).removeprefix(f"{path}: ")})
            continue
        except Exception as error:  # a broken file is reported, never the end of the run
            skipped.append({"path": relative, "reason": f"{type(error).__name__}: {error}"})
            continue
        samples = wave[0]
        count = samples.size // length
        if samples.size == 0:
            skipped.append({"path": relative, "reason": "empty (no samples)"})
            continue
        if count == 0:
            skipped.append({"path": relative, "reason": (
                f"shorter than one clip ({samples.size / sample_rate:.2f} s < "
                f"{clip_seconds:g} s)")})
            continue
        files += 1
        clips.append(samples[: count * length].reshape(count, length))
        sources += [(relative, round(i * clip_seconds, 6)) for i in range(count)]
    stacked = (np.concatenate(clips) if clips
               else np.zeros((0, length), dtype=np.float32)).astype(np.float32, copy=False)
    return ClipSet(name, str(root), sample_rate, stacked, sources, files, skipped)


def embed_clips(embedder, clips: ClipSet, progress: bool) -> np.ndarray:
    """Clip embeddings ``(n, dim)`` float64, a batch at a time, at the embedder's rate."""
    parts = []
    for start in tqdm(range(0, len(clips), EMBED_BATCH), desc=f"embedding {clips.name}",
                      unit="batch", disable=not progress):
        batch = clips.clips[start:start + EMBED_BATCH]
        if embedder.sample_rate != clips.sample_rate:
            batch = audio.resample(batch, clips.sample_rate, embedder.sample_rate)
        parts.append(np.asarray(embedder(batch.astype(np.float64)), dtype=np.float64))
    return np.concatenate(parts)


def classifier_embedders(sample_rate: int) -> tuple[dict, str | None]:
    """The shipped pitch and instrument classifiers for clips at ``sample_rate``, by target,
    or ``({}, why not)`` when they cannot be loaded here."""
    from cadenza.checkpoint import CheckpointError

    try:
        return {target: embedder_registry.embedder("classifier", target=target,
                                                   sample_rate=sample_rate)
                for target in CLASSIFIER_METRICS}, None
    except (CheckpointError, ImportError, OSError) as error:
        return {}, f"{type(error).__name__}: {error}"


def classify_clips(classifier, clips: ClipSet, progress: bool) -> tuple[np.ndarray, np.ndarray]:
    """A classifier's embeddings ``(n, dim)`` and probabilities ``(n, classes)`` of a set."""
    parts = []
    for start in tqdm(range(0, len(clips), EMBED_BATCH),
                      desc=f"classifying {clips.name} ({classifier.target})", unit="batch",
                      disable=not progress):
        batch = clips.clips[start:start + EMBED_BATCH]
        if classifier.sample_rate != clips.sample_rate:
            batch = audio.resample(batch, clips.sample_rate, classifier.sample_rate)
        parts.append(classifier.embed(batch.astype(np.float64)))
    return (np.concatenate([e for e, _ in parts]), np.concatenate([p for _, p in parts]))


def inception_over_splits(probabilities: np.ndarray, seed: int):
    """Inception score over up to ``IS_SPLITS`` splits of shuffled clips (files come in
    order, so consecutive clips are alike)."""
    splits = max(1, min(IS_SPLITS, len(probabilities) // IS_SPLIT_CLIPS))
    order = np.random.default_rng(seed).permutation(len(probabilities))
    return inception_score(probabilities[order], splits)


def classifier_metrics(
    classifiers: dict, generated: ClipSet, reference: ClipSet, *, seed: int = 0,
    kid_subsets: int = 100, kid_subset_size: int = 1000, progress: bool = True,
) -> tuple[dict, dict]:
    """PIS / IIS and PKID / IKID from classifiers by target (``classifier_embedders``).

    Returns the metrics (``pis``, ``pkid``, ... and ``classifiers``: what each classifier is
    and the share of each class in either set, i.e. the mean probabilities) and the arrays.
    """
    metrics: dict = {}
    about: dict = {}
    arrays: dict = {}
    for target, classifier in classifiers.items():
        score_key, kernel_key = CLASSIFIER_METRICS[target]
        a, p = classify_clips(classifier, generated, progress)
        b, q = classify_clips(classifier, reference, progress)
        score, own = inception_over_splits(p, seed), inception_over_splits(q, seed)
        kernel = kid(a, b, subsets=kid_subsets, subset_size=kid_subset_size, seed=seed)
        metrics[score_key] = {"mean": score.mean, "std": score.std, "splits": score.splits,
                              "reference_mean": own.mean, "reference_std": own.std,
                              "reference_splits": own.splits, "classes": len(classifier.labels)}
        metrics[kernel_key] = {"mean": kernel.mean, "std": kernel.std,
                               "subsets": kernel.subsets, "subset_size": kernel.subset_size,
                               "kernel": "imq", "c": IMQ_C}
        training = getattr(classifier.model, "training_summary", {})
        about[target] = {
            "embedder": repr(classifier),
            "validation_accuracy": training.get("validation_accuracy"),
            "test_accuracy": training.get("test_accuracy"),
            "labels": list(classifier.labels),
            "generated_shares": [float(x) for x in p.mean(axis=0)],
            "reference_shares": [float(x) for x in q.mean(axis=0)],
        }
        arrays[target] = {"generated": (a, p), "reference": (b, q)}
    metrics["classifiers"] = about
    return metrics, arrays


def _finite(value: float) -> float | None:
    """JSON has no NaN: a metric that cannot be computed (no voiced frames) becomes null."""
    value = float(value)
    return value if math.isfinite(value) else None


def _nearest(generated: np.ndarray, reference: np.ndarray) -> dict[str, np.ndarray]:
    """Euclidean nearest-reference distances in embedding space, standardised per dimension
    by the reference set (floored at the median spread, as in copy detection)."""
    spread = reference.std(axis=0)
    centre = reference.mean(axis=0)
    scale = np.maximum(spread, max(float(np.median(spread)), 1e-12))
    g, r = (generated - centre) / scale, (reference - centre) / scale

    def squared(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        d = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2 * x @ y.T
        return np.clip(d, 0, None)

    to_reference = squared(g, r)
    within = squared(r, r)
    np.fill_diagonal(within, np.inf)  # a reference clip is not its own neighbour
    return {"distance": np.sqrt(to_reference.min(axis=1)),
            "index": to_reference.argmin(axis=1),
            "reference_distance": np.sqrt(within.min(axis=1)) if len(r) > 1 else np.zeros(0)}


@dataclass
class Evaluation:
    """What ``measure`` computed: the JSON-ready ``metrics`` and the arrays behind them."""

    metrics: dict
    generated: ClipSet
    reference: ClipSet
    train: ClipSet | None
    fad_fit: FadInfinity | None
    nearest: dict[str, np.ndarray]
    copies: CopyReport | None
    # target -> {"generated": (embeddings, probabilities), "reference": (...)}
    classified: dict = field(default_factory=dict)


def measure(
    generated: ClipSet,
    reference: ClipSet,
    train: ClipSet | None = None,
    *,
    embedder="mel_stats",
    seed: int = 0,
    bootstrap_resamples: int = 100,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    classifiers: bool | dict = True,
    progress: bool = True,
) -> Evaluation:
    """Every metric of ``generated`` against ``reference`` (and ``train``, for copies).

    ``embedder`` is a name for ``cadenza.metrics.embedders.embedder`` (built at the clips'
    rate) or an ``Embedder``. Both sets need at least two clips, at the same rate and length.
    ``classifiers``: True adds PIS, IIS, PKID and IKID with the shipped classifiers when they
    load (``pis`` ... are null otherwise, and ``classifiers`` says why), False leaves them
    out, and a dict ``{"pitch": ClassifierEmbedder, "instrument": ...}`` uses those.
    """
    for clips in (generated, reference, train):
        if clips is not None and len(clips) < 2:
            raise ValueError(f"{clips.name}: need at least two clips of "
                             f"{clips.clips.shape[1] / clips.sample_rate:g} s, found {len(clips)}"
                             f" in {clips.folder} ({len(clips.skipped)} files skipped)")
    rate = generated.sample_rate
    if reference.sample_rate != rate or reference.clips.shape[1] != generated.clips.shape[1]:
        raise ValueError("generated and reference clips differ in sample rate or length")
    if isinstance(embedder, str):
        embedder = embedder_registry.embedder(embedder, sample_rate=rate)
    a = embed_clips(embedder, generated, progress)
    b = embed_clips(embedder, reference, progress)

    interval = bootstrap_ci(a, b, resamples=bootstrap_resamples, seed=seed)
    fad_fit = fad_infinity(a, b, repeats=5, seed=seed) if len(a) >= 3 else None
    kernel = kid(a, b, subsets=kid_subsets, subset_size=kid_subset_size, seed=seed)
    features = ks_features(generated.clips, reference.clips, rate, pitch_method="yin")
    samples = ks_samples(generated.clips, reference.clips, seed=seed)
    nearest = _nearest(a, b)
    two_sample = (c2st(reference.clips, generated.clips, rate, seed=seed)
                  if min(len(generated), len(reference)) >= C2ST_MIN_CLIPS else None)

    metrics: dict = {
        "fad": {"value": interval.value, "ci_low": interval.low, "ci_high": interval.high,
                "level": interval.level, "resamples": bootstrap_resamples},
        "fad_infinity": None if fad_fit is None else {
            "value": fad_fit.value, "slope": fad_fit.slope, "r2": fad_fit.r2,
            "sizes": fad_fit.sizes.tolist(), "fads": fad_fit.fads.tolist(), "repeats": 5},
        "kid": {"mean": kernel.mean, "std": kernel.std, "subsets": kernel.subsets,
                "subset_size": kernel.subset_size, "kernel": "imq", "c": IMQ_C},
        "c2st": two_sample.as_dict() if two_sample else {
            "unavailable": f"needs at least {C2ST_MIN_CLIPS} clips in each set"},
        "ks": {**{name: _finite(value.statistic) for name, value in features.items()},
               "samples": _finite(samples.statistic)},
        "nearest_reference": _nearest_summary(nearest, generated, reference),
        "copies": None,
        **dict.fromkeys(key for keys in CLASSIFIER_METRICS.values() for key in keys),
        "classifiers": None,
    }
    if classifiers is True:
        found, why_not = classifier_embedders(rate)
    else:
        found, why_not = (classifiers or {}), (None if classifiers else "not requested")
    classified: dict = {}
    if found:
        scores, classified = classifier_metrics(
            found, generated, reference, seed=seed, kid_subsets=kid_subsets,
            kid_subset_size=kid_subset_size, progress=progress)
        metrics.update(scores)
    else:
        metrics["classifiers"] = {"unavailable": why_not}
    copies = None
    if train is not None:
        if train.sample_rate != rate:
            raise ValueError("training clips differ in sample rate from the generated clips")
        window = generated.clips.shape[1] / rate / 2
        copy_embedder = embedder_registry.embedder("mel_stats", sample_rate=rate, top_db=40)
        copies = detect_copies(generated.clips, train.clips, copy_embedder,
                               window_seconds=window, hop_seconds=window / 2)
        listen = copies.pairs.get(COPY_LISTEN_THRESHOLD, [])
        metrics["copies"] = {
            **copies.summary(),
            "embedder": repr(copy_embedder), "window_seconds": window,
            "hop_seconds": window / 2,
            "pairs_to_listen": [  # generated clips reaching 0.90, strongest first
                {"generated": generated.label(g), "train": train.label(t), "similarity": s}
                for g, t, s in listen[:50]],
        }
    metrics["embedder"] = repr(embedder)
    return Evaluation(metrics, generated, reference, train, fad_fit, nearest, copies,
                      classified)


def _nearest_summary(nearest: dict, generated: ClipSet, reference: ClipSet) -> dict:
    order = np.argsort(nearest["distance"], kind="stable")

    def entries(indices) -> list[dict]:
        return [{"generated": generated.label(int(i)),
                 "nearest_reference": reference.label(int(nearest["index"][i])),
                 "distance": float(nearest["distance"][i])} for i in indices]

    within = nearest["reference_distance"]
    return {
        "generated_median": float(np.median(nearest["distance"])),
        "reference_median": float(np.median(within)) if within.size else None,
        "best": entries(order[:LISTEN_CLIPS]),
        "worst": entries(order[::-1][:LISTEN_CLIPS]),
    }


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
) -> dict:
    """Compare the audio under ``generated_dir`` with ``reference_dir``; write the results.

    Writes ``out_dir/metrics.json`` (atomically) and ``out_dir/report.html`` and returns the
    metrics (the content of ``metrics.json``). See the module docstring for what is measured.
    Third-party embedder names raise ``ThirdPartyModelError`` before any file is read.
    ``classifiers=False`` skips PIS, IIS, PKID and IKID (see ``measure``). ``embedder`` may
    be the path of a TorchScript embedding model that expects audio at ``embedder_rate``.
    """
    started = time.perf_counter()
    if sample_rate <= 0 or clip_seconds <= 0:
        raise ValueError("sample_rate and clip_seconds must be positive")
    torchscript = Path(embedder).suffix.lower() in embedder_registry.TORCHSCRIPT_SUFFIXES
    options = {"model_rate": embedder_rate} if torchscript else {"sample_rate": sample_rate}
    model = embedder_registry.embedder(embedder, **options)  # fails early
    folders = {"generated": generated_dir, "reference": reference_dir, "train": train_dir}
    sets = {name: load_clips(folder, sample_rate, clip_seconds, name=name, progress=progress)
            for name, folder in folders.items() if folder is not None}
    evaluation = measure(sets["generated"], sets["reference"], sets.get("train"),
                         embedder=model, seed=seed, classifiers=classifiers,
                         progress=progress)
    out = Path(out_dir)
    metrics = {
        "cadenza": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.system()} {platform.machine()}, python {platform.python_version()}",
        "config": {"generated_dir": str(generated_dir), "reference_dir": str(reference_dir),
                   "train_dir": None if train_dir is None else str(train_dir),
                   "embedder": embedder, "sample_rate": sample_rate,
                   "clip_seconds": clip_seconds, "seed": seed, "classifiers": classifiers},
        "sets": {name: clips.summary() for name, clips in sets.items()},
        **evaluation.metrics,
        "elapsed_seconds": round(time.perf_counter() - started, 3),
        "files": {"metrics": str(out / "metrics.json"), "report": str(out / "report.html")},
    }
    write_report(evaluation, metrics, out / "report.html")
    write_json(out / "metrics.json", metrics)
    return metrics


# ---------------------------------------------------------------------------- report


def _fmt(value, digits: int = 4) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _fad_figure(fit):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5.5, 3.5))
    axes = figure.subplots()
    inverse = 1.0 / fit.sizes
    axes.plot(inverse, fit.fads, "o", label="mean FAD of subsets")
    line = np.linspace(0, inverse.max(), 50)
    axes.plot(line, fit.value + fit.slope * line, "-",
              label=f"fit: {fit.value:.3g} + {fit.slope:.3g}/n (r² {fit.r2:.3f})")
    axes.plot([0], [fit.value], "s", color="C3", label=f"FAD-∞ = {fit.value:.3g}")
    axes.set_xlabel("1 / n (generated clips)")
    axes.set_ylabel("FAD")
    axes.legend(fontsize=8)
    return figure


def _histogram_figure(series: dict[str, np.ndarray], xlabel: str, marks: dict[str, float]):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5.5, 3.5))
    axes = figure.subplots()
    values = [v for v in series.values() if v.size]
    low = min(float(v.min()) for v in values)
    high = max(float(v.max()) for v in values)
    bins = np.linspace(low, high if high > low else low + 1e-6, 30)
    for label, data in series.items():
        if data.size:
            axes.hist(data, bins=bins, alpha=0.55, density=True, label=label)
    for label, x in marks.items():
        axes.axvline(x, color="k", linestyle="--", linewidth=1)
        axes.annotate(label, (x, 0.95), xycoords=("data", "axes fraction"), fontsize=8,
                      rotation=90, ha="right", va="top")
    axes.set_xlabel(xlabel)
    axes.set_ylabel("density")
    axes.legend(fontsize=8)
    return figure


def _label(target: str, label: str) -> str:
    """Pitch labels are MIDI numbers: show the note name too."""
    if target == "pitch" and label.isdigit():
        import librosa

        return f"{librosa.midi_to_note(int(label), unicode=False)} ({label})"
    return label


def _classifier_rows(metrics: dict) -> list[dict]:
    """Summary rows for PIS, IIS, PKID and IKID (one row saying why, when unavailable)."""
    about = metrics["classifiers"] or {}
    if "unavailable" in about:
        return [{"metric": "PIS, IIS, PKID, IKID", "value": "—",
                 "detail": f"classifiers not used: {about['unavailable']}"}]
    rows = []
    for target, (score_key, kernel_key) in CLASSIFIER_METRICS.items():
        score, kernel = metrics.get(score_key), metrics.get(kernel_key)
        if score is None or kernel is None:
            continue
        rows.append({"metric": score_key.upper(),
                     "value": f"{score['mean']:.3g} ± {score['std']:.2g}",
                     "detail": f"inception score of the {target} classifier's probabilities "
                               f"(1 to {score['classes']}; ± over {score['splits']} splits); "
                               f"the reference set scores {score['reference_mean']:.3g}"})
        rows.append({"metric": kernel_key.upper(),
                     "value": f"{kernel['mean']:.3g} ± {kernel['std']:.2g}",
                     "detail": f"KID on the {target} classifier's embeddings (IMQ kernel, "
                               f"{kernel['subsets']} subsets of {kernel['subset_size']}); "
                               "0 for one distribution"})
    return rows


def write_report(evaluation: Evaluation, metrics: dict, path: str | os.PathLike) -> Path:
    """The HTML page: summary tables, figures, and players for the clips worth hearing."""
    generated, reference, train = evaluation.generated, evaluation.reference, evaluation.train
    rate = generated.sample_rate
    report = Report("cadenza eval")
    config = metrics["config"]
    report.paragraph(
        f"Generated: {config['generated_dir']}; reference: {config['reference_dir']}"
        + (f"; training set (copy detection): {config['train_dir']}"
           if config["train_dir"] else "")
        + f". Mono clips of {config['clip_seconds']:g} s at {config['sample_rate']} Hz; "
        f"embedder {metrics['embedder']}; seed {config['seed']}; cadenza {metrics['cadenza']}, "
        f"{metrics['created']}.")
    report.table([{"set": name, "files": s["files"], "clips": s["clips"],
                   "seconds": f"{s['seconds']:.1f}", "skipped files": len(s["skipped"])}
                  for name, s in metrics["sets"].items()])

    report.heading("Summary")
    fad, inf, kd, ks = metrics["fad"], metrics["fad_infinity"], metrics["kid"], metrics["ks"]
    rows = [
        {"metric": "FAD", "value": _fmt(fad["value"]),
         "detail": f"bootstrap {fad['level']:.0%} interval [{_fmt(fad['ci_low'])}, "
                   f"{_fmt(fad['ci_high'])}] ({fad['resamples']} resamples); lower is closer"},
        {"metric": "FAD-∞", "value": _fmt(inf["value"]) if inf else "—",
         "detail": (f"intercept of FAD = a + b/n over {len(inf['sizes'])} subset sizes, "
                    f"r² {inf['r2']:.3f}") if inf else "needs at least 3 generated clips"},
        {"metric": "KID", "value": f"{kd['mean']:.3g} ± {kd['std']:.2g}",
         "detail": f"unbiased MMD², IMQ kernel C = {kd['c']:g}, {kd['subsets']} subsets of "
                   f"{kd['subset_size']}; 0 for one distribution, may be slightly negative"},
        *({"metric": f"KS D, {name}", "value": _fmt(ks[name]),
           "detail": {"rms": "per-frame RMS", "centroid": "per-frame spectral centroid",
                      "f0": "per-frame f0 (YIN, frames within 40 dB of the clip's peak)",
                      "samples": "raw sample values, each clip at -20 dBFS"}[name]
           + "; 0 = same distribution, 1 = disjoint"}
          for name in ("rms", "centroid", "f0", "samples")),
    ]
    two = metrics["c2st"]
    rows.insert(0, {
        "metric": "C2ST accuracy",
        "value": "—" if "unavailable" in two else f"{two['accuracy']:.3f}",
        "detail": two.get("unavailable") or (
            f"{two['confidence']:.0%} interval [{two['ci_low']:.3f}, {two['ci_high']:.3f}] over "
            f"{two['clips']} held-out clips; a log-mel CNN telling generated from reference "
            f"clips{' (each levelled to one RMS)' if two['levelled'] else ''}: 0.5 = "
            f"indistinguishable, 1.0 = always told apart; held-out cross-entropy "
            f"{two['log_loss_bits']:.2f} bits (1 at chance)")})
    rows += _classifier_rows(metrics)
    near = metrics["nearest_reference"]
    rows.append({"metric": "nearest-reference distance (median)",
                 "value": _fmt(near["generated_median"]),
                 "detail": "standardised embedding distance of each generated clip to its "
                           "nearest reference clip; reference to reference: "
                           f"{_fmt(near['reference_median'])}"})
    if metrics["copies"]:
        c = metrics["copies"]
        rows.append({"metric": "copy gap", "value": _fmt(c["gap"]),
                     "detail": f"p95 of generated→train nearest similarity "
                               f"{_fmt(c['generated_nn_p95'])} minus train→train "
                               f"{_fmt(c['train_nn_p95'])}; above 0 suggests copying"})
    report.table(rows, ["metric", "value", "detail"])

    skipped = [{"set": name, "file": item["path"], "reason": item["reason"]}
               for name, s in metrics["sets"].items() for item in s["skipped"]]
    if skipped:
        report.heading("Skipped files")
        report.table(skipped)

    if metrics["classifiers"] and "unavailable" not in metrics["classifiers"]:
        report.heading("Classifiers")
        report.paragraph(
            "cadenza's pitch and instrument classifiers (small log-mel CNNs trained on single "
            "notes, cadenza.metrics.classifier) give each clip class probabilities (averaged "
            "over 1 s windows) and an embedding (their penultimate layer). Share: the mean "
            "probability of each class over a set; an inception score is high when each clip "
            "is classified confidently and the shares are even.")
        for target, about in metrics["classifiers"].items():
            accuracy = about["validation_accuracy"]
            report.paragraph(f"{target} classifier ({len(about['labels'])} classes"
                             + (f", validation accuracy {accuracy:.1%} on held-out notes"
                                if accuracy is not None else "") + f"): {about['embedder']}")
            report.table([
                {target: _label(target, label), "generated share": f"{g:.3f}",
                 "reference share": f"{r:.3f}"}
                for label, g, r in zip(about["labels"], about["generated_shares"],
                                       about["reference_shares"], strict=True)])

    if evaluation.fad_fit is not None:
        report.heading("FAD against 1/n")
        report.figure(_fad_figure(evaluation.fad_fit),
                      "FAD of random subsets of the generated clips against all reference "
                      "clips; the intercept at 1/n = 0 is FAD-∞.")

    report.heading("Nearest reference clips")
    nearest = evaluation.nearest
    report.figure(_histogram_figure(
        {"generated → nearest reference": nearest["distance"],
         "reference → nearest other reference": nearest["reference_distance"]},
        "standardised embedding distance", {}),
        "A generated set like the reference sits on the reference's own distribution.")
    order = np.argsort(nearest["distance"], kind="stable")
    for title, indices in (("Closest to the reference", order[:LISTEN_CLIPS]),
                           ("Furthest from the reference", order[::-1][:LISTEN_CLIPS])):
        report.heading(title)
        for i in indices:
            j = int(nearest["index"][i])
            report.audio(generated.clips[i][None], rate,
                         f"generated {generated.label(int(i))}: distance "
                         f"{nearest['distance'][i]:.3g} to {reference.label(j)}")

    copies = evaluation.copies
    if copies is not None and train is not None:
        report.heading("Copy detection")
        c = metrics["copies"]
        report.paragraph(
            f"Each clip is embedded in windows of {c['window_seconds']:g} s (hop "
            f"{c['hop_seconds']:g} s) with {c['embedder']}; a pair's similarity is the best "
            "cosine over window pairs. Generated clips far more similar to a training clip "
            "than training clips are to each other suggest copying.")
        report.table([{k: (_fmt(v) if isinstance(v, float) else v) for k, v in
                       copies.summary().items()}])
        report.figure(_histogram_figure(
            {"generated → nearest train": copies.generated_nn,
             "train → nearest other train": copies.train_nn},
            "cosine similarity", {f"{COPY_LISTEN_THRESHOLD:.2f}": COPY_LISTEN_THRESHOLD}),
            "Nearest-neighbour similarity; pairs above the dashed line are worth a listen.")
        pairs = copies.pairs.get(COPY_LISTEN_THRESHOLD, [])
        if pairs:
            report.paragraph(f"{len(pairs)} generated clips reach {COPY_LISTEN_THRESHOLD:.2f}; "
                             f"the strongest {min(len(pairs), LISTEN_PAIRS)}:")
        else:
            report.paragraph(f"No generated clip reaches {COPY_LISTEN_THRESHOLD:.2f}.")
        for g, t, s in pairs[:LISTEN_PAIRS]:
            report.audio(generated.clips[g][None], rate,
                         f"generated {generated.label(g)} (similarity {s:.3f})")
            report.audio(train.clips[t][None], rate, f"training {train.label(t)}")
    return report.write(path)
