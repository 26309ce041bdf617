"""Joining new audio to known audio: the mirror that pads a gap, equal-power crossfades, and
loudness matched to the audio around a gap."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from cadenza.loudness import integrated_loudness, level_difference_db, limit_made_up

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
    At most ``MAX_MATCH_DB`` either way; peaks the gain would lift past the ceiling are
    limited (:func:`cadenza.loudness.limit_made_up`), and ``gains`` says how deep. The gain ramps in
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
            ramped = span_gain(first, last, canvas.shape[-1], ramp, new)

            def gained(extra_db: float, new=new, level_db=level_db, ramped=ramped) -> np.ndarray:
                return _numpy(new * (1 + ((10 ** ((level_db + extra_db) / 20)).to(new) - 1)
                                     * ramped))

            matched, extra_db, cut_db = limit_made_up(gained, rate)
            out[index, :, first:last] = torch.from_numpy(matched).to(new)
            if gains is not None:
                gains.append({"clip": index, "start_seconds": round(first / rate, 6),
                              "end_seconds": round(last / rate, 6),
                              "gain_db": round(float(level_db[0]) + extra_db, 3),
                              "end_gain_db": round(float(level_db[-1]) + extra_db, 3),
                              "matched": bool(measured), "peak_limited": cut_db > 0,
                              "limiter_db": cut_db})
    return out


def glide(new: Tensor, previous_lufs: list[float], target_lufs: list[float], rate: int
          ) -> tuple[Tensor, list[float], list[float], list[float]]:
    """``new`` audio ``(batch, channels, samples)``, the next stretch of an extension whose last
    stretch was at ``previous_lufs``, brought to a loudness that moves from there towards each
    clip's ``target_lufs`` by at most ``GLIDE_DB_PER_SECOND`` per second of ``new``, its peaks
    limited under the ceiling (:func:`cadenza.loudness.limit_made_up`). The gain moves (in dB,
    over the first quarter) from the one that puts ``new`` at the previous level, so the seam
    has no step, to that one, then holds.
    Returns the audio, each clip's final gain in dB (0 where there is nothing to measure), the
    loudness each clip was brought to (the next stretch's ``previous_lufs``) and the limiter's
    deepest cut in each, dB. Planning
    from the last stretch, not from the longer stretch before the seam that the new audio was
    matched to, lets the level move at the full rate."""
    out, gains, levels, cuts = new.clone(), [], [], []
    reach = GLIDE_DB_PER_SECOND * new.shape[-1] / rate
    for index, (previous, target) in enumerate(zip(previous_lufs, target_lufs, strict=True)):
        level = integrated_loudness(new[index].cpu().numpy(), rate)
        if not all(math.isfinite(value) for value in (level, previous, target)):
            gains.append(0.0)
            levels.append(level if math.isfinite(level) else previous)
            cuts.append(0.0)
            continue
        start_db = previous - level
        gain_db = previous + min(reach, max(-reach, target - previous)) - level
        ramp = torch.full((new.shape[-1],), gain_db, dtype=torch.float64)
        rise = max(1, new.shape[-1] // 4)
        ramp[:rise] = torch.linspace(start_db, gain_db, rise, dtype=torch.float64)
        glided, extra_db, cut_db = limit_made_up(
            lambda extra_db, index=index, ramp=ramp: _numpy(
                new[index] * (10 ** ((ramp + extra_db) / 20)).to(new)), rate)
        out[index] = torch.from_numpy(glided).to(new)
        gains.append(round(gain_db + extra_db, 3))  # with what the limiter's loss gave back
        # where the limiter could not give back all it took, the next stretch starts lower
        levels.append(integrated_loudness(glided, rate) if cut_db else level + gain_db)
        cuts.append(cut_db)
    return out, gains, levels, cuts


def _numpy(wave: Tensor) -> np.ndarray:
    return wave.detach().cpu().numpy()


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
