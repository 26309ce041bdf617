"""The samples themselves (DiffWave)."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn
from torch.nn import functional

from cadenza.representations.base import Representation


class Waveform(Representation):
    """The samples themselves, times a fixed ``scale``; one frame per sample."""

    kind = "waveform"

    def __init__(self, sample_rate: int = 22050, scale: float = 1.0) -> None:
        super().__init__(sample_rate)
        self.scale = float(scale)

    @property
    def frames_per_second(self) -> float:
        return float(self.sample_rate)

    def frames(self, samples: int) -> int:
        return samples

    def samples_for_frames(self, frames: int) -> int:
        return frames

    def encode(self, wave: Tensor) -> Tensor:
        self._check_wave(wave)
        return wave * self.scale

    def decode(self, tensor: Tensor, samples: int | None = None,
               vocoder: nn.Module | None = None) -> Tensor:
        self._refuse_vocoder(vocoder)
        wave = tensor / self.scale
        if samples is None or samples == wave.shape[-1]:
            return wave
        return functional.pad(wave, (0, samples - wave.shape[-1]))  # negative padding crops

    def config(self) -> dict[str, Any]:
        return {**super().config(), "scale": self.scale}
