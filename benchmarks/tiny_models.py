"""Does a tiny model make piano, or noise? Audibility and quality of trained models side by side.

    python benchmarks/tiny_models.py NAME=MODEL [NAME=MODEL ...] [--clips 32] [--seconds 4]
        [--corpus DIR] [--reference-clips N] [--record NAME] [--draw ROW ...] [--draw-only]

Each MODEL is a pipeline folder (``runs/RUN/model``) or a shipped model's name. Every model
generates ``--clips`` clips of ``--seconds`` with its own default sampler, schedule and steps
(what ``cadenza generate`` does), from one seed. The clips are resampled to 16 kHz (so an 8 kHz
model is judged against full-band piano, and its missing top octave counts against it) and
scored against the piano corpus's train split, next to four fixed rows: held-out real clips
(the validation and test splits: the best case), the same clips sent through 8 kHz (what an
8 kHz model's missing band costs), the same clips encoded and decoded by the shipped default
(copy synthesis: the best its generated clips could score, its decoder being the only loss)
and white noise at the corpus's median level (the worst case
of a model that learnt only loudness).

What "audible" means here: **flatness**, per clip the median over frames of the spectral
flatness (geometric over arithmetic mean of the power spectrum below 4 kHz, librosa, 2048-point
frames), then the median and quartiles over clips. White noise is about 0.5; piano, whose power
sits in a few partials, is below 0.01; noise shaped to piano's spectral tilt lies in between:
flatness tells a tilted hiss from notes, which FAD alone does not. (pYIN's voicing is not used:
on this polyphonic piano it flags 66% of white noise's frames as voiced and is confident,
probability > 0.5, in only about 10% of the corpus's.) Then the steps-study metrics from
``benchmarks/steps_study.py``'s ``Scorer``: FAD on ``mel_stats`` with its bootstrap interval,
FAD with every clip levelled to the reference's loudness, PKID and PIS from the pitch
classifier, and the clips' loudness: median RMS level (dBFS) and median BS.1770 integrated
loudness (LUFS, pyloudnorm). A model with a stored loudness target generates at it, as
``cadenza generate`` does.

And C2ST (``cadenza.metrics.c2st``): the held-out accuracy of a small log-mel CNN telling the
row's clips from as many train clips, levelled, with its exact interval and cross-entropy in bits;
and the same test reading 160 mel bands, fine enough to see what a 64-band decoder loses.

Rows are cached in ``benchmarks/results/tiny_models.json`` (a row is measured again only when
its model folder's weights change) and written as a table to ``tiny_models.md``.
"""

from __future__ import annotations

import os

# One core for every library, set before numpy and torch start their thread pools.
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import argparse  # noqa: E402
import datetime  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import librosa  # noqa: E402
import numpy as np  # noqa: E402
import soxr  # noqa: E402
import torch  # noqa: E402
from steps_study import Scorer, rms  # noqa: E402

from cadenza import __version__, tasks  # noqa: E402
from cadenza.atomic import write_json, write_text  # noqa: E402
from cadenza.evaluate import ClipSet, load_clips  # noqa: E402
from cadenza.loudness import integrated_loudness  # noqa: E402
from cadenza.metrics.c2st import FINE_N_MELS, c2st  # noqa: E402
from cadenza.pipeline import load, model_folder  # noqa: E402

RESULTS = Path(__file__).parent / "results"
RATE = 16000  # the reference's rate, as in the steps study and the metric floors
BATCH = 8
DECODED = "held-out through the default's decoder"
FLATNESS_BAND_HZ = 4000


