"""Every metric of a set of generated clips against reference clips (and training clips).

``measure(generated, reference, train)`` takes ``ClipSet``s (``cadenza.clips``) and computes

- C2ST (a classifier two-sample test, ``cadenza.metrics.c2st``): the held-out accuracy of a
  small log-mel CNN telling generated from reference clips, levelled to one RMS, with its
  exact binomial interval (0.5 = indistinguishable); the sharpest of these measures; and the
  same test reading 160 mel bands (``c2st_fine``), which also hears what a 64-band mel model's
  decoder invents below its resolution;
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

Every number comes with its caveat. A metric given fewer clips than it needs is not computed:
its entry says ``unavailable`` and how many it ``needs`` (C2ST, KID, PKID / IKID, PIS / IIS,
FAD-∞); one computed from few clips says so in ``caveat`` (FAD from fewer clips than embedding
dimensions, an inception score from one split, KID from one subset). FAD-∞ is ``withheld``
(its ``value`` null, the fit kept) when its 1/n fit is poor. ``warnings`` lists differences
between the sets that every metric sees: the files' own sample rates and the clips' bandwidths.
With ``floors`` (held-out real audio), the same FAD and KID of those clips and of white noise
stand beside the generated set's: what the best and a worthless model would score here.

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
from cadenza.metrics.bandwidth import bandwidth
from cadenza.metrics.c2st import FINE_N_MELS, c2st
from cadenza.metrics.copies import CopyReport, detect_copies
from cadenza.metrics.frechet import (
    FadInfinity,
    bootstrap_ci,
    fad,
    fad_infinity,
    trendless_r2,
    withheld_reason,
)
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
# Fewer clips than these and the metric is not computed:
# - an inception score of n clips is at most n, so below 10 the count, not the audio, caps it;
IS_MIN_CLIPS = IS_SPLIT_CLIPS
# - each clip enters 2/n of KID's within-set pairs: below 10 one clip carries over a fifth;
KID_MIN_CLIPS = 10
# - FAD-∞ fits a line through subsets of 2 (or a quarter) to all of the clips: 4 give three.
FAD_INFINITY_MIN_CLIPS = 4
BANDWIDTH_FRACTION = 0.99  # bandwidth: the frequency below which this share of power lies
BANDWIDTH_RATIO = 1.25  # sets whose bandwidths differ by this factor or more get a warning
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
        metrics[score_key] = too_few(IS_MIN_CLIPS, generated=len(p), reference=len(q)) or (
            _score_entry(
            inception_over_splits(p, seed), inception_over_splits(q, seed),
            len(classifier.labels)))
        metrics[kernel_key] = kid_entry(a, b, kid_subsets, kid_subset_size, seed)
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


def too_few(needs: int, **counts: int) -> dict | None:
    """A metric's entry when a set holds fewer than ``needs`` clips (else None): what it
    needs and what each set holds, by role (``generated=3, reference=40``)."""
    if min(counts.values()) >= needs:
        return None
    held = ", ".join(f"{role} {count}" for role, count in counts.items())
    what = "in each set" if len(counts) > 1 else f"of {next(iter(counts))} clips"
    return {"unavailable": f"needs at least {needs} clips {what}; {held}", "needs": needs}


def _score_entry(score: InceptionScore, own: InceptionScore, classes: int) -> dict:
    entry = {"mean": score.mean, "std": score.std, "splits": score.splits,
             "reference_mean": own.mean, "reference_std": own.std,
             "reference_splits": own.splits, "classes": classes}
    if score.splits == 1:  # its std of 0 is no spread at all
        entry["caveat"] = f"one split: no spread; two splits need {2 * IS_SPLIT_CLIPS} clips"
    return entry


def kid_entry(a: np.ndarray, b: np.ndarray, subsets: int, subset_size: int, seed: int
              ) -> dict:
    """KID (or PKID / IKID) of embeddings ``a`` against ``b`` as metrics.json holds it."""
    refused = too_few(KID_MIN_CLIPS, generated=len(a), reference=len(b))
    if refused:
        return refused
    kernel = kid(a, b, subsets=subsets, subset_size=subset_size, seed=seed)
    entry = {"mean": kernel.mean, "std": kernel.std, "subsets": kernel.subsets,
             "subset_size": kernel.subset_size, "kernel": "imq", "c": IMQ_C}
    if kernel.subsets == 1:
        entry["caveat"] = f"one subset, all {kernel.subset_size} clips of each set: no spread"
    return entry


def _fad_entry(a: np.ndarray, b: np.ndarray, resamples: int, seed: int) -> dict:
    interval = bootstrap_ci(a, b, resamples=resamples, seed=seed)
    entry = {"value": interval.value, "ci_low": interval.low, "ci_high": interval.high,
             "level": interval.level, "resamples": resamples}
    if min(len(a), len(b)) <= a.shape[1]:
        entry["caveat"] = (
            f"{len(a)} generated and {len(b)} reference clips in {a.shape[1]} embedding "
            "dimensions: a covariance of fewer clips than dimensions is rank-deficient and "
            "FAD carries a large small-sample bias; compare it only with FADs of as many "
            "clips, or read FAD-∞")
    return entry


def _fad_infinity_entry(fit: FadInfinity | None, repeats: int) -> dict:
    if fit is None:
        return {"value": None, "needs": FAD_INFINITY_MIN_CLIPS, "unavailable":
                f"needs at least {FAD_INFINITY_MIN_CLIPS} generated clips, for three subset "
                "sizes"}
    withheld = withheld_reason(fit)
    return {"value": None if withheld else fit.value, "withheld": withheld,
            "intercept": fit.value, "slope": fit.slope, "r2": fit.r2,
            "r2_min": trendless_r2(len(fit.sizes)), "sizes": fit.sizes.tolist(),
            "fads": fit.fads.tolist(), "repeats": repeats}


def audio_warnings(generated: ClipSet, reference: ClipSet) -> tuple[dict, list[str]]:
    """Each set's native rates and bandwidth, and warnings where they differ by a lot."""
    rate = generated.sample_rate
    sets = {"generated": generated, "reference": reference}
    about = {name: {"native_rates": {str(r): n for r, n in sorted(clips.native_rates.items())},
                    "bandwidth_hz": bandwidth(clips.clips, rate, BANDWIDTH_FRACTION),
                    "bandwidth_fraction": BANDWIDTH_FRACTION} for name, clips in sets.items()}
    warnings = []
    # The band a set can hold: up to half its lowest native rate (or the common rate's).
    tops = {name: min([*clips.native_rates, rate]) / 2 for name, clips in sets.items()
            if clips.native_rates}
    if len(tops) == 2 and len(set(tops.values())) == 2:
        low, high = sorted(tops, key=tops.get)
        warnings.append(
            f"{low} files include some at {2 * tops[low]:g} Hz, {high} files are at "
            f"{2 * tops[high]:g} Hz or more: resampled to {rate} Hz, the {low} clips hold "
            f"nothing above {tops[low]:g} Hz where the {high} clips reach {tops[high]:g} Hz, "
            f"and every metric sees that band; compare at --rate {2 * tops[low]:g} to leave "
            "it out")
    widths = {name: entry["bandwidth_hz"] for name, entry in about.items()}
    narrow, wide = sorted(widths, key=widths.get)
    if widths[wide] > 0 and widths[wide] >= BANDWIDTH_RATIO * widths[narrow]:
        warnings.append(
            f"bandwidths differ: {BANDWIDTH_FRACTION:.0%} of the {narrow} clips' power lies "
            f"below {widths[narrow]:.0f} Hz, of the {wide} clips' below {widths[wide]:.0f} Hz "
            "(a lower sample rate, a low-pass, or missing or added high frequencies)")
    return about, warnings


