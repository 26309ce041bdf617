"""Metric floors: every `cadenza eval` metric for the best and the worst a model can do.

    python benchmarks/metric_floors.py [--corpus corpus/piano] [--rate 16000] [--seconds 4]

The reference (and the training set of copy detection) is the piano corpus's train split.
Against it are measured

- the test split, and the validation split: real music the model never saw, rendered the same
  way; no model can be expected to do better than these (the best case);
- white noise, silence with a tiny noise floor (-80 dBFS) and a pure 440 Hz sine, made with
  numpy to the test split's clip count and length, noise and sine at the test clips' mean RMS
  (the worst cases, and what a broken model tends to produce).

Prints a markdown table and writes it to ``benchmarks/results/metric_floors.md`` (the full
metrics of every row go to ``metric_floors.json`` beside it). The corpus is built by
``cadenza data piano corpus/piano --minutes 30``.
"""

from __future__ import annotations

import os

# One core for every library, set before numpy and torch start their thread pools.
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

import argparse  # noqa: E402
import datetime  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import librosa  # noqa: E402
import numpy as np  # noqa: E402

from cadenza import __version__  # noqa: E402
from cadenza.atomic import write_json, write_text  # noqa: E402
from cadenza.evaluate import ClipSet, load_clips, measure  # noqa: E402

RESULTS = Path(__file__).parent / "results"


def synthetic_sets(test: ClipSet, seed: int) -> dict[str, ClipSet]:
    """Noise, near-silence and a sine with the test split's clip count and length."""
    rng = np.random.default_rng(seed)
    count, samples = test.clips.shape
    rate = test.sample_rate
    rms = float(np.sqrt(np.mean(np.square(test.clips, dtype=np.float64))))
    t = np.arange(samples) / rate
    sine = np.sqrt(2) * rms * np.sin(2 * np.pi * 440.0 * t)
    arrays = {
        "white noise": rms * rng.standard_normal((count, samples)),
        "silence, -80 dBFS noise floor": 1e-4 * rng.standard_normal((count, samples)),
        "sine 440 Hz": np.tile(sine, (count, 1)),
    }
    return {name: ClipSet.from_array(name, clips, rate) for name, clips in arrays.items()}


def _f(value, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}g}"


def row(name: str, metrics: dict, clips: int) -> str:
    fad, inf, kid, ks = metrics["fad"], metrics["fad_infinity"], metrics["kid"], metrics["ks"]
    copies, near = metrics["copies"], metrics["nearest_reference"]
    cells = [
        name, str(clips),
        f"{_f(fad['value'])} [{_f(fad['ci_low'])}, {_f(fad['ci_high'])}]",
        f"{_f(inf['value'])} ({inf['r2']:.2f})" if inf else "n/a",
        f"{kid['mean']:.2e} ± {kid['std']:.1e}",
        *(_f(ks[k], 2) for k in ("rms", "centroid", "f0", "samples")),
        _f(near["generated_median"]),
        f"{copies['generated_nn_p95']:.3f} ({copies['gap']:+.3f})",
        str(copies["pairs_above_0.90"]),
    ]
    return "| " + " | ".join(cells) + " |"


HEADER = (
    "| generated set | clips | FAD [95% CI] | FAD-∞ (r²) | KID ± std | KS D rms | KS D centroid "
    "| KS D f0 | KS D samples | nearest-train distance (median) | copy p95 (gap) "
    "| clips ≥ 0.90 |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def classifier_row(name: str, metrics: dict) -> str:
    """PIS / IIS (with the reference set's own score) and PKID / IKID, from the classifiers."""
    if metrics.get("pis") is None:
        return f"| {name} | n/a | n/a | n/a | n/a |"
    pis, iis, pkid, ikid = (metrics[k] for k in ("pis", "iis", "pkid", "ikid"))
    return (f"| {name} | {pis['mean']:.3f} ± {pis['std']:.3f} (reference "
            f"{pis['reference_mean']:.3f}) | {iis['mean']:.3f} ± {iis['std']:.3f} (reference "
            f"{iis['reference_mean']:.3f}) | {pkid['mean']:.3g} ± {pkid['std']:.1g} | "
            f"{ikid['mean']:.3g} ± {ikid['std']:.1g} |")


CLASSIFIER_HEADER = (
    "| generated set | PIS | IIS | PKID ± std | IKID ± std |\n|---|---:|---:|---:|---:|"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("corpus/piano"))
    parser.add_argument("--rate", type=int, default=16000)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS / "metric_floors.md")
    args = parser.parse_args()

    splits = {name: args.corpus / name for name in ("train", "validation", "test")}
    missing = [str(path) for path in splits.values() if not path.is_dir()]
    if missing:
        sys.exit(f"missing {', '.join(missing)}: build the piano corpus first with\n"
                 f"    cadenza data piano {args.corpus} --minutes 30")
    started = time.perf_counter()
    load = {"sample_rate": args.rate, "clip_seconds": args.seconds, "progress": False}
    train = load_clips(splits["train"], name="train", **load)
    test = load_clips(splits["test"], name="test", **load)
    validation = load_clips(splits["validation"], name="validation", **load)
    sets = {"test split (best case)": test, "validation split": validation,
            **synthetic_sets(test, args.seed)}

    lines, classifier_lines, record = [], [], {}
    for name, generated in sets.items():
        print(f"measuring {name} ({len(generated)} clips) ...", file=sys.stderr, flush=True)
        evaluation = measure(generated, train, train, seed=args.seed, progress=False)
        record[name] = {"clips": len(generated), **evaluation.metrics}
        lines.append(row(name, evaluation.metrics, len(generated)))
        classifier_lines.append(classifier_row(name, evaluation.metrics))
    elapsed = time.perf_counter() - started

    description = (
        f"Reference and copy-detection training set: {splits['train']} ({len(train)} clips from "
        f"{train.files} files). Mono clips of {args.seconds:g} s at {args.rate} Hz, seed "
        f"{args.seed}, embedder {record[next(iter(record))]['embedder']}; KS f0 by YIN. "
        f"{platform.machine()}, one thread; cadenza {__version__}, numpy {np.__version__}, "
        f"librosa {librosa.__version__}; {datetime.date.today().isoformat()}; "
        f"run took {elapsed:.0f} s."
    )
    table = "\n".join([HEADER, *lines, "", CLASSIFIER_HEADER, *classifier_lines])
    text = f"{description}\n\n{table}\n"
    print(text)
    write_text(args.out, text)
    write_json(args.out.with_suffix(".json"), {
        "command": " ".join(sys.argv), "elapsed_seconds": round(elapsed, 1),
        "config": vars(args) | {"corpus": str(args.corpus), "out": str(args.out)},
        "train": train.summary(), "rows": record,
    })


if __name__ == "__main__":
    main()
