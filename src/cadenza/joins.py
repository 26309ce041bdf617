"""Joining new audio to known audio: the mirror that pads a gap, crossfades that keep the power
of the two signals' sum, and loudness matched to the audio around a gap."""

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

MAKE_UP_DB, MAKE_UP_TRIES = 0.05, 4
"""A span whose seams are held is raised by the loudness the holds took until it is within
this of its target (the held stretch follows the raised gain, so once may fall short)."""

SEAM_LEVEL_SECONDS = 0.1
"""How much audio either side of a seam tells how loud the new audio starts against how loud the
known audio ends."""

SETTLE_SECONDS = 0.5
"""How long a span's gain takes to move from the seam's to its own. A model hears the known
audio and starts at its level, then settles to a level of its own (a waveform model within its
receptive field); one gain over the whole span, matched to the span's loudness, would lift
that start over the known audio: a burst at the seam."""

FOLLOW_SECONDS = 0.05
"""While a held gain settles it follows the new audio's level, RMS over this long: a model
that settles within a tenth of a second, under a gain that took half a second to rise, would
sag after every seam."""

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
    Where the new audio starts (or ends) nearer the known audio's level than that gain would
    put it, the gain at the seam is held there and moves to the span's over
    ``SETTLE_SECONDS`` (the span made up for what the hold took). At most ``MAX_MATCH_DB``
    either way; peaks the gain would lift past the ceiling are limited
    (:func:`cadenza.loudness.limit_made_up`), and ``gains`` says how deep. The gain ramps in
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
            span_db = [max(-MAX_MATCH_DB, min(MAX_MATCH_DB, side)) for side in (start_db, end_db)]
            seams = _seam_levels(new, canvas[index], known, first, last, rate)
            span_db, level_db = _span_level_db(new, span_db, seams, rate)
            ramped = span_gain(first, last, canvas.shape[-1], ramp, new)

            def gained(extra_db: float, new=new, level_db=level_db, ramped=ramped) -> np.ndarray:
                return _numpy(new * (1 + (_gain(level_db + extra_db, new) - 1) * ramped))

            matched, extra_db, cut_db = limit_made_up(gained, rate)
            out[index, :, first:last] = torch.from_numpy(matched).to(new)
            if gains is not None:
                gains.append({"clip": index, "start_seconds": round(first / rate, 6),
                              "end_seconds": round(last / rate, 6),
                              "gain_db": round(span_db[0] + extra_db, 3),
                              "end_gain_db": round(span_db[1] + extra_db, 3),
                              "seam_gain_db": [round(float(level_db[end]) + extra_db, 3)
                                               for end in (0, -1)],
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


def _seam_levels(new: Tensor, canvas: Tensor, known: Tensor, first: int, last: int, rate: int
                 ) -> tuple[float | None, float | None]:
    """How much louder the known audio is than the new where they meet, in dB, at the span's
    start and end (RMS over ``SEAM_LEVEL_SECONDS`` either side); None where no known audio meets
    it there, or either side is silent."""
    reach = min(round(SEAM_LEVEL_SECONDS * rate), (last - first) // 2)
    if reach < 1:
        return None, None
    sides = []
    for known_span, new_side in (((first - reach, first), new[..., :reach]),
                                 ((last, last + reach), new[..., -reach:])):
        low, high = known_span
        if low < 0 or high > canvas.shape[-1] or not bool(known[low:high].all()):
            sides.append(None)
            continue
        # shorter than a gating block: RMS levels, None where either side is silent
        sides.append(level_difference_db(_numpy(new_side), _numpy(canvas[..., low:high]), rate))
    return sides[0], sides[1]


def _span_level_db(new: Tensor, span_db: list[float], seams: tuple[float | None, float | None],
                   rate: int) -> tuple[list[float], Tensor]:
    """The gain in dB per sample of a span of ``new`` audio to be matched by ``span_db`` (at its
    start and end), held at its seams (:func:`_held_at_seams`) and raised by the loudness the
    holds took, so that the span still meets its target (no hold where that would take the
    gain past ``MAX_MATCH_DB``). Returns the span's gains at start and end, and the curve."""
    device = new.device
    line = _held_at_seams(span_db, (None, None), new, rate).to(device)
    held = _held_at_seams(span_db, seams, new, rate).to(device)
    if torch.equal(line, held):
        return span_db, held
    target = integrated_loudness(_numpy(new * _gain(line, new)), rate)
    made_up = list(span_db)
    for _ in range(MAKE_UP_TRIES):  # the held stretch follows the span's gain: settle on it
        taken = target - integrated_loudness(_numpy(new * _gain(held, new)), rate)
        if not math.isfinite(taken) or taken <= MAKE_UP_DB:
            break
        made_up = [side + taken for side in made_up]
        if max(abs(side) for side in made_up) > MAX_MATCH_DB:
            return span_db, line  # a span already lifted near the most: no room to make up a hold
        held = _held_at_seams(made_up, seams, new, rate).to(device)
    return made_up, held


def _held_at_seams(span_db: list[float], seams: tuple[float | None, float | None], new: Tensor,
                   rate: int) -> Tensor:
    """A span's gain in dB per sample: from ``span_db[0]`` to ``span_db[1]`` (a line), except
    near a seam where the new audio already meets the known audio's level more closely than
    the span's gain would put it: there the gain starts at the one that meets it (between 0 dB,
    the audio as it came, and the span's gain), follows the new audio's level
    (:func:`_settling_db`) and moves to the span's over ``SETTLE_SECONDS`` (a raised cosine)."""
    length = new.shape[-1]
    level_db = torch.linspace(span_db[0], span_db[1], length, dtype=torch.float64)
    settle = min(round(SETTLE_SECONDS * rate), length // 2)
    if settle < 1:
        return level_db
    weight = 0.5 + 0.5 * torch.cos(torch.linspace(0, math.pi, settle, dtype=torch.float64))
    for seam_db, end in zip(seams, (0, length - 1), strict=True):
        if seam_db is None:
            continue
        planned = float(level_db[end])
        held = min(max(seam_db, min(0.0, planned)), max(0.0, planned))
        if held == planned:
            continue
        side = new[..., :settle] if end == 0 else new[..., -settle:].flip(-1)
        follow = (held + _settling_db(side, rate)).clamp(min(held, planned), max(held, planned))
        if end == 0:
            level_db[:settle] += (follow - planned) * weight
        else:
            level_db[-settle:] += ((follow - planned) * weight).flip(0)
    return level_db


def _settling_db(side: Tensor, rate: int) -> Tensor:
    """How much quieter ``side`` (new audio, its seam first) is, per sample, than where it
    meets the known audio: its RMS over ``FOLLOW_SECONDS`` around each sample against its RMS
    over the ``SEAM_LEVEL_SECONDS`` after the seam, in dB (positive where it has fallen)."""
    power = side.double().pow(2).reshape(-1, side.shape[-1]).mean(0)
    width = max(1, min(round(FOLLOW_SECONDS * rate), side.shape[-1]))
    padded = torch.nn.functional.pad(power[None, None], (width // 2, width - 1 - width // 2),
                                     mode="replicate")
    around = torch.nn.functional.avg_pool1d(padded, width, stride=1)[0, 0]
    at_seam = power[: max(1, round(SEAM_LEVEL_SECONDS * rate))].mean()
    return 10 * torch.log10((at_seam + 1e-12) / (around + 1e-12))


def _gain(level_db: Tensor, like: Tensor) -> Tensor:
    return (10 ** (level_db / 20)).to(like)


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
    samples (a sine: with the outgoing gain sqrt(1 - g^2) the power of two unrelated signals
    stays constant; :func:`paste` adjusts the outgoing gain for related ones), then stays
    exactly 1."""
    gain = torch.ones(length, dtype=like.dtype, device=like.device)
    if fade > 0:
        angles = torch.linspace(0, math.pi / 2, fade + 2, dtype=torch.float64)[1:-1]
        gain[:fade] = torch.sin(angles).to(gain)
    return gain


def paste(base: Tensor, new: Tensor, gain: Tensor) -> Tensor:
    """``new`` over ``base`` with ``gain`` per sample; ``base`` exact where gain 0, ``new``
    where 1. Each crossfade keeps the power of the two signals' sum: ``base`` goes out as
    ``sqrt(1 - gain^2 (1 - rho^2)) - rho gain``, with ``rho`` their correlation over that
    crossfade (at least 0), which is the equal-power law for unrelated signals (a decoded phase)
    and the linear one for the same signal (a waveform model's continuation of the known audio,
    which an equal-power law would lift by up to 3 dB)."""
    outgoing = torch.sqrt(1 - gain**2)
    fading = ((gain > 0) & (gain < 1)).cpu()
    edges = torch.diff(fading.to(torch.int8), prepend=torch.zeros(1, dtype=torch.int8),
                       append=torch.zeros(1, dtype=torch.int8)).nonzero().flatten().tolist()
    if edges:
        outgoing = outgoing.expand(base.shape).clone()
        for first, last in zip(edges[::2], edges[1::2], strict=True):
            rho = correlation(base[..., first:last], new[..., first:last]).clamp(0, 1)[..., None]
            ramp = gain[first:last]
            outgoing[..., first:last] = (torch.sqrt(1 - ramp**2 * (1 - rho**2)) - rho * ramp
                                         ).to(outgoing)
    mixed = base * outgoing + new * gain
    return torch.where(gain == 0, base, torch.where(gain == 1, new, mixed))


def correlation(a: Tensor, b: Tensor) -> Tensor:
    """The normalised correlation of ``a`` and ``b`` along their last axis (0 where either is
    silent)."""
    a, b = a.double(), b.double()
    norms = torch.sqrt((a * a).sum(-1) * (b * b).sum(-1))
    return torch.where(norms > 0, (a * b).sum(-1) / norms.clamp_min(1e-300),
                       torch.zeros_like(norms))


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
