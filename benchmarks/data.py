"""Representation throughput on one CPU core, and cadenza's log-mel against librosa's.

    python benchmarks/data.py [--seconds 10] [--batch 4] [--repeats 9] [--audio DIR]

Encodes (and decodes) a batch of mono 22.05 kHz clips with every representation and reports
the median speed as audio hours per minute of wall time on one core. Then computes the log-mel
of the same audio with ``librosa.feature.melspectrogram`` at the same parameters (n_fft, hop,
periodic Hann window, centred reflect padding, Slaney mel filterbank, magnitude) and the same
log floor, and reports the speed ratio and the largest absolute difference of the log-mels.
The audio is synthetic piano unless ``--audio`` names a folder of audio files. Writes a
markdown table to ``benchmarks/results/data.md``.
"""

from __future__ import annotations

import os

# One core for every library, set before numpy and torch start their thread pools.
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

import argparse  # noqa: E402
import datetime  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import librosa  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from cadenza.representations import KINDS, Mel, representation  # noqa: E402

SAMPLE_RATE = 22050


def synthetic_piano(count: int, seconds: float, seed: int = 0) -> np.ndarray:
    """``(count, samples)`` piano-like clips: struck notes of decaying inharmonic partials."""
    rng = np.random.default_rng(seed)
    time_axis = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    clips = np.zeros((count, time_axis.size))
    for clip in clips:
        for onset in np.arange(0, seconds, 0.25):
            fundamental = 440 * 2 ** ((rng.integers(36, 84) - 69) / 12)
            since_onset = np.clip(time_axis - onset, 0, None)
            for partial in range(1, 16):
                frequency = partial * fundamental * math.sqrt(1 + 4e-4 * partial**2)
                if frequency > SAMPLE_RATE / 2.5:
                    break
                envelope = np.exp(-(1.5 + 0.8 * partial) * since_onset) * (since_onset > 0)
                tone = np.sin(2 * np.pi * frequency * since_onset + rng.uniform(0, 2 * np.pi))
                clip += envelope * tone / partial
        clip *= 0.5 / np.abs(clip).max()
    return clips.astype(np.float32)


def files(folder: Path, count: int, seconds: float) -> np.ndarray:
    from cadenza.data import audio

    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in audio.AUDIO_SUFFIXES)
    samples = round(seconds * SAMPLE_RATE)
    clips = []
    for path in paths[:count]:
        wave = audio.load(path, SAMPLE_RATE, channels=1, seconds=seconds)[0][0]
        clips.append(np.pad(wave, (0, samples - wave.size)))
    if len(clips) < count:
        raise SystemExit(f"{folder}: need {count} audio files, found {len(clips)}")
    return np.stack(clips)


