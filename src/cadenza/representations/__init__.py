"""Representations: what the diffusion model sees instead of raw audio, and the way back.

A representation maps a wave ``(batch, channels, samples)`` float32 to a tensor whose last axis
is time, and back. Four kinds:

- ``waveform``: the samples themselves (DiffWave), optionally scaled.
- ``mel``: log-mel spectrogram with Msanii's scaling (scalar standardisation, then scalar
  min-max to [-1, 1]) whose statistics are fitted as running averages and then frozen; decoded
  by its vocoder, or a mel pseudo-inverse and fast Griffin-Lim.
- ``packed_mel``: the mel of seed 001 folded 1x128x384 -> 3x128x128 by a serpentine packing.
- ``complex_stft``: EDMSound's real/imaginary STFT with amplitude compression; exact inverse.

Every representation states ``frames_per_second`` so that editing and extension speak in
seconds. STFTs are centred (``torch.stft(center=True)``): a clip of ``samples`` gives
``samples // hop_length + 1`` frames, and ``decode`` returns ``(frames - 1) * hop_length``
samples unless told ``samples``; so clips whose length is a multiple of the hop come back at
their own length. Fitted statistics are buffers (saved in ``state_dict``); everything derived
from the config (windows, filterbanks) is rebuilt, not saved. ``representation(**r.config())``
rebuilds ``r`` up to its statistics.
"""

from __future__ import annotations

from typing import Any

from cadenza.representations.base import Representation
from cadenza.representations.complex_stft import ComplexSTFT
from cadenza.representations.mel import Mel, PackedMel
from cadenza.representations.waveform import Waveform

__all__ = ["KINDS", "ComplexSTFT", "Mel", "PackedMel", "Representation", "Waveform",
           "representation"]

KINDS = ("waveform", "mel", "packed_mel", "complex_stft")


_CLASSES: dict[str, type[Representation]] = {
    "waveform": Waveform,
    "mel": Mel,
    "packed_mel": PackedMel,
    "complex_stft": ComplexSTFT,
}


def representation(kind: str, **config: Any) -> Representation:
    """Build a representation by name; ``representation(**r.config())`` rebuilds ``r``."""
    if kind not in _CLASSES:
        raise ValueError(f"unknown representation {kind!r}; choose one of {', '.join(KINDS)}")
    return _CLASSES[kind](**config)
