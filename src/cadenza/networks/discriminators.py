"""Discriminators for a GAN-trained vocoder, as Vocos (Siuzdak 2023) trains with them.

- ``PeriodDiscriminator`` (HiFi-GAN, Kong et al. 2020): the wave folded into rows of
  ``period`` samples, 2D convolutions along time only, so each sees one phase of a periodicity.
- ``ResolutionDiscriminator`` (UnivNet, Jang et al. 2021): 2D convolutions over the linear
  magnitude spectrogram at one STFT resolution.

``Discriminators`` holds periods 2, 3, 5, 7, 11 and resolutions 512, 1024, 2048 (hops a
quarter of each), the papers' sets. Each returns its logits and the feature maps after every
layer (for the feature-matching loss). Widths are a parameter: the papers' (32 to 1024
channels) are for a GPU; a few channels do on a CPU.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor, nn
from torch.nn import functional

from cadenza.networks.common import positive

PERIODS = (2, 3, 5, 7, 11)
RESOLUTIONS = (512, 1024, 2048)
SLOPE = 0.1  # leaky ReLU, as both papers

Judgement = tuple[Tensor, list[Tensor]]
"""A discriminator's logits ``(batch, anything)`` and its feature maps."""


def judged(layers: nn.ModuleList, output: nn.Module, x: Tensor) -> Judgement:
    """``x`` through ``layers`` (each followed by a leaky ReLU) and ``output``: the logits and
    every layer's feature maps, the last being the logits' own."""
    features = []
    for layer in layers:
        x = functional.leaky_relu(layer(x), SLOPE)
        features.append(x)
    x = output(x)
    features.append(x)
    return x.flatten(1), features


class PeriodDiscriminator(nn.Module):
    """``(batch, 1, samples) -> (logits, features)`` on the wave folded by ``period``."""

    def __init__(self, period: int, width: int) -> None:
        super().__init__()
        self.period = period
        channels = (1, width, 2 * width, 4 * width, 4 * width)
        self.layers = nn.ModuleList(
            nn.Conv2d(channels[i], channels[i + 1], (5, 1), (3 if i < 3 else 1, 1), (2, 0))
            for i in range(4)
        )
        self.output = nn.Conv2d(channels[-1], 1, (3, 1), 1, (1, 0))

    def forward(self, wave: Tensor) -> Judgement:
        padding = (-wave.shape[-1]) % self.period
        x = functional.pad(wave, (0, padding), mode="reflect")
        x = x.view(x.shape[0], 1, -1, self.period)
        return judged(self.layers, self.output, x)


class ResolutionDiscriminator(nn.Module):
    """``(batch, 1, samples) -> (logits, features)`` on the magnitude at one ``n_fft``."""

    def __init__(self, n_fft: int, width: int) -> None:
        super().__init__()
        self.n_fft, self.hop_length = n_fft, n_fft // 4
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.layers = nn.ModuleList([
            nn.Conv2d(1, width, (7, 5), (2, 2), (3, 2)),
            nn.Conv2d(width, width, (5, 3), (2, 1), (2, 1)),
            nn.Conv2d(width, width, (5, 3), (2, 2), (2, 1)),
            nn.Conv2d(width, width, 3, 1, 1),
        ])
        self.output = nn.Conv2d(width, 1, 3, 1, 1)

    def forward(self, wave: Tensor) -> Judgement:
        spectrum = torch.stft(wave[:, 0].float(), self.n_fft, self.hop_length,
                              window=self.window, center=True, return_complex=True)
        x = spectrum.abs().unsqueeze(1)  # (batch, 1, frequency, frames)
        return judged(self.layers, self.output, x)


class Discriminators(nn.Module):
    """Every period and resolution discriminator: ``wave -> [(logits, features), ...]``."""

    SEED: ClassVar[int] = 32
    TINY: ClassVar[int] = 8

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        self.width = positive("discriminator_width", width)
        self.members = nn.ModuleList(
            [PeriodDiscriminator(period, width) for period in PERIODS]
            + [ResolutionDiscriminator(n_fft, width) for n_fft in RESOLUTIONS]
        )

    def forward(self, wave: Tensor) -> list[Judgement]:
        if wave.ndim != 3 or wave.shape[1] != 1:
            raise ValueError(f"discriminators expect (batch, 1, samples), got {tuple(wave.shape)}")
        return [member(wave) for member in self.members]