def flatness(clip: np.ndarray) -> float:
    """Median spectral flatness below 4 kHz over the clip's frames (silent frames left out).

    Below 4 kHz, because an 8 kHz model's clips have nothing above it, and an empty band would
    make any spectrum look peaked; nearly all of piano's power lies there."""
    power = np.abs(librosa.stft(clip, n_fft=2048, hop_length=512)) ** 2
    power = power[1 : 2048 * FLATNESS_BAND_HZ // RATE]  # without DC
    loud = power.sum(axis=0) > 1e-10 * power.shape[0]
    if not loud.any():
        return float("nan")
    return float(np.median(librosa.feature.spectral_flatness(S=power[:, loud], power=1.0)))


def audibility(clips: np.ndarray) -> dict:
    flat = np.array([flatness(clip) for clip in clips])
    lufs = [integrated_loudness(clip[None], RATE) for clip in clips]
    return {"flatness": float(np.nanmedian(flat)),
            "flatness_quartiles": [float(q) for q in np.nanpercentile(flat, [25, 75])],
            "loudness_lufs": max(float(np.median(lufs)), -200.0)}


@torch.no_grad()
def generate(model: str, clips: int, seconds: float, seed: int) -> tuple[np.ndarray, dict]:
    """``clips`` mono clips at 16 kHz from the model's own defaults, and facts about it."""
    pipeline = load(model_folder(model))
    started = time.perf_counter()
    out = []
    for index, start in enumerate(range(0, clips, BATCH)):
        wave = tasks.generate(pipeline, seconds, min(BATCH, clips - start), seed=seed + index)
        out.append(wave.mean(dim=1).float().numpy())
    generated = np.concatenate(out)
    if pipeline.sample_rate != RATE:
        generated = np.stack([soxr.resample(clip, pipeline.sample_rate, RATE)
                              for clip in generated])
    facts = {"sample_rate": pipeline.sample_rate, "sampler": pipeline.defaults.sampler,
             "schedule": pipeline.defaults.schedule, "steps": pipeline.defaults.steps,
             "parameters": sum(p.numel() for p in pipeline.network.parameters()),
             "generate_seconds": round(time.perf_counter() - started, 1)}
    return generated.astype(np.float32), facts


@torch.no_grad()
def through_decoder(clips: np.ndarray, model: Path) -> np.ndarray:
    """Copy synthesis: ``clips`` (16 kHz) encoded by the model's representation and decoded by
    its decoder, nothing generated: the best its generated clips could score."""
    pipeline = load(model)
    waves = [soxr.resample(clip, RATE, pipeline.sample_rate) for clip in clips]
    out = []
    for wave in waves:
        x = torch.from_numpy(np.ascontiguousarray(wave, dtype=np.float32))[None, None]
        decoded = pipeline.decode(pipeline.representation.encode(x), x.shape[-1])[0, 0].numpy()
        out.append(soxr.resample(decoded, pipeline.sample_rate, RATE)[: clips.shape[-1]])
    return np.stack(out).astype(np.float32)


def fingerprint(model: str | Path) -> str:
    """What the row was measured on: a hash of the model folder's weights."""
    path = model_folder(model)
    digest = hashlib.sha256()
    for file in sorted(path.glob("*.safetensors")):
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def measure(args: argparse.Namespace) -> None:
    path = RESULTS / f"{args.record}.json"
    record = json.loads(path.read_text()) if path.exists() else {}
    settings = {"clips": args.clips, "seconds": args.seconds, "seed": args.seed,
                "corpus": args.corpus, "reference_clips": args.reference_clips}
    if record.get("settings") not in (None, settings):
        raise SystemExit(f"{path} was measured with {record['settings']}; move it away first")
    record["settings"] = settings
    record["name"] = args.record
    record.setdefault("rows", {})
    record["machine"] = (f"{platform.system()} {platform.machine()}, one thread, torch "
                         f"{torch.__version__}, cadenza {__version__}")
    torch.set_num_threads(1)
    corpus = Path(args.corpus)
    reference = load_clips(corpus / "train", RATE, args.seconds, name="train", progress=False)
    if args.reference_clips and len(reference) > args.reference_clips:
        # A seeded subset: embedding hours of reference takes longer than it informs.
        keep = np.sort(np.random.default_rng(args.seed + 2).permutation(len(reference))
                       [: args.reference_clips])
        reference = ClipSet.from_array("train", reference.clips[keep], RATE)
    c2st_reference = reference.clips[
        np.random.default_rng(args.seed + 3).permutation(len(reference))[: args.clips]]
    scorers: list[Scorer] = []  # built on first use: embedding the reference takes minutes

    def save() -> None:
        record["updated"] = datetime.date.today().isoformat()
        write_json(path, record)

    def score(name: str, clips: np.ndarray, facts: dict) -> None:
        np.save(RESULTS / f"{args.record}-{name.replace(' ', '_')}.npy", clips[:2])  # for draw()
        if not scorers:
            scorers.append(Scorer(reference, args.seed))
        two = c2st(c2st_reference, clips, RATE, seed=args.seed)
        fine = c2st(c2st_reference, clips, RATE, seed=args.seed, n_mels=FINE_N_MELS)
        record["rows"][name] = {**facts, **audibility(clips), **scorers[0](clips),
                                "c2st": two.accuracy, "c2st_low": two.ci_low,
                                "c2st_high": two.ci_high, "c2st_log_loss_bits": two.log_loss_bits,
                                "c2st_fine": fine.accuracy, "c2st_fine_low": fine.ci_low,
                                "c2st_fine_high": fine.ci_high}
        save()
        row = record["rows"][name]
        print(f"{name}: C2ST {row['c2st']:.3f}, flatness {row['flatness']:.3g}, "
              f"FAD {row['fad']:.4g}, PKID {row['pkid']:.3g}, {row['loudness_db']:.1f} dB",
              flush=True)

    rng = np.random.default_rng(args.seed + 1)  # the noise's own draw; _held_out uses the seed
    if "held-out" not in record["rows"]:
        score("held-out", _held_out(corpus, args), {"kind": "fixed"})
    if "held-out through 8 kHz" not in record["rows"]:
        # The same clips band-limited as an 8 kHz model's are: what the missing band costs.
        narrow = np.stack([soxr.resample(soxr.resample(clip, RATE, 8000), 8000, RATE)
                           for clip in _held_out(corpus, args)])
        score("held-out through 8 kHz", narrow.astype(np.float32), {"kind": "fixed"})
    default = model_folder(None)
    if record["rows"].get(DECODED, {}).get("weights") != fingerprint(default):
        score(DECODED, through_decoder(_held_out(corpus, args), default),
              {"kind": "fixed", "model": str(default), "weights": fingerprint(default)})
    if "white noise" not in record["rows"]:
        level = float(np.median(rms(reference.clips)))
        noise = rng.standard_normal((args.clips, round(args.seconds * RATE))) * level
        score("white noise", noise.astype(np.float32), {"kind": "fixed"})
    for name, model in (item.split("=", 1) for item in args.models):
        weights = fingerprint(model)
        if record["rows"].get(name, {}).get("weights") == weights:
            continue
        clips, facts = generate(model, args.clips, args.seconds, args.seed)
        score(name, clips, {"kind": "model", "model": model, "weights": weights, **facts})
    report(record)
    draw(record, args.draw)


def draw(record: dict, only: list[str] | None = None) -> None:
    """The first clip of every row (or of the rows ``only`` names), spectrograms stacked: look
    before trusting a number."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    name = record["name"]
    rows = [(row, RESULTS / f"{name}-{row.replace(' ', '_')}.npy")
            for row in (only or record["rows"])]
    rows = [(row, path) for row, path in rows if path.exists()]
    figure, axes = plt.subplots(len(rows), 1, figsize=(10, 2.0 * len(rows)), sharex=True,
                                squeeze=False)
    for axis, (row, path) in zip(axes[:, 0], rows, strict=True):
        clip = np.load(path)[0]
        power = np.abs(librosa.stft(clip, n_fft=1024, hop_length=128)) ** 2
        db = 10 * np.log10(power + 1e-10)
        image = axis.imshow(db, origin="lower", aspect="auto", cmap="magma",
                            vmin=db.max() - 80, vmax=db.max(),
                            extent=(0, clip.size / RATE, 0, RATE / 2000))
        axis.set_title(f"{row} (RMS {20 * np.log10(rms(clip[None])[0] + 1e-10):.0f} dBFS)",
                       fontsize=9, loc="left")
        axis.set_ylabel("kHz")
        figure.colorbar(image, ax=axis, pad=0.01, label="dB")
    axes[-1, 0].set_xlabel("seconds")
    figure.tight_layout()
    figure.savefig(RESULTS / f"{name}.png", dpi=80)
    plt.close(figure)


def _held_out(corpus: Path, args: argparse.Namespace) -> np.ndarray:
    """``--clips`` real clips from the validation and test splits, drawn with the seed."""
    held = [load_clips(corpus / split, RATE, args.seconds, name=split, progress=False)
            for split in ("validation", "test")]
    real = np.concatenate([clip_set.clips for clip_set in held])
    return real[np.random.default_rng(args.seed).permutation(len(real))[: args.clips]]


def _f(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def _interval(row: dict, key: str) -> str:
    """``value [low, high]``, or the value alone for rows measured before it had an interval."""
    if f"{key}_low" not in row:
        return _f(row[key])
    return f"{_f(row[key])} [{_f(row[f'{key}_low'])}, {_f(row[f'{key}_high'])}]"


def inside_held_out(rows: dict) -> list[str]:
    """Issue 14's test, a line per model: is its levelled FAD, and its PKID, inside the
    held-out clips' bootstrap interval (what real clips of this number would score)?"""
    held = rows.get("held-out", {})
    if "fad_levelled_low" not in held:
        return []
    lines = []
    for name, row in rows.items():
        if row["kind"] != "model":
            continue
        verdicts = []
        for key, label in (("fad_levelled", "levelled FAD"), ("pkid", "PKID")):
            low, high = held[f"{key}_low"], held[f"{key}_high"]
            where = "inside" if low <= row[key] <= high else "outside"
            verdicts.append(f"{label} {_f(row[key])} {where} [{_f(low)}, {_f(high)}]")
        lines.append(f"- {name}: " + "; ".join(verdicts) + " (the held-out interval)")
    return lines


def report(record: dict) -> None:
    settings = record["settings"]
    lines = [f"{settings['clips']} clips of {settings['seconds']} s per row at 16 kHz, seed "
             f"{settings['seed']}, against {settings['corpus']}/train; {record['machine']}; "
             f"{record['updated']}.", "",
             "| row | sampler | C2ST [95% CI] (bits) | C2ST, 160 bands | flatness [quartiles] "
             "| FAD mel_stats [95% CI] | FAD levelled [95% CI] | PKID [95% CI] | PIS | RMS dB "
             "| LUFS |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, row in sorted(record["rows"].items(),
                            key=lambda item: (item[1]["kind"] != "fixed", item[0])):
        sampler = ("-" if row["kind"] == "fixed" else
                   f"{row['sampler']} {row['steps']}, {row['schedule']} "
                   f"({row['sample_rate'] // 1000} kHz)")
        two = ("-" if "c2st" not in row else f"{row['c2st']:.2f} [{row['c2st_low']:.2f}, "
               f"{row['c2st_high']:.2f}] ({row['c2st_log_loss_bits']:.2f})")
        fine = ("-" if "c2st_fine" not in row else f"{row['c2st_fine']:.2f} "
                f"[{row['c2st_fine_low']:.2f}, {row['c2st_fine_high']:.2f}]")
        lines.append(
            f"| {name} | {sampler} | {two} | {fine} | {_f(row['flatness'], 2)} "
            f"[{_f(row['flatness_quartiles'][0], 2)}, {_f(row['flatness_quartiles'][1], 2)}] | "
            f"{_f(row['fad'])} [{_f(row['fad_low'])}, "
            f"{_f(row['fad_high'])}] | {_interval(row, 'fad_levelled')} | "
            f"{_interval(row, 'pkid')} | {_f(row['pis'])} | {row['loudness_db']:.1f} | "
            f"{_f(row.get('loudness_lufs'), 3)} |")
    lines += ["", *inside_held_out(record["rows"])]
    text = "\n".join(lines) + "\n"
    write_text(RESULTS / f"{record.get('name', 'tiny_models')}.md", text)
    print(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", metavar="NAME=MODEL")
    parser.add_argument("--clips", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--corpus", default="corpus/piano")
    parser.add_argument("--reference-clips", type=int, default=0,
                        help="score against a seeded subset of this many train clips (0: all)")
    parser.add_argument("--draw", nargs="*", default=None, metavar="ROW",
                        help="draw only these rows' first clips (default: every row)")
    parser.add_argument("--draw-only", action="store_true",
                        help="redraw the picture from the stored rows; measure nothing")
    parser.add_argument("--record", default="tiny_models",
                        help="results/NAME.json and NAME.md (rows are reused while settings match)")
    args = parser.parse_args()
    bad = [item for item in args.models if "=" not in item]
    if bad:
        parser.error(f"give each model as NAME=MODEL, not {bad[0]!r}")
    if args.draw_only:
        draw(json.loads((RESULTS / f"{args.record}.json").read_text()), args.draw)
    else:
        measure(args)


if __name__ == "__main__":
    main()
