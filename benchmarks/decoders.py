"""What does a listener lose before any diffusion? Copy synthesis through every decoder.

    python benchmarks/decoders.py --corpus corpus/piano [--clips 16] [--vocos RUN_OR_FOLDER ...]
        [--c2st] [--record decoders]

Held-out real piano (the corpus's validation and test splits, which no shipped network was
trained on) is encoded by a representation and decoded straight back: the error is what the
decoder alone costs, the floor under every generated clip. One 4 s clip per piece, starting
8 s in, resampled to 16 kHz mono (the default model's rate).

Scores, per clip, then mean and quartiles over clips:
- ``mr_stft``: auraloss's ``MultiResolutionSTFTLoss()`` with its default settings (spectral
  convergence plus log-magnitude L1 at FFT sizes 1024, 2048 and 512); 0 is identical.
- ``lsd_db``: log-spectral distance, the RMS over frequency of the difference of the two
  power spectra in dB, averaged over frames (2048-point STFT, hop 512, power floored 80 dB
  below the clip's peak so that silence does not dominate).
- ``flatness``: the median over clips of ``tiny_models.flatness`` (spectral flatness below
  4 kHz, the generated-music tables' measure), beside the original clips' own: a decoder that
  fills the floor between partials raises it, which the two distances above barely see.
- ``c2st`` (with ``--c2st``): a classifier two-sample test reading 160 mel bands
  (``cadenza.metrics.c2st``, ``n_mels=FINE_N_MELS``) telling the decoded clips from as many
  clips of the corpus's train split (4 s, seeded): 0.5 for the originals, and what a listener's
  ear for detail finer than the mel's would notice. Needs ``--clips`` of 32 or more to say much.

Rows: every decode path cadenza has for its mel representation (fast Griffin-Lim at two
iteration counts, the shipped default model's own decoder, each Vocos given), the same at 128
mel bins, the complex STFT's exact inverse and the 8 kHz waveform (the DiffWave's band), beside
calibration rows that say what a number sounds like: 8-bit mu-law, white noise at 60 and 40 dB
below the clip's RMS, and Griffin-Lim on the full linear STFT magnitude. A ``--vocos`` may be
a vocoder folder, a training run (its latest checkpoint's EMA) or one checkpoint folder of a
run, of a plain Vocos or of one trained with discriminators (its generator); it reads the mel
bands it was trained on (the default's FFT and hop, 64 bands unless its network says more). Writes
``benchmarks/results/NAME.json`` and ``NAME.png`` (original and decoded spectrograms of one
clip, stacked), NAME being ``--record``, and prints the markdown table for RESULTS.md.
"""

from __future__ import annotations

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import argparse  # noqa: E402
import datetime  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import auraloss  # noqa: E402
import numpy as np  # noqa: E402
import soxr  # noqa: E402
import torch  # noqa: E402
from tiny_models import flatness  # noqa: E402

from cadenza import __version__  # noqa: E402
from cadenza.atomic import write_json  # noqa: E402
from cadenza.checkpoint import load_tensors, read_json  # noqa: E402
from cadenza.clips import audio_files  # noqa: E402
from cadenza.data import audio  # noqa: E402
from cadenza.evaluate import load_clips  # noqa: E402
from cadenza.metrics.c2st import FINE_N_MELS, c2st  # noqa: E402
from cadenza.networks import network  # noqa: E402
from cadenza.pipeline import load, load_vocoder, model_folder  # noqa: E402
from cadenza.representations import representation  # noqa: E402
from cadenza.spectral import griffin_lim  # noqa: E402

RESULTS = Path(__file__).parent / "results"
RATE = 16000
SECONDS = 4.0
OFFSET_SECONDS = 8.0
DEFAULT_MEL = {"kind": "mel", "sample_rate": RATE, "n_fft": 1024, "hop_length": 256,
               "n_mels": 64}

Decoder = Callable[[torch.Tensor], torch.Tensor]  # (clips, 1, samples) -> same shape


