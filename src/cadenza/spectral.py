"""Spectral signal processing under the representations: the centred STFT and its inverse,
fast Griffin-Lim, and seed 001's snake packing of a mel spectrogram.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

# ------------------------------------------------------------------------- STFT plumbing


def stft(wave: Tensor, n_fft: int, hop_length: int, window: Tensor, pad_mode: str) -> Tensor:
    """Centred complex STFT, batched: ``(..., samples) -> (..., freq, frames)``."""
    leading = wave.shape[:-1]
    spectrum = torch.stft(
        wave.reshape(-1, wave.shape[-1]),
        n_fft,
        hop_length,
        window=window,
        center=True,
        pad_mode=pad_mode,
        return_complex=True,
    )
    return spectrum.reshape(*leading, *spectrum.shape[-2:])


def istft(
    spectrum: Tensor, n_fft: int, hop_length: int, window: Tensor, samples: int | None
) -> Tensor:
    """Inverse of ``_stft``: ``(..., freq, frames) -> (..., samples)``."""
    leading = spectrum.shape[:-2]
    wave = torch.istft(
        spectrum.reshape(-1, *spectrum.shape[-2:]),
        n_fft,
        hop_length,
        window=window,
        center=True,
        length=samples,
    )
    return wave.reshape(*leading, wave.shape[-1])


def griffin_lim(
    magnitude: Tensor,
    n_fft: int,
    hop_length: int,
    window: Tensor | None = None,
    iterations: int = 32,
    momentum: float = 0.99,
    generator: torch.Generator | None = None,
    *,
    samples: int | None = None,
    pad_mode: str = "reflect",
) -> Tensor:
    """Fast Griffin-Lim (Perraudin, Balazs and Sondergaard 2013): a wave whose STFT magnitude
    approaches ``magnitude`` ``(..., n_fft // 2 + 1, frames) -> (..., samples)``.

    Each iteration projects onto consistent spectrograms (iSTFT then STFT) and onto the target
    magnitude, extrapolating by ``momentum`` (0 is classic Griffin-Lim). The initial phase is
    zero, or uniform random drawn from ``generator``: the result is deterministic either way.
    Runs batched over the leading axes on the device of ``magnitude``.
    """
    device = magnitude.device
    if window is None:
        window = torch.hann_window(n_fft, device=device)
    if generator is None:
        phase = torch.ones_like(magnitude, dtype=torch.complex64)
    else:
        angle = torch.rand(magnitude.shape, generator=generator, device=generator.device)
        phase = torch.polar(torch.ones_like(angle), 2 * math.pi * angle).to(device)
    previous = None
    for _ in range(iterations):
        # Iterate at the frames' own length, (frames - 1) * hop; crop or pad only at the end.
        wave = istft(magnitude * phase, n_fft, hop_length, window, None)
        rebuilt = stft(wave, n_fft, hop_length, window, pad_mode)
        accelerated = rebuilt if previous is None else rebuilt + momentum * (rebuilt - previous)
        phase = accelerated / (accelerated.abs() + 1e-16)
        previous = rebuilt
    return istft(magnitude * phase, n_fft, hop_length, window, samples)


# ---------------------------------------------------------------------------- base class


# ----------------------------------------------------------------------- snake packing


def _serpentine_rows(n_mels: int, groups: int, device: torch.device) -> Tensor:
    """Row ``s`` of the packed stack -> row ``f * groups + k`` of the (bin, phase) grid."""
    s = torch.arange(n_mels * groups, device=device)
    bin_, step = s // groups, s % groups
    phase = torch.where(bin_ % 2 == 0, step, groups - 1 - step)
    return bin_ * groups + phase


def pack(mel: Tensor, groups: int = 3) -> Tensor:
    """Seed 001's snake packing: ``(..., n_mels, groups * width) -> (..., groups, n_mels, width)``.

    Frame ``t = groups * j + k`` of mel bin ``f`` goes to column ``j``; the ``n_mels * groups``
    pairs ``(f, k)`` are walked in serpentine order, ``s = groups * f + (k if f is even else
    groups - 1 - k)``, and the walk is cut into ``groups`` channels of ``n_mels`` rows:
    ``packed[c, r, j] = mel[f, t]`` with ``s = c * n_mels + r``. So each channel is a band of
    neighbouring frequencies (for 128 x 384: about 43 mel bins and all 3 frames of a column per
    channel), consecutive rows are always neighbours in frequency or in time, and the packed
    time axis is ``groups`` times shorter. A pure index permutation: ``unpack`` is exact.
    """
    n_mels, frames = mel.shape[-2:]
    if frames % groups:
        raise ValueError(f"{frames} frames do not pack into {groups} groups")
    width = frames // groups
    grid = mel.reshape(*mel.shape[:-1], width, groups).transpose(-1, -2)  # (..., f, k, j)
    grid = grid.reshape(*mel.shape[:-2], n_mels * groups, width)
    walk = grid.index_select(-2, _serpentine_rows(n_mels, groups, mel.device))
    return walk.reshape(*mel.shape[:-2], groups, n_mels, width)


def unpack(packed: Tensor) -> Tensor:
    """Exact inverse of ``pack``: ``(..., groups, n_mels, width) -> (..., n_mels, frames)``."""
    groups, n_mels, width = packed.shape[-3:]
    walk = packed.reshape(*packed.shape[:-3], n_mels * groups, width)
    rows = torch.argsort(_serpentine_rows(n_mels, groups, packed.device))
    grid = walk.index_select(-2, rows).reshape(*packed.shape[:-3], n_mels, groups, width)
    return grid.transpose(-1, -2).reshape(*packed.shape[:-3], n_mels, groups * width)


