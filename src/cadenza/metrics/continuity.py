"""Continuity: does a continuation carry on its prompt, or just follow it?

Extension (seed 003) and outpainting should continue the piece: same key, same pace, same
loudness, and no audible seam. ``continuity`` measures each, model-free:

- harmony: cosine of the mean chroma vectors, and the Krumhansl–Kessler key of each side
  (``key_agrees``; ``key_score`` grades it as MIREX does, by mir_eval; ``key_correlation`` is
  how well the continuation fits the prompt's key profile);
- pace: onset rate (librosa onset detection) of each side and their ratio (1 is ideal);
- loudness: RMS level in dB just before and just after the seam, and the jump;
- seam: spectral flux (positive log-mel change, librosa's onset strength) across the seam
  relative to the flux elsewhere in the joined audio. Flux is spiky, so the seam's value (the
  largest flux among the frames whose window covers the seam) is compared with the same
  statistic over every other stretch of that many frames (their median): 1 or below for a
  seam no more abrupt than the music around it, well above 1 for an audible cut.

``join_dips`` looks inside a continuation made window by window: does the level fall away
just before each join (a window fading at its end), which a 3 s loudness at the seam misses?
``join_rises`` asks the opposite: does the level leap just after each join (a window starting
with a burst)? ``join_profiles`` gives the level around each join, block by block, so that a
sag shortly after the joins (a gain that rises later than the new audio settles) shows in
their median where the loudest block of each join hides it.
``silences`` lists where a continuation falls silent anywhere.
"""

from __future__ import annotations

import librosa
import mir_eval
import numpy as np

from cadenza.metrics.arrays import as_mono

PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
# Krumhansl and Kessler (1982) probe-tone profiles, tonic first.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def mean_chroma(
    wave: np.ndarray, sample_rate: int, n_fft: int = 4096, hop_length: int = 512
) -> np.ndarray:
    """Mean chroma ``(12,)`` of one clip, C first (tuning fixed at A440)."""
    chroma = librosa.feature.chroma_stft(y=as_mono(wave), sr=sample_rate, n_fft=n_fft,
                                         hop_length=hop_length, tuning=0.0)
    return chroma.mean(axis=1)


def _key_profiles() -> tuple[list[str], np.ndarray]:
    names, profiles = [], []
    for mode, profile in (("major", MAJOR_PROFILE), ("minor", MINOR_PROFILE)):
        for tonic in range(12):
            names.append(f"{PITCH_CLASSES[tonic]} {mode}")
            profiles.append(np.roll(profile, tonic))
    return names, np.array(profiles)


def _correlation(x: np.ndarray, profiles: np.ndarray) -> np.ndarray:
    x = x - x.mean()
    profiles = profiles - profiles.mean(axis=-1, keepdims=True)
    norms = np.linalg.norm(profiles, axis=-1) * max(float(np.linalg.norm(x)), 1e-12)
    return profiles @ x / norms


def estimate_key(chroma: np.ndarray) -> tuple[str, float]:
    """Krumhansl–Schmuckler key of a mean chroma vector: ``("A minor", correlation)``."""
    names, profiles = _key_profiles()
    scores = _correlation(np.asarray(chroma, dtype=np.float64), profiles)
    best = int(np.argmax(scores))
    return names[best], float(scores[best])


def onset_rate(wave: np.ndarray, sample_rate: int, hop_length: int = 512) -> float:
    """Detected onsets per second."""
    wave = as_mono(wave)
    onsets = librosa.onset.onset_detect(y=wave, sr=sample_rate, hop_length=hop_length)
    return len(onsets) / (len(wave) / sample_rate)


DIP_DB = 12.0
"""A fall this far under the continuation's median level is an audible hole."""
DIP_SECONDS, DIP_BLOCK_SECONDS = 0.2, 0.02


def block_levels(wave: np.ndarray, sample_rate: int) -> np.ndarray:
    """The level of each whole ``DIP_BLOCK_SECONDS`` block of ``wave``, in dB."""
    mono = as_mono(wave).astype(np.float64)
    block = round(DIP_BLOCK_SECONDS * sample_rate)
    blocks = len(mono) // block
    power = (mono[: blocks * block].reshape(blocks, block) ** 2).mean(axis=1)
    return 10 * np.log10(power + 1e-12)