def held_out_clips(corpus: Path, count: int) -> tuple[torch.Tensor, list[str]]:
    """One clip per held-out piece, at most ``count``, in a fixed order."""
    files = [path for split in ("validation", "test")
             for path in audio_files(corpus / split)]
    files.sort(key=lambda path: path.name)
    clips, names = [], []
    length = round(SECONDS * RATE)
    start = round(OFFSET_SECONDS * RATE)
    for path in files:
        wave, _ = audio.load(path, RATE, channels=1)
        if wave.shape[-1] < start + length:
            continue
        clips.append(torch.from_numpy(np.ascontiguousarray(wave[..., start : start + length])))
        names.append(path.stem)
        if len(clips) == count:
            break
    return torch.stack(clips).float(), names


def train_clips(corpus: Path, count: int) -> np.ndarray:
    """``count`` 4 s clips of the corpus's train split at 16 kHz, drawn with a fixed seed: what
    the decoded clips are told apart from."""
    clips = load_clips(corpus / "train", RATE, SECONDS, name="train", progress=False).clips
    return clips[np.sort(np.random.default_rng(0).permutation(len(clips))[:count])]


def vocos_from(path: Path) -> tuple[torch.nn.Module, int]:
    """A vocoder folder, a training run in progress (its latest checkpoint's EMA) or one
    checkpoint folder of a run (a GAN run's generator), and the mel bands it reads."""
    if (path / "vocoder.json").exists():
        return load_vocoder(path), read_json(path / "vocoder.json")["n_mels"]
    run, checkpoint = checkpoint_of(path)
    config = dict(read_json(run / "preset.json")["network"])
    n_mels = config["n_mels"]
    vocoder = network(config.pop("name"), **config)
    vocoder.load_state_dict(load_tensors(checkpoint / "ema.safetensors"))
    return getattr(vocoder, "generator", vocoder).eval(), n_mels


def checkpoint_of(path: Path) -> tuple[Path, Path]:
    """(run, checkpoint folder) of a run (its latest) or of one of its checkpoints."""
    if (path / "ema.safetensors").exists():
        return path.parent.parent, path
    return path, path / "checkpoints" / (path / "checkpoints" / "latest").read_text().strip()


def describe(path: Path) -> str:
    """A Vocos's name in the table: its folder, or its run and checkpoint step."""
    if (path / "vocoder.json").exists():
        return path.name
    run, checkpoint = checkpoint_of(path)
    return f"{run.name}, {checkpoint.name}"


def fitted_mel(clips: torch.Tensor, **config) -> torch.nn.Module:
    rep = representation(**{**DEFAULT_MEL, **config})
    return rep.fit([clips])


def mel_decoders(clips: torch.Tensor, vocos_paths: list[Path]) -> dict[str, Decoder]:
    samples = clips.shape[-1]
    mel64 = load(model_folder("tiny-piano-mel")).representation
    shipped = load(model_folder("tiny-piano-mel"))
    mel128 = fitted_mel(clips, n_mels=128)

    def griffin(rep, iterations):
        def decode(wave):
            magnitude = rep.decode_magnitude(rep.encode(wave))
            return griffin_lim(magnitude, rep.n_fft, rep.hop_length, rep.window, iterations,
                               rep.griffin_lim_momentum, samples=samples)
        return decode

    vocoder = shipped.vocoder.name if shipped.vocoder is not None else "Griffin-Lim"
    decoders: dict[str, Decoder] = {
        "mel 64 + fast Griffin-Lim 32": griffin(mel64, 32),
        "mel 64 + fast Griffin-Lim 256": griffin(mel64, 256),
        f"mel 64 + the shipped tiny-piano-mel's decoder ({vocoder})":
            lambda wave: shipped.decode(mel64.encode(wave), samples),
    }
    for path in vocos_paths:
        vocos, n_mels = vocos_from(path)
        mel = mel64 if n_mels == 64 else representation(**{**DEFAULT_MEL, "n_mels": n_mels})
        decoders[f"mel {n_mels} + Vocos ({describe(path)})"] = (
            lambda wave, vocos=vocos, mel=mel: vocos(mel.log_mel(wave), samples=samples))
    decoders["mel 128 + fast Griffin-Lim 32"] = griffin(mel128, 32)
    return decoders


