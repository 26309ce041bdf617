"""The user's audio format around the model's: the user's audio goes to the model at the model's
rate and channels, and comes back at the user's, with every known sample untouched.

A model works at its own rate and channel count (16 kHz mono for the shipped piano). An edit
must not hand a 44.1 kHz stereo master back as 16 kHz mono: only the regions the model made
are converted (soxr, then the same audio in every channel) and joined to the user's own
samples with a short crossfade inside each region (:func:`cadenza.joins.paste`); everywhere
else the output is the input, sample for sample. Where the user's rate reaches above the
model's band, the made regions' band is continued from the user's audio around them
(:mod:`cadenza.band`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import soundfile
import soxr
import torch

from cadenza import band
from cadenza.data import audio
from cadenza.joins import CONTEXT_SECONDS, SEAM_SECONDS, fade_in, mirror_extend, paste, span_gain
from cadenza.loudness import PEAK_CEILING_DB


@dataclass(frozen=True)
class Format:
    """A sample rate and channel count, and the wav subtype that keeps samples exact."""

    sample_rate: int
    channels: int
    subtype: str = "float"

    def record(self) -> dict:
        return {"sample_rate": self.sample_rate, "channels": self.channels,
                "subtype": self.subtype}


def format_of(path: str, sample_rate: int | None = None, channels: int | None = None) -> Format:
    """The format of the audio file at ``path`` (or the rate and channels asked for instead),
    with a wav subtype that holds its decoded samples exactly: 16- or 24-bit PCM for PCM
    files of that depth, float for everything else (float, lossy codecs)."""
    if sample_rate is not None and sample_rate < audio.MIN_SAMPLE_RATE:
        raise ValueError(f"--rate must be at least {audio.MIN_SAMPLE_RATE} Hz, got {sample_rate}")
    if channels is not None and channels < 1:
        raise ValueError(f"--channels must be at least 1, got {channels}")
    header = audio.info(path)
    depth = {"PCM_16": "pcm16", "PCM_24": "pcm24"}.get(soundfile.info(str(path)).subtype,
                                                       "float")
    return Format(header.sample_rate if sample_rate is None else sample_rate,
                  header.channels if channels is None else channels, depth)


def to_model(wave: np.ndarray, rate: int, model_rate: int, model_channels: int) -> torch.Tensor:
    """User audio ``(channels, samples)`` at ``rate`` as the model takes it."""
    wave = audio.to_channels(np.asarray(wave, dtype=np.float32), model_channels)
    if rate != model_rate:
        wave = audio.resample(wave, rate, model_rate)
    return torch.from_numpy(np.ascontiguousarray(wave, dtype=np.float32))


def fills_band(model_rate: int, user: Format, band_fill: bool = True) -> list[float] | None:
    """The band ``[low, high]`` (Hz) that :mod:`cadenza.band` fills in made audio for ``user``,
    or None: the model's band reaches the user's, or ``band_fill`` is off."""
    edge = model_rate / 2
    if not band_fill or user.sample_rate / 2 <= edge:
        return None
    return [band.FILL_FROM * edge, user.sample_rate / 2]


def to_user(made: torch.Tensor, model_rate: int, base: np.ndarray, user: Format,
            regions: Iterable[tuple[float, float]], band_fill: bool = True
            ) -> tuple[np.ndarray, dict]:
    """The output in the user's format: ``base`` (the user's audio placed on the output's time
    line, ``(channels, samples)`` at ``user.sample_rate``) with each region ``[start, end)``
    (seconds) taken from ``made`` (the model's output over the same time line), resampled and
    copied to every channel, its band above the model's continued from the known audio within
    ``CONTEXT_SECONDS`` of it (unless ``band_fill`` is off). Regions that meet known audio start
    and end with a crossfade of ``SEAM_SECONDS`` inside them; the made audio is scaled down if
    it would pass the true-peak ceiling. Returns the output and what was done."""
    rate, length = user.sample_rate, base.shape[-1]
    regions = [(round(start * rate), min(round(end * rate), length)) for start, end in regions]
    converted = _converted(made, model_rate, user, length)
    filling = fills_band(model_rate, user, band_fill)
    known = np.ones(length, dtype=bool)
    for first, last in regions:
        known[first:last] = False
    out, gains, filled = base.copy(), [], False
    for first, last in regions:
        span = converted[:, first:last]
        if filling:
            extra = _band(converted, base, known, first, last, rate, model_rate / 2)
            filled = filled or extra is not None
            span = span if extra is None else span + extra
        gain = _headroom(span)
        gains.append(round(20 * np.log10(gain), 3) if gain < 1 else 0.0)
        old = torch.from_numpy(base[:, first:last].astype(np.float64))
        new = torch.from_numpy(span.astype(np.float64) * gain)
        weight = span_gain(first, last, length, round(SEAM_SECONDS * rate), old)
        out[:, first:last] = paste(old, new, weight).numpy().astype(base.dtype)
    return out, {"headroom_gains_db": gains, "band_filled_hz": filling if filled else None,
                 "clipped_samples": int((np.abs(out) >= 1.0).sum())}


def _band(converted: np.ndarray, base: np.ndarray, known: np.ndarray, first: int, last: int,
          rate: int, edge_hz: float) -> np.ndarray | None:
    """The band above ``edge_hz`` for ``converted[:, first:last]``, its envelope moving from the
    known audio's before the region to the known audio's after it (one side's alone when only
    one side is known). With no known audio near (a transfer, an interpolation: all of it
    made) the envelope is that of the user's audio the region replaces; None if that is
    shorter than a frame too. The band is made over a frame more on either side, so that it is
    whole at the seams."""
    reach = round(CONTEXT_SECONDS * rate)
    sides = []
    for low, high in ((max(0, first - reach), first), (last, min(len(known), last + reach))):
        context = base[:, low:high][:, known[low:high]]
        sides.append(band.envelope_gain(context.astype(np.float64), rate, edge_hz))
    measured = [side for side in sides if side is not None]
    if not measured:
        replaced = band.envelope_gain(base[:, first:last].astype(np.float64), rate, edge_hz)
        measured = [] if replaced is None else [replaced]
    if not measured:
        return None
    start, end = (sides[0], sides[1]) if len(measured) == 2 else (measured[0], None)
    low, high = max(0, first - band.N_FFT), min(converted.shape[-1], last + band.N_FFT)
    filled = band.fill(converted[:, low:high].astype(np.float64), rate, edge_hz, start, end)
    return filled[:, first - low: last - low].astype(converted.dtype)


def placed(wave: np.ndarray, before: int = 0, after: int = 0) -> np.ndarray:
    """``wave`` on a longer time line: ``before`` samples ahead of it and ``after`` behind it,
    filled with its mirror image (what the model's own padding does), so a crossfade into a
    new region starts from something continuous with the user's audio."""
    tensor = torch.from_numpy(np.ascontiguousarray(wave))
    if after:
        tensor = mirror_extend(tensor, after, "after")
    if before:
        tensor = mirror_extend(tensor, before, "before")
    return tensor.numpy()


def stream_to_user(chunks: Iterator[torch.Tensor], model_rate: int, prompt: np.ndarray,
                   user: Format, added: int, band_fill: bool = True) -> Iterator[np.ndarray]:
    """An extension streamed in the user's format, ``(channels, n)`` pieces: ``prompt`` (the
    user's audio) as it is, then ``added`` new samples: the model's chunks beyond the prompt,
    resampled as one stream (hours of audio never sit in memory), copied to every channel with
    the band above the model's continued from the prompt's last ``CONTEXT_SECONDS`` (unless
    ``band_fill`` is off), the first of them crossfading from the prompt's mirror image.
    ``chunks`` are the model's ``(1, channels, n)`` pieces of prompt and continuation
    (``cadenza.tasks.extend_chunks``); the stream runs over the prompt too, so its filter
    starts on real audio."""
    known = prompt.shape[-1]
    fade = min(round(SEAM_SECONDS * user.sample_rate), added)
    mirror = placed(prompt, after=fade)[:, known:]
    rising = fade_in(fade, fade, torch.empty(0, dtype=torch.float64)).numpy()
    stream = soxr.ResampleStream(model_rate, user.sample_rate, 1, dtype="float32",
                                 quality="VHQ")
    filler, waiting = None, np.zeros((user.channels, 0))
    if fills_band(model_rate, user, band_fill):
        context = prompt[:, -round(CONTEXT_SECONDS * user.sample_rate):].astype(np.float64)
        gain = band.envelope_gain(context, user.sample_rate, model_rate / 2)
        if gain is not None:
            filler = band.Filler(user.sample_rate, model_rate / 2, gain)
    yield prompt
    seen = done = 0  # resampled samples seen; new samples written
    for piece, last in _chunks_then_end(chunks):
        out = stream.resample_chunk(piece[0].float().mean(dim=0).numpy(), last=last)
        out = np.repeat(out[None], user.channels, axis=0).astype(np.float64)
        # The band starts a frame before the seam (the prompt's own samples are kept), and
        # comes a frame behind the stream: samples wait for theirs.
        if filler is not None and seen + out.shape[-1] > known - band.N_FFT:
            waiting = np.concatenate([waiting, out], axis=-1)
            banded = filler.push(out)
            if last:
                banded = np.concatenate([banded, filler.close()], axis=-1)
            out, waiting = waiting[:, : banded.shape[-1]] + banded, waiting[:, banded.shape[-1]:]
        skip, seen = max(0, known - seen), seen + out.shape[-1]
        new = out[:, skip:][:, : added - done].astype(prompt.dtype)
        if new.shape[-1] == 0:
            continue
        if done < fade:
            count = min(fade - done, new.shape[-1])
            new[:, :count] = paste(torch.from_numpy(mirror[:, done: done + count]),
                                   torch.from_numpy(new[:, :count]),
                                   torch.from_numpy(rising[done: done + count])).numpy()
        done += new.shape[-1]
        yield new
    if done < added:  # the resampled length can fall a sample short of the exact count
        yield np.zeros((user.channels, added - done), dtype=prompt.dtype)


def _chunks_then_end(chunks: Iterator[torch.Tensor]) -> Iterator[tuple[torch.Tensor, bool]]:
    previous = None
    for chunk in chunks:
        if previous is not None:
            yield previous, False
        previous = chunk
    if previous is not None:
        yield previous, True


def _converted(made: torch.Tensor, model_rate: int, user: Format, length: int) -> np.ndarray:
    """The model's ``(channels, samples)`` output at the user's rate, length and channels."""
    wave = made.float().mean(dim=0, keepdim=True).numpy()  # one signal, placed in every channel
    if model_rate != user.sample_rate:
        wave = audio.resample(wave, model_rate, user.sample_rate)
    wave = wave[:, :length]
    if wave.shape[-1] < length:
        wave = np.pad(wave, ((0, 0), (0, length - wave.shape[-1])))
    return np.repeat(wave, user.channels, axis=0)


def _headroom(span: np.ndarray) -> float:
    """The gain (at most 1) that keeps ``span`` under the ceiling after resampling."""
    peak = float(np.abs(span).max()) if span.size else 0.0
    ceiling = 10 ** (PEAK_CEILING_DB / 20)
    return min(1.0, ceiling / peak) if peak > 0 else 1.0
