"""Joining new audio to known audio: the mirror that pads a gap, equal-power crossfades, and
loudness matched to the audio around a gap."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from cadenza.loudness import PEAK_CEILING_DB, integrated_loudness, level_difference_db

SEAM_SECONDS = 0.02
"""Crossfade where decoded audio meets known audio, for representations that lose the phase."""

CONTEXT_SECONDS = 3.0
"""New audio is matched to the loudness of the known audio this close to it, on either side."""

MAX_MATCH_DB = 24.0
"""The most a gap's loudness is changed: a near-silent gap is not raised into loud noise."""

GLIDE_DB_PER_SECOND = 1.0
"""How fast an extension's level moves back towards its prompt's. Each window is matched to the
audio just before it, so no seam steps; the glide keeps that chain from drifting (a window
held down to stay under the peak ceiling would hold down every window after it) and a prompt
that ends on a quiet bar from setting the level of everything that follows."""


def match_context(decoded: Tensor, canvas: Tensor, spans: list[tuple[int, int]], rate: int,
                  gains: list[dict] | None = None) -> Tensor:
    """``decoded`` with each span ``[first, last)`` (samples) brought to the loudness of the
    known audio of ``canvas`` within ``CONTEXT_SECONDS`` of it: a gap with known audio on both
    sides starts at the level of the audio before it and ends at the level of the audio after
    it (a ramp in dB between), a span with known audio on one side takes that side's level.
    At most ``MAX_MATCH_DB`` either way and never above ``PEAK_CEILING_DB``. The gain ramps in
    from 1 over ``SEAM_SECONDS`` where the span meets known audio, so a waveform model's
    sample-exact join stays a join."""
    known = torch.ones(canvas.shape[-1], dtype=torch.bool)
    for first, last in spans:
        known[first:last] = False
    reach, ramp = round(CONTEXT_SECONDS * rate), max(1, round(SEAM_SECONDS * rate))
    out = decoded.clone()
    for index in range(canvas.shape[0]):
        for first, last in spans:
            new = decoded[index, :, first:last]
            sides = []
            for low, high in ((max(0, first - reach), first), (last, last + reach)):
                near = torch.zeros_like(known)
                near[low:high] = True
                context = canvas[index][:, (near & known).to(canvas.device)].cpu().numpy()
                sides.append(level_difference_db(new.cpu().numpy(), context, rate)
                             if context.shape[-1] else None)
            measured = [side for side in sides if side is not None]
            start_db, end_db = ((sides[0], sides[1]) if len(measured) == 2 else
                                (measured[0],) * 2 if measured else (0.0, 0.0))
            level_db = torch.linspace(max(-MAX_MATCH_DB, min(MAX_MATCH_DB, start_db)),
                                      max(-MAX_MATCH_DB, min(MAX_MATCH_DB, end_db)),
                                      last - first, dtype=torch.float64).to(new.device)
            peak_db = 20 * math.log10(max(float((new.abs().amax(0) * 10 ** (level_db / 20)).max()),
                                          1e-12))
            limited = peak_db > PEAK_CEILING_DB
            if limited:
                level_db = level_db - (peak_db - PEAK_CEILING_DB)
            ramped = span_gain(first, last, canvas.shape[-1], ramp, new)
            envelope = 1 + ((10 ** (level_db / 20)).to(new) - 1) * ramped
            out[index, :, first:last] = new * envelope
            if gains is not None:
                gains.append({"clip": index, "start_seconds": round(first / rate, 6),
                              "end_seconds": round(last / rate, 6),
                              "gain_db": round(float(level_db[0]), 3),
                              "end_gain_db": round(float(level_db[-1]), 3),
                              "matched": bool(measured), "peak_limited": bool(limited)})
    return out


