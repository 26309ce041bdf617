"""Every metric of a set of generated clips against reference clips (and training clips).

``measure(generated, reference, train)`` takes ``ClipSet``s (``cadenza.clips``) and computes

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
- with ``train``: copy detection against the training clips (``mel_stats`` with
  ``top_db=40``), with the pairs above 0.90 to listen to;
- when the shipped pitch and instrument classifiers are installed (``classifier`` embedder):
  PIS and IIS (inception score of each classifier's probabilities of the generated clips, over
  up to 10 splits, with the reference set's own score beside it) and PKID and IKID (KID on each
  classifier's embeddings, generated against reference), and each classifier's class shares.

It returns an ``Evaluation``: the JSON-ready metrics and the arrays behind them, which
``cadenza.eval_report`` draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from cadenza.clips import ClipSet, clip_batches
from cadenza.metrics import embedders as embedder_registry
from cadenza.metrics.c2st import c2st
from cadenza.metrics.copies import CopyReport, detect_copies
from cadenza.metrics.frechet import FadInfinity, bootstrap_ci, fad_infinity
from cadenza.metrics.inception import InceptionScore, inception_score
from cadenza.metrics.kernel import IMQ_C, kid
from cadenza.metrics.ks import ks_features, ks_samples

if TYPE_CHECKING:  # for annotations; the classifiers load in classifier_embedders, if asked
    from cadenza.metrics.classifier import ClassifierEmbedder

COPY_LISTEN_THRESHOLD = 0.90
LISTEN_CLIPS = 3  # best and worst generated clips listed (and played in the report), each
C2ST_MIN_CLIPS = 4  # two to train on and two to judge, in each fold
IS_SPLITS = 10  # inception-score splits, at most; each split holds at least IS_SPLIT_CLIPS
IS_SPLIT_CLIPS = 10
# target -> (inception-score key, kernel-distance key) in metrics.json
CLASSIFIER_METRICS = {"pitch": ("pis", "pkid"), "instrument": ("iis", "ikid")}


def embed_clips(embedder: embedder_registry.Embedder, clips: ClipSet, progress: bool
                ) -> np.ndarray:
    """Clip embeddings ``(n, dim)`` float64, a batch at a time, at the embedder's rate."""
    batches = clip_batches(clips, embedder.sample_rate, desc=f"embedding {clips.name}",
                           progress=progress)
    return np.concatenate([np.asarray(embedder(batch), dtype=np.float64) for batch in batches])


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


def classify_clips(classifier: ClassifierEmbedder, clips: ClipSet, progress: bool
                   ) -> tuple[np.ndarray, np.ndarray]:
    """A classifier's embeddings ``(n, dim)`` and probabilities ``(n, classes)`` of a set."""
    batches = clip_batches(clips, classifier.sample_rate, progress=progress,
                           desc=f"classifying {clips.name} ({classifier.target})")
    parts = [classifier.embed(batch) for batch in batches]
    return (np.concatenate([e for e, _ in parts]), np.concatenate([p for _, p in parts]))


def inception_over_splits(probabilities: np.ndarray, seed: int) -> InceptionScore:
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
    embedder: str | embedder_registry.Embedder = "mel_stats",
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