def other_decoders(clips: torch.Tensor) -> dict[str, Decoder]:
    samples = clips.shape[-1]
    stft = representation("complex_stft", sample_rate=RATE, n_fft=510, hop_length=128)

    def through_8k(wave):
        down = soxr.resample(wave[:, 0].numpy().T, RATE, 8000)
        return torch.from_numpy(soxr.resample(down, 8000, RATE).T[:, None, :samples].copy())

    def linear_griffin(wave):
        window = torch.hann_window(1024)
        magnitude = torch.stft(wave.reshape(-1, samples), 1024, 256, window=window,
                               return_complex=True).abs()
        return griffin_lim(magnitude, 1024, 256, window, 32, 0.99,
                           samples=samples).reshape_as(wave)

    def mu_law(wave):
        mu = 255.0
        code = torch.round((torch.sign(wave) * torch.log1p(mu * wave.abs()) / np.log1p(mu) + 1)
                           / 2 * mu)
        expanded = code / mu * 2 - 1
        return torch.sign(expanded) * ((1 + mu) ** expanded.abs() - 1) / mu

    def noise_at(db):
        def add(wave):
            generator = torch.Generator().manual_seed(0)
            rms = wave.pow(2).mean(dim=-1, keepdim=True).sqrt()
            return wave + rms * 10 ** (-db / 20) * torch.randn(wave.shape, generator=generator)
        return add

    return {
        "complex STFT (exact inverse)": lambda wave: stft.decode(stft.encode(wave), samples),
        "waveform through 8 kHz (DiffWave's band)": through_8k,
        "calibration: linear STFT magnitude + Griffin-Lim 32": linear_griffin,
        "calibration: 8-bit mu-law": mu_law,
        "calibration: white noise 60 dB below the clip": noise_at(60),
        "calibration: white noise 40 dB below the clip": noise_at(40),
    }


def log_spectral_distance_db(decoded: torch.Tensor, original: torch.Tensor) -> float:
    window = torch.hann_window(2048)

    def power(wave):
        return torch.stft(wave, 2048, 512, window=window, return_complex=True).abs() ** 2

    reference, estimate = power(original), power(decoded)
    floor = reference.max() * 1e-8
    difference = 10 * torch.log10((estimate + floor) / (reference + floor))
    return float(difference.pow(2).mean(dim=0).sqrt().mean())


def score(decoded: torch.Tensor, clips: torch.Tensor) -> dict:
    loss = auraloss.freq.MultiResolutionSTFTLoss()
    mr = [float(loss(decoded[i : i + 1], clips[i : i + 1])) for i in range(len(clips))]
    lsd = [log_spectral_distance_db(decoded[i, 0], clips[i, 0]) for i in range(len(clips))]

    def summary(values):
        return {"mean": float(np.mean(values)),
                "quartiles": [float(q) for q in np.percentile(values, [25, 75])]}

    flat = [flatness(clip[0].numpy()) for clip in decoded]
    return {"mr_stft": summary(mr), "lsd_db": summary(lsd),
            "flatness": float(np.nanmedian(flat))}


