"""The band above a model's, filled in edits from the user's audio around them (cadenza.band).

    python benchmarks/band_fill.py --corpus CORPUS [--pieces 10] [--record band_fill]

The user's path of an edit (``cadenza.conform``: known samples as they were, made regions
resampled to the user's rate and crossfaded in) at 16 kHz, for a model at 8 kHz (the shipped
DiffWave's rate), on the held-out pieces ``editing_real.py`` uses, with the band above 4 kHz
left empty (``--no-band-fill``) and filled, for two kinds of made audio:

- **the real audio at 8 kHz**: the piece itself brought to the model's rate, as a model that
  made the right music would; what is left is the band alone. Beside the seam scores, the
  filled band's level against the real band's, in 0.5 s blocks of the new region;
- **the DiffWave's own edits** (its default strategy), each made once and joined both ways.

and what filling costs: seconds per minute of 44.1 kHz stereo made by a 16 kHz model (one
thread). Seam scores as ``editing_real.py`` gives them (loudness jump over 3 s, spectral flux
across the seam against the flux elsewhere, the worse of a gap's two seams). Writes
``benchmarks/results/NAME.json``, ``NAME.md`` and ``NAME.png`` (one piece's 2 s gap: the real
audio, the band left empty, the band filled).
"""

from __future__ import annotations

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import argparse  # noqa: E402
import datetime  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from editing_real import RATE, edits, held_out, seam_scores, summary  # noqa: E402

from cadenza import __version__, band, conform  # noqa: E402
from cadenza.atomic import write_json, write_text  # noqa: E402
from cadenza.data import audio  # noqa: E402
from cadenza.pipeline import load, model_folder  # noqa: E402

RESULTS = Path(__file__).parent / "results"
MODEL = "tiny-piano-diffwave"
MODEL_RATE = 8000
BLOCK_SECONDS = 0.5


def band_level_db(wave: np.ndarray, low_hz: float) -> float:
    """Mean power (dB) of ``wave``'s spectrum above ``low_hz``."""
    power = np.abs(np.fft.rfft(wave)) ** 2
    return float(10 * np.log10(power[..., np.fft.rfftfreq(wave.shape[-1], 1 / RATE) >= low_hz]
                               .mean() + 1e-20))


def joined(made: np.ndarray, base: np.ndarray, regions: list, band_fill: bool) -> np.ndarray:
    """``made`` (at the model's rate) in ``base``'s regions, as ``cadenza inpaint`` joins it."""
    out, _ = conform.to_user(torch.from_numpy(made), MODEL_RATE, base,
                             conform.Format(RATE, 1), regions, band_fill)
    return out


def cost_per_minute(rate: int = 44100, edge_hz: float = 8000.0, repeats: int = 3) -> dict:
    """Seconds :func:`cadenza.band.fill` takes for a minute of stereo at ``rate``, its envelope
    moving across it as in a gap: the first call (what one edit pays) and the best of
    ``repeats``."""
    wave = np.random.default_rng(0).standard_normal((2, 60 * rate))
    gain = band.envelope_gain(wave[:, : 3 * rate], rate, edge_hz)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        band.fill(wave, rate, edge_hz, gain, gain / 2)
        times.append(time.perf_counter() - started)
    return {"first": times[0], "best": min(times)}


def measure(args: argparse.Namespace) -> dict:
    pieces = held_out(Path(args.corpus), args.pieces, 25.0)
    model = load(model_folder(MODEL))
    torch.set_num_threads(1)
    record: dict = {"settings": vars(args), "rows": {}, "band_errors_db": {}, "machine": (
        f"{platform.system()} {platform.machine()}, one thread, torch {torch.__version__}, "
        f"cadenza {__version__}"), "date": datetime.date.today().isoformat(),
        "fill_seconds_per_minute_44k_stereo": cost_per_minute()}
    low_hz = MODEL_RATE / 2 * 0.95
    for task, (cut, run, regions, total) in edits(20.0).items():
        if task == "extend":  # streamed: its band is measured by the outpainting's
            continue
        rows: dict[str, list] = {name: [] for name in (
            "real audio", "real audio at 8 kHz, band empty", "real audio at 8 kHz, band filled",
            f"{MODEL}, band empty", f"{MODEL}, band filled")}
        errors: dict[str, list] = {"empty": [], "filled": []}
        for index, (_, wave) in enumerate(pieces):
            real = wave[:, : round(total * RATE)]
            start, end = (round(t * RATE) for t in regions[0])
            base = conform.placed(cut(wave), after=real.shape[-1] - cut(wave).shape[-1])
            at_model = audio.resample(real, RATE, MODEL_RATE)
            x = torch.from_numpy(np.ascontiguousarray(audio.resample(cut(wave), RATE, MODEL_RATE)))
            made = run(model, x, seed=index).numpy()
            outs = {"real audio": real}
            for fill in (False, True):
                side = "filled" if fill else "empty"
                outs[f"real audio at 8 kHz, band {side}"] = joined(at_model, base, regions, fill)
                outs[f"{MODEL}, band {side}"] = joined(made, base, regions, fill)
                block = round(BLOCK_SECONDS * RATE)
                ours = outs[f"real audio at 8 kHz, band {side}"]
                errors[side] += [band_level_db(ours[:, i: i + block], low_hz)
                                 - band_level_db(real[:, i: i + block], low_hz)
                                 for i in range(start, end - block + 1, block)]
            for name, out in outs.items():
                rows[name].append(seam_scores(out.astype(np.float32), regions, []))
            if index == 0 and task == "inpaint 2 s":
                np.savez(RESULTS / f"{args.record}-piece.npz", **{
                    name.replace(" ", "_").replace(",", ""): out for name, out in outs.items()})
        for name, scores in rows.items():
            record["rows"][f"{task} | {name}"] = summary(scores)
        record["band_errors_db"][task] = {
            side: {"median": float(np.median(values)),
                   "median_abs": float(np.median(np.abs(values))),
                   "p90_abs": float(np.percentile(np.abs(values), 90))}
            for side, values in errors.items()}
        print(task, {k: round(v["median_seam_flux_ratio"], 2) for k, v in record["rows"].items()
                     if k.startswith(task)}, record["band_errors_db"][task], flush=True)
    return record