def glide(new: Tensor, previous_lufs: list[float], target_lufs: list[float], rate: int
          ) -> tuple[Tensor, list[float], list[float]]:
    """``new`` audio ``(batch, channels, samples)``, the next stretch of an extension whose last
    stretch was at ``previous_lufs``, brought to a loudness that moves from there towards each
    clip's ``target_lufs`` by at most ``GLIDE_DB_PER_SECOND`` per second of ``new``, and never
    past ``PEAK_CEILING_DB``. The gain moves (in dB, over the first quarter) from the one that
    puts ``new`` at the previous level, so the seam has no step, to that one, then holds.
    Returns the audio, each clip's final gain in dB (0 where there is nothing to measure) and
    the loudness each clip was brought to, the next stretch's ``previous_lufs``. Planning
    from the last stretch, not from the longer stretch before the seam that the new audio was
    matched to, lets the level move at the full rate."""
    out, gains, levels = new.clone(), [], []
    limit = GLIDE_DB_PER_SECOND * new.shape[-1] / rate
    for index, (previous, target) in enumerate(zip(previous_lufs, target_lufs, strict=True)):
        level = integrated_loudness(new[index].cpu().numpy(), rate)
        if not all(math.isfinite(value) for value in (level, previous, target)):
            gains.append(0.0)
            levels.append(level if math.isfinite(level) else previous)
            continue
        headroom = PEAK_CEILING_DB - 20 * math.log10(float(new[index].abs().max()))
        start_db = min(previous - level, headroom)
        gain_db = min(previous + min(limit, max(-limit, target - previous)) - level, headroom)
        ramp = torch.full((new.shape[-1],), gain_db, dtype=torch.float64)
        rise = max(1, new.shape[-1] // 4)
        ramp[:rise] = torch.linspace(start_db, gain_db, rise, dtype=torch.float64)
        out[index] = new[index] * (10 ** (ramp / 20)).to(new)
        gains.append(round(gain_db, 3))
        levels.append(level + gain_db)
    return out, gains, levels


def span_gain(first: int, last: int, total: int, fade: int, like: Tensor) -> Tensor:
    """The incoming signal's gain over the span ``[first, last)`` of a signal ``total`` samples
    long: 1 inside, rising over ``fade`` samples (at most half the span) from each end that
    meets known audio; no fade where the span meets the signal's own edge, where there is
    nothing to join."""
    length = min(fade, (last - first) // 2)
    rising = fade_in(last - first, length if first > 0 else 0, like)
    falling = fade_in(last - first, length if last < total else 0, like).flip(0)
    return torch.minimum(rising, falling)


def fade_in(length: int, fade: int, like: Tensor) -> Tensor:
    """Gain of the incoming signal: rises from 0 to 1 over the first ``fade`` of ``length``
    samples (a sine, so that with the outgoing gain sqrt(1 - g^2) the power stays constant:
    decoded and original phases are unrelated), then stays exactly 1."""
    gain = torch.ones(length, dtype=like.dtype, device=like.device)
    if fade > 0:
        angles = torch.linspace(0, math.pi / 2, fade + 2, dtype=torch.float64)[1:-1]
        gain[:fade] = torch.sin(angles).to(gain)
    return gain


def paste(base: Tensor, new: Tensor, gain: Tensor) -> Tensor:
    """``new`` over ``base`` with ``gain`` per sample (equal-power); ``base`` exact where gain 0."""
    mixed = base * torch.sqrt(1 - gain**2) + new * gain
    return torch.where(gain == 0, base, torch.where(gain == 1, new, mixed))


def mirror_extend(wave: Tensor, samples: int, side: str) -> Tensor:
    """``wave`` extended by ``samples`` on ``side``: its mirror image, then zeros.

    The mirror continues the known audio smoothly, so the frames next to a gap encode as they
    would at a clip's edge (the STFT pads by reflection too) and the seam's crossfade starts
    from something continuous with the known side.
    """
    if side == "before":
        return mirror_extend(wave.flip(-1), samples, "after").flip(-1)
    mirror = wave.flip(-1)[..., 1: samples + 1]
    zeros = wave.new_zeros(*wave.shape[:-1], samples - mirror.shape[-1])
    return torch.cat([wave, mirror, zeros], dim=-1)