def join_dips(wave: np.ndarray, sample_rate: int, joins: list[float], since: float) -> dict:
    """Per join (seconds into ``wave``): the quietest 20 ms of the 200 ms before it, in dB
    against the median 20 ms level of ``wave`` from ``since`` on. Returns the median of those
    (``join_dip_db``, 0 for a join no quieter than usual) and the fraction of joins more than
    ``DIP_DB`` down (``joins_dipping``); NaN for no joins."""
    levels = block_levels(wave, sample_rate)
    blocks = len(levels)
    median = np.median(levels[round(since / DIP_BLOCK_SECONDS):])
    reach = round(DIP_SECONDS / DIP_BLOCK_SECONDS)
    depths = [levels[max(0, end - reach): end].min() - median
              for end in (round(join / DIP_BLOCK_SECONDS) for join in joins) if 0 < end <= blocks]
    if not depths:
        return {"join_dip_db": float("nan"), "joins_dipping": float("nan")}
    return {"join_dip_db": float(np.median(depths)),
            "joins_dipping": float(np.mean(np.array(depths) < -DIP_DB))}


def join_rises(wave: np.ndarray, sample_rate: int, joins: list[float]) -> list[float]:
    """Per join (seconds into ``wave``) with ``DIP_SECONDS`` of audio either side: how much
    louder the loudest 20 ms of the ``DIP_SECONDS`` after it is than the loudest 20 ms of the
    ``DIP_SECONDS`` before it, in dB. Music puts a note just after a join as often as just
    before it, so over many joins of a real piece these centre on 0; a window that starts with
    a burst puts them well above."""
    levels = block_levels(wave, sample_rate)
    reach = round(DIP_SECONDS / DIP_BLOCK_SECONDS)
    rises = []
    for block in (round(join / DIP_BLOCK_SECONDS) for join in joins):
        if reach <= block <= len(levels) - reach:
            rises.append(float(levels[block: block + reach].max()
                               - levels[block - reach: block].max()))
    return rises


SAG_SECONDS = 0.5
"""How long after a join ``join_profiles`` follows the level."""


def join_profiles(wave: np.ndarray, sample_rate: int, joins: list[float]) -> np.ndarray:
    """Per join (seconds into ``wave``) with ``DIP_SECONDS`` of audio before it and
    ``SAG_SECONDS`` after: the level of each 20 ms block from ``DIP_SECONDS`` before the join to
    ``SAG_SECONDS`` after it, in dB against the mean level of the blocks before it; one row a
    join (none too near the ends). Over many joins of a real piece the median row stays near 0
    (a note starts on either side of a join as often); a window that starts loud and sags, or
    whose gain rises after it has settled, shows as a bump or a trough after the join."""
    levels = block_levels(wave, sample_rate)
    before = round(DIP_SECONDS / DIP_BLOCK_SECONDS)
    after = round(SAG_SECONDS / DIP_BLOCK_SECONDS)
    rows = [levels[block - before: block + after] - levels[block - before: block].mean()
            for block in (round(join / DIP_BLOCK_SECONDS) for join in joins)
            if before <= block <= len(levels) - after]
    return np.array(rows).reshape(len(rows), before + after)


SILENCE_DB, SILENCE_SECONDS = 40.0, 0.1
"""A stretch at least this long, this far under the median level, is a silence (the corpus's
FluidSynth renders fall silent in their rests too)."""


def silences(wave: np.ndarray, sample_rate: int) -> list[tuple[float, float]]:
    """Each stretch ``(start, end)`` in seconds, at least ``SILENCE_SECONDS`` long, whose 20 ms
    levels all lie more than ``SILENCE_DB`` under the median 20 ms level of ``wave`` (to the
    20 ms blocks: a block half silent is not)."""
    levels = block_levels(wave, sample_rate)
    if not len(levels):
        return []
    quiet = np.concatenate([[False], levels < np.median(levels) - SILENCE_DB, [False]])
    edges = np.flatnonzero(np.diff(quiet.astype(np.int8)))
    shortest = round(SILENCE_SECONDS / DIP_BLOCK_SECONDS)
    return [(round(float(start * DIP_BLOCK_SECONDS), 6), round(float(end * DIP_BLOCK_SECONDS), 6))
            for start, end in zip(edges[::2], edges[1::2], strict=True) if end - start >= shortest]


def level_db(wave: np.ndarray) -> float:
    """RMS level in dB full scale (−inf for silence)."""
    rms = float(np.sqrt(np.mean(np.square(wave))))
    return float(20 * np.log10(rms)) if rms > 0 else float("-inf")