def median_seconds(work: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``work`` after one warm-up call."""
    work()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def paired_median_seconds(
    first: Callable[[], object], second: Callable[[], object], repeats: int
) -> tuple[float, float]:
    """Median wall times of two calls timed alternately, so that load on the machine hits both."""
    first(), second()
    first_times, second_times = [], []
    for _ in range(repeats):
        for work, times in ((first, first_times), (second, second_times)):
            start = time.perf_counter()
            work()
            times.append(time.perf_counter() - start)
    return statistics.median(first_times), statistics.median(second_times)


def hours_per_minute(audio_seconds: float, wall_seconds: float) -> float:
    return (audio_seconds / 3600) / (wall_seconds / 60)


def librosa_log_mel(clips: np.ndarray, mel: Mel) -> np.ndarray:
    spectrogram = librosa.feature.melspectrogram(
        y=clips,
        sr=mel.sample_rate,
        n_fft=mel.n_fft,
        hop_length=mel.hop_length,
        window="hann",
        center=True,
        pad_mode=mel.pad_mode,
        power=mel.power,
        n_mels=mel.n_mels,
    )
    return np.log(np.maximum(spectrogram, mel.log_floor))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each clip")
    parser.add_argument("--batch", type=int, default=4, help="clips per call")
    parser.add_argument("--repeats", type=int, default=9, help="timed calls (median reported)")
    parser.add_argument("--audio", type=Path, help="folder of audio files instead of synthetic")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/data.md"))
    args = parser.parse_args()
    torch.set_num_threads(1)

    if args.audio:
        clips = files(args.audio, args.batch, args.seconds)
    else:
        clips = synthetic_piano(args.batch, args.seconds)
    wave = torch.from_numpy(clips)[:, None]
    audio_seconds = args.batch * args.seconds

    rows = []
    for kind in KINDS:
        rep = representation(kind)
        if isinstance(rep, Mel):
            rep.fit([wave])
        with torch.inference_mode():
            encoded = rep.encode(wave)
            encode_time = median_seconds(lambda rep=rep: rep.encode(wave), args.repeats)
            decode_time = median_seconds(
                lambda rep=rep, encoded=encoded: rep.decode(encoded, samples=wave.shape[-1]),
                args.repeats,
            )
        rows.append(
            f"| {kind} | {'x'.join(map(str, encoded.shape[1:]))} "
            f"| {hours_per_minute(audio_seconds, encode_time):.1f} "
            f"| {hours_per_minute(audio_seconds, decode_time):.2f} |"
        )

    mel = representation("mel")
    with torch.inference_mode():
        ours = mel.log_mel(wave)[:, 0].numpy()
        theirs = librosa_log_mel(clips, mel)
        ours_time, theirs_time = paired_median_seconds(
            lambda: mel.log_mel(wave), lambda: librosa_log_mel(clips, mel), args.repeats
        )
    difference = float(np.abs(ours - theirs).max())
    loud = theirs > theirs.max() - math.log(1000)  # within 60 dB of the peak
    loud_difference = float(np.abs(ours - theirs)[loud].max())
    relative = float(np.abs(np.exp(ours) - np.exp(theirs)).max() / np.exp(theirs).max())

    source = str(args.audio) if args.audio else "synthetic piano"
    report = "\n".join(
        [
            f"# Representation throughput ({datetime.date.today().isoformat()})",
            "",
            f"{platform.machine()}, one thread; torch "
            f"{torch.__version__}, librosa {librosa.__version__}, numpy {np.__version__}. "
            f"{args.batch} mono clips x {args.seconds:g} s at {SAMPLE_RATE} Hz ({source}); "
            f"median of {args.repeats} calls after a warm-up (cadenza and librosa timed "
            "alternately). Speeds in audio hours per minute per core (higher is faster); mel "
            "decodes by 32 iterations of fast Griffin-Lim.",
            "",
            "| representation | encoded shape (per clip) | encode | decode |",
            "|---|---|---:|---:|",
            *rows,
            "",
            f"Log-mel (n_fft {mel.n_fft}, hop {mel.hop_length}, {mel.n_mels} mels, power "
            f"{mel.power:g}, log floor {mel.log_floor:g}) of the same audio:",
            "",
            "| | cadenza `Mel.log_mel` | librosa `melspectrogram` + log | cadenza / librosa |",
            "|---|---:|---:|---:|",
            f"| audio h / min / core | {hours_per_minute(audio_seconds, ours_time):.1f} "
            f"| {hours_per_minute(audio_seconds, theirs_time):.1f} "
            f"| {theirs_time / ours_time:.2f} |",
            "",
            f"Max abs difference of the log-mels: {difference:.2e} nats ({loud_difference:.2e} "
            "on bins within 60 dB of the peak; the larger ones are float32 rounding of mels "
            f"near the floor). Max abs difference of the mels relative to their peak: "
            f"{relative:.2e}.",
        ]
    )
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    temporary = args.out.with_suffix(".tmp")
    temporary.write_text(report + "\n")
    temporary.replace(args.out)


if __name__ == "__main__":
    main()
