"""EDMSound's complex STFT with amplitude compression: an exact inverse, no vocoder."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from cadenza.representations.base import CentredFrames
from cadenza.spectral import istft, stft


class ComplexSTFT(CentredFrames):
    """EDMSound's STFT: ``alpha * |S|**beta * exp(i angle S)`` as real/imaginary channels.

    Output ``(batch, 2 * channels, n_fft // 2 + 1, frames)``: channel ``2c`` is the real and
    ``2c + 1`` the imaginary part of audio channel ``c``. The compression is undone exactly and
    the STFT inverted by ``torch.istft`` (Hann window, centred), so decode is exact up to
    float32 rounding.
    """

    kind = "complex_stft"

    def __init__(
        self,
        sample_rate: int = 22050,
        n_fft: int = 510,
        hop_length: int = 128,
        alpha: float = 0.3,
        beta: float = 0.5,
        pad_mode: str = "reflect",
    ) -> None:
        super().__init__(sample_rate)
        self.n_fft = int(n_fft)
        self.hop_length = int(hop_length)
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.pad_mode = pad_mode
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)


    def encode(self, wave: Tensor) -> Tensor:
        self._check_wave(wave)
        spectrum = stft(wave, self.n_fft, self.hop_length, self.window, self.pad_mode)
        compressed = torch.polar(self.alpha * spectrum.abs() ** self.beta, spectrum.angle())
        parts = torch.view_as_real(compressed)  # (batch, channels, freq, frames, 2)
        return parts.permute(0, 1, 4, 2, 3).flatten(1, 2)

    def decode(self, tensor: Tensor, samples: int | None = None,
               vocoder: nn.Module | None = None) -> Tensor:
        self._refuse_vocoder(vocoder)
        batch, stacked, freq, frames = tensor.shape
        parts = tensor.reshape(batch, stacked // 2, 2, freq, frames).permute(0, 1, 3, 4, 2)
        compressed = torch.view_as_complex(parts.contiguous())
        magnitude = (compressed.abs() / self.alpha) ** (1 / self.beta)
        spectrum = torch.polar(magnitude, compressed.angle())
        return istft(spectrum, self.n_fft, self.hop_length, self.window, samples)

    def config(self) -> dict[str, Any]:
        return {
            **super().config(),
            "n_fft": self.n_fft,
            "hop_length": self.hop_length,
            "alpha": self.alpha,
            "beta": self.beta,
            "pad_mode": self.pad_mode,
        }