def seam_flux(
    joined: np.ndarray, seam: int, sample_rate: int, n_fft: int = 2048, hop_length: int = 512
) -> tuple[float, float]:
    """Spectral flux at sample ``seam`` of ``joined`` and its typical value elsewhere.

    Returns ``(seam value, median over other stretches)``: both are the largest flux among
    ``k`` consecutive frames, ``k`` being the number of frames whose window covers the seam.
    """
    flux = librosa.onset.onset_strength(y=as_mono(joined), sr=sample_rate, n_fft=n_fft,
                                        hop_length=hop_length)
    # Frame t is centred on sample t·hop (centred STFT) and its flux compares it with frame
    # t − 1, so frames first..last see the seam in their window or their predecessor's.
    first = max(0, int(np.ceil((seam - n_fft / 2) / hop_length)))
    last = min(len(flux) - 1, int(np.floor((seam + n_fft / 2) / hop_length)) + 1)
    k = last - first + 1
    windows = np.lib.stride_tricks.sliding_window_view(flux, k).max(axis=1)
    starts = np.arange(len(windows))
    elsewhere = windows[(starts + k <= first) | (starts > last)]  # stretches clear of the seam
    typical = float(np.median(elsewhere)) if elsewhere.size else float("nan")
    return float(windows[first]), typical


def continuity(
    prompt: np.ndarray,
    continuation: np.ndarray,
    sample_rate: int,
    seam_seconds: float = 0.5,
    n_fft: int = 2048,
    hop_length: int = 512,
) -> dict[str, float | bool | str]:
    """How well ``continuation`` continues ``prompt`` (each one clip, mono or channels-first).

    ``seam_seconds`` is the stretch either side of the seam whose loudness is compared. Keys
    of the result: ``chroma_cosine`` (1 is best), ``key_prompt``, ``key_continuation``,
    ``key_agrees``, ``key_score`` (MIREX's weighted score of the continuation's key against
    the prompt's: 1 the same, 0.5 a fifth away, 0.3 relative, 0.2 parallel, else 0),
    ``key_correlation`` (of the continuation with the prompt's key profile, up to 1),
    ``onset_rate_prompt``, ``onset_rate_continuation`` (per second),
    ``onset_rate_ratio`` (continuation / prompt; 1 is best, inf if only the continuation has
    onsets, nan if neither), ``loudness_before_db``, ``loudness_after_db``,
    ``loudness_jump_db`` (after − before; 0 is best), ``seam_flux``, ``flux_elsewhere``,
    ``seam_flux_ratio`` (1 or below is good).
    """
    prompt, continuation = as_mono(prompt, "prompt"), as_mono(continuation, "continuation")
    chroma_prompt = mean_chroma(prompt, sample_rate, hop_length=hop_length)
    chroma_continuation = mean_chroma(continuation, sample_rate, hop_length=hop_length)
    norms = np.linalg.norm(chroma_prompt) * np.linalg.norm(chroma_continuation)
    chroma_cosine = float(chroma_prompt @ chroma_continuation / norms) if norms > 0 else 0.0
    key_prompt, _ = estimate_key(chroma_prompt)
    key_continuation, _ = estimate_key(chroma_continuation)
    names, profiles = _key_profiles()
    key_correlation = float(_correlation(chroma_continuation,
                                         profiles[names.index(key_prompt)][None])[0])

    rate_prompt = onset_rate(prompt, sample_rate, hop_length)
    rate_continuation = onset_rate(continuation, sample_rate, hop_length)
    if rate_prompt > 0:
        ratio = rate_continuation / rate_prompt
    else:
        ratio = float("inf") if rate_continuation > 0 else float("nan")

    span = max(1, round(seam_seconds * sample_rate))
    before, after = level_db(prompt[-span:]), level_db(continuation[:span])

    flux, elsewhere = seam_flux(np.concatenate([prompt, continuation]), len(prompt),
                                sample_rate, n_fft, hop_length)
    return {
        "chroma_cosine": chroma_cosine,
        "key_prompt": key_prompt,
        "key_continuation": key_continuation,
        "key_agrees": key_prompt == key_continuation,
        "key_score": float(mir_eval.key.weighted_score(key_prompt, key_continuation)),
        "key_correlation": key_correlation,
        "onset_rate_prompt": rate_prompt,
        "onset_rate_continuation": rate_continuation,
        "onset_rate_ratio": ratio,
        "loudness_before_db": before,
        "loudness_after_db": after,
        "loudness_jump_db": after - before,
        "seam_flux": flux,
        "flux_elsewhere": elsewhere,
        "seam_flux_ratio": flux / elsewhere if elsewhere > 0 else float("nan"),
    }