def draw(clip: torch.Tensor, decoded: dict[str, torch.Tensor], name: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = {"original (held-out FluidSynth render)": clip, **decoded}
    figure, axes = plt.subplots(len(rows), 1, figsize=(10, 2.1 * len(rows)), sharex=True)
    window = torch.hann_window(1024)
    for axis, (label, wave) in zip(axes, rows.items(), strict=True):
        power = torch.stft(wave.reshape(-1), 1024, 128, window=window,
                           return_complex=True).abs() ** 2
        db = 10 * torch.log10(power + 1e-10).numpy()
        image = axis.imshow(db, origin="lower", aspect="auto", vmin=db.max() - 80, vmax=db.max(),
                            extent=(0, SECONDS, 0, RATE / 2000), cmap="magma")
        axis.set_ylim(0, 4)
        axis.set_title(label, fontsize=9, loc="left")
        axis.set_ylabel("kHz")
        figure.colorbar(image, ax=axis, pad=0.01, label="dB")
    axes[-1].set_xlabel(f"seconds ({name}, from {OFFSET_SECONDS:.0f} s)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True,
                        help="a `cadenza data piano` folder (validation/ and test/ are used)")
    parser.add_argument("--clips", type=int, default=16)
    parser.add_argument("--vocos", type=Path, nargs="*", default=[],
                        help="Vocos folders or training runs (latest checkpoint's EMA)")
    parser.add_argument("--c2st", action="store_true",
                        help="also C2ST at 160 mel bands against the train split's clips")
    parser.add_argument("--record", default="decoders",
                        help="results/NAME.json and NAME.png")
    parser.add_argument("--draw", nargs="*", default=None,
                        help="row names to draw (default: every mel row and the calibrations)")
    args = parser.parse_args()

    torch.set_grad_enabled(False)
    clips, names = held_out_clips(args.corpus, args.clips)
    decoders = {"original (no decoding)": lambda wave: wave,
                **mel_decoders(clips, args.vocos), **other_decoders(clips)}
    reference = train_clips(args.corpus, len(clips)) if args.c2st else None
    rows, outputs = [], {}
    for label, decode in decoders.items():
        started = time.perf_counter()
        decoded = decode(clips).float()
        seconds = time.perf_counter() - started
        outputs[label] = decoded[0]
        rows.append({"decoder": label, **score(decoded, clips),
                     "seconds_per_audio_second": seconds / (len(clips) * SECONDS)})
        if reference is not None:
            two = c2st(reference, decoded[:, 0].numpy(), RATE, seed=0, n_mels=FINE_N_MELS)
            rows[-1]["c2st"] = {"accuracy": two.accuracy, "ci_low": two.ci_low,
                                "ci_high": two.ci_high}
        print(f"{label:58s} MR-STFT {rows[-1]['mr_stft']['mean']:.3f}  "
              f"LSD {rows[-1]['lsd_db']['mean']:5.1f} dB  "
              f"flatness {rows[-1]['flatness']:.4f}"
              + (f"  C2ST {rows[-1]['c2st']['accuracy']:.2f}" if reference is not None else ""),
              flush=True)

    RESULTS.mkdir(exist_ok=True)
    drawn = [label for label in outputs if (args.draw is None or label in args.draw)
             and label != "original (no decoding)"]  # draw() puts the original on top
    if args.draw is None:  # the default model's decoders and the two nearest calibrations
        drawn = [label for label in drawn if (label.startswith("mel 64") and "256" not in label)
                 or "mu-law" in label or "40 dB" in label]
    draw(clips[0], {label: outputs[label] for label in drawn}, names[0],
         RESULTS / f"{args.record}.png")
    record = {"date": datetime.date.today().isoformat(), "machine": platform.machine(),
              "cadenza": __version__, "torch": torch.__version__, "clips": names,
              "rate": RATE, "seconds": SECONDS, "rows": rows}
    write_json(RESULTS / f"{args.record}.json", record)
    print("\n| decoder | MR-STFT (mean, quartiles) | LSD dB (mean, quartiles) | flatness "
          "(median) | C2ST, 160 bands | s per audio s |")
    print("|---|---|---|---:|---:|---|")
    for row in rows:
        mr, lsd = row["mr_stft"], row["lsd_db"]
        two = (f"{row['c2st']['accuracy']:.2f} [{row['c2st']['ci_low']:.2f}, "
               f"{row['c2st']['ci_high']:.2f}]" if "c2st" in row else "-")
        print(f"| {row['decoder']} | {mr['mean']:.3f} ({mr['quartiles'][0]:.3f}-"
              f"{mr['quartiles'][1]:.3f}) | {lsd['mean']:.1f} ({lsd['quartiles'][0]:.1f}-"
              f"{lsd['quartiles'][1]:.1f}) | {row['flatness']:.4f} | {two} | "
              f"{row['seconds_per_audio_second']:.4f} |")


if __name__ == "__main__":
    main()