def floor_rows(floors: dict[str, ClipSet], generated: ClipSet, b: np.ndarray,
               embedder: embedder_registry.Embedder, *, seed: int, kid_subsets: int,
               kid_subset_size: int, progress: bool) -> list[dict]:
    """FAD and KID against the reference embeddings ``b`` of held-out real clips (the best a
    model can do here) and of white noise at the generated clips' RMS (a worthless model), as
    many clips as the generated set where a floor set has more (FAD's bias depends on n)."""
    rng = np.random.default_rng(seed)
    rms = float(np.sqrt(np.mean(generated.clips.astype(np.float64) ** 2)))
    noise = rms * rng.standard_normal(generated.clips.shape)
    sets = {**floors, "white noise": ClipSet.from_array("white noise", noise,
                                                        generated.sample_rate)}
    rows = []
    for name, clips in sets.items():
        if len(clips) > len(generated):
            keep = np.sort(rng.choice(len(clips), len(generated), replace=False))
            clips = ClipSet(clips.name, clips.folder, clips.sample_rate, clips.clips[keep],
                            [clips.sources[i] for i in keep], clips.files)
        if len(clips) < 2:
            rows.append({"set": name, "clips": len(clips), "fad": None, "kid": None})
            continue
        e = embed_clips(embedder, clips, progress)
        kernel = kid_entry(e, b, kid_subsets, kid_subset_size, seed)
        row = {"set": name, "folder": clips.folder, "clips": len(clips), "fad": fad(e, b),
               "kid": kernel.get("mean")}
        if len(clips) < len(generated):  # FAD's small-sample bias is larger than the set's
            row["caveat"] = (f"{len(clips)} clips, fewer than the generated "
                             f"{len(generated)}: its FAD is biased up")
        rows.append(row)
    return rows


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
    floors: dict[str, ClipSet] | None = None,
    progress: bool = True,
) -> Evaluation:
    """Every metric of ``generated`` against ``reference`` (and ``train``, for copies).

    ``embedder`` is a name for ``cadenza.metrics.embedders.embedder`` (built at the clips'
    rate) or an ``Embedder``. Both sets need at least two clips, at the same rate and length.
    ``classifiers``: True adds PIS, IIS, PKID and IKID with the shipped classifiers when they
    load (``pis`` ... are null otherwise, and ``classifiers`` says why), False leaves them
    out, and a dict ``{"pitch": ClassifierEmbedder, "instrument": ...}`` uses those.
    ``floors``: held-out real clip sets by name, at the clips' rate and length, scored with
    FAD and KID beside white noise (``floor_rows``); ``floors`` in the metrics is null without.
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

    fad_fit = (fad_infinity(a, b, repeats=5, seed=seed)
               if len(a) >= FAD_INFINITY_MIN_CLIPS else None)
    about_audio, warnings = audio_warnings(generated, reference)
    features = ks_features(generated.clips, reference.clips, rate, pitch_method="yin")
    samples = ks_samples(generated.clips, reference.clips, seed=seed)
    nearest = _nearest(a, b)
    enough = min(len(generated), len(reference)) >= C2ST_MIN_CLIPS
    two_sample, fine = ((c2st(reference.clips, generated.clips, rate, seed=seed),
                         c2st(reference.clips, generated.clips, rate, seed=seed,
                              n_mels=FINE_N_MELS)) if enough else (None, None))

    metrics: dict = {
        "warnings": warnings,
        "audio": about_audio,
        "fad": _fad_entry(a, b, bootstrap_resamples, seed),
        "fad_infinity": _fad_infinity_entry(fad_fit, 5),
        "kid": kid_entry(a, b, kid_subsets, kid_subset_size, seed),
        "c2st": two_sample.as_dict() if two_sample else too_few(
            C2ST_MIN_CLIPS, generated=len(generated), reference=len(reference)),
        "c2st_fine": fine.as_dict() if fine else too_few(
            C2ST_MIN_CLIPS, generated=len(generated), reference=len(reference)),
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
    metrics["floors"] = None if not floors else floor_rows(
        floors, generated, b, embedder, seed=seed, kid_subsets=kid_subsets,
        kid_subset_size=kid_subset_size, progress=progress)
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