def report(record: dict) -> str:
    lines = [f"{record['settings']['pieces']} held-out pieces at 16 kHz; made audio at "
             f"{MODEL_RATE} Hz joined by `cadenza.conform.to_user`; {record['machine']}; "
             f"{record['date']}.", "",
             "| edit | made audio, band | \\|loudness jump\\| dB (median) | seam flux ratio "
             "(median) | clipped |", "|---|---|---:|---:|---:|"]
    for name, row in record["rows"].items():
        task, rest = name.split(" | ")
        lines.append(f"| {task} | {rest} | {row['median_abs_loudness_jump_db']:.2f} | "
                     f"{row['median_seam_flux_ratio']:.2f} | {row['clipped_samples']} |")
    cost = record["fill_seconds_per_minute_44k_stereo"]
    lines += ["", "Filling a minute of 44.1 kHz stereo from a 16 kHz model's band takes "
              f"{cost['first']:.2f} s on one thread (the first call; the best of three "
              f"{cost['best']:.2f} s).",
              "", "The band above 3.8 kHz of the real audio at 8 kHz against the real band, "
              f"{BLOCK_SECONDS:g} s blocks of the new region (dB):", "",
              "| edit | band | median | median \\|error\\| | 90th percentile \\|error\\| |",
              "|---|---|---:|---:|---:|"]
    for task, sides in record["band_errors_db"].items():
        for side, error in sides.items():
            lines.append(f"| {task} | {side} | {error['median']:.1f} | "
                         f"{error['median_abs']:.1f} | {error['p90_abs']:.1f} |")
    return "\n".join(lines) + "\n"


def draw(record: dict, path: Path) -> None:
    """One piece's 2 s gap: the real audio, the band left empty, the band filled."""
    import librosa
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    saved = np.load(RESULTS / f"{record['settings']['record']}-piece.npz")
    names = list(saved.files)
    figure, axes = plt.subplots(len(names), 1, figsize=(10, 1.8 * len(names)), squeeze=False)
    for axis, name in zip(axes[:, 0], names, strict=True):
        wave = saved[name]
        power = np.abs(librosa.stft(wave[0], n_fft=1024, hop_length=256)) ** 2
        image = axis.imshow(10 * np.log10(power + 1e-10), origin="lower", aspect="auto",
                            cmap="magma", vmin=-60, vmax=30,
                            extent=(0, wave.shape[-1] / RATE, 0, RATE / 2000))
        for seam in (4.5, 6.5):
            axis.axvline(seam, color="cyan", linewidth=1)
        axis.set_title(f"2 s gap: {name.replace('_', ' ')}", fontsize=8, loc="left")
        axis.set_ylabel("kHz")
        figure.colorbar(image, ax=axis, label="dB", pad=0.01)
    axes[-1, 0].set_xlabel("seconds (cyan: seams)")
    figure.tight_layout()
    figure.savefig(path, dpi=80)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--pieces", type=int, default=10)
    parser.add_argument("--record", default="band_fill")
    args = parser.parse_args()
    record = measure(args)
    write_json(RESULTS / f"{args.record}.json", record)
    write_text(RESULTS / f"{args.record}.md", report(record))
    draw(record, RESULTS / f"{args.record}.png")
    print(report(record))


if __name__ == "__main__":
    main()
