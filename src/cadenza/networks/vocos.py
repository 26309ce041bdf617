"""Vocos (Siuzdak 2023): scaled mel -> waveform through an inverse-STFT head.

A ConvNeXt backbone runs over time at the mel frame rate (mel bins are the input channels);
a linear head predicts, per frame, the log magnitude and the phase of every STFT bin, and
``torch.istft`` turns that spectrum into samples. Nothing is upsampled inside the network, so
it costs a fraction of a HiFi-GAN generator, which is what makes it trainable on a CPU.
The phase is predicted as an angle and used through ``cos`` / ``sin``, which keeps it on the
unit circle without a wrapping problem. Multichannel mels are vocoded channel by channel.

``vocos(log_mel, samples) -> wave`` maps the unscaled log-mel ``(batch, channels, n_mels,
frames)`` of ``cadenza.representations.Mel.log_mel`` (``Mel.decode_log_mel`` of an encoded
tensor) to ``(batch, channels, samples)``: reading the log-mel rather than the scaled tensor
keeps a vocoder independent of any model's fitted statistics. The STFT matches the
representation's (centred, Hann window, same ``n_fft`` and ``hop_length``), so a clip of
``samples`` gives back ``samples``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import Tensor, nn
from torch.nn import functional

from cadenza.networks.common import ConfigMixin, positive


class ConvNeXtBlock(nn.Module):
    """Depthwise conv over time, LayerNorm, pointwise MLP, layer-scaled residual."""

    def __init__(self, width: int, hidden: int, layer_scale: float) -> None:
        super().__init__()
        self.depthwise = nn.Conv1d(width, width, kernel_size=7, padding=3, groups=width)
        self.norm = nn.LayerNorm(width, eps=1e-6)
        self.expand = nn.Linear(width, hidden)
        self.contract = nn.Linear(hidden, width)
        self.gamma = nn.Parameter(torch.full((width,), layer_scale))

    def forward(self, x: Tensor) -> Tensor:  # (batch, width, frames)
        h = self.depthwise(x).transpose(1, 2)
        h = self.contract(functional.gelu(self.expand(self.norm(h))))
        return x + (self.gamma * h).transpose(1, 2)


class Vocos(ConfigMixin, nn.Module):
    """``(batch, channels, n_mels, frames) -> (batch, channels, samples)``."""

    name: ClassVar[str] = "vocos"
    outputs: ClassVar[str] = "wave"
    config_keys = ("n_mels", "n_fft", "hop_length", "width", "hidden", "layers")

    SEED: ClassVar[dict[str, Any]] = {
        "n_mels": 100, "n_fft": 1024, "hop_length": 256, "width": 512, "hidden": 1536,
        "layers": 8,
    }
    """The Vocos paper's mel model (24 kHz, 13.5 M parameters)."""
    TINY: ClassVar[dict[str, Any]] = {"width": 256, "hidden": 768, "layers": 8}

    def __init__(
        self,
        n_mels: int = 128,
        n_fft: int = 1024,
        hop_length: int = 256,
        width: int = 512,
        hidden: int = 1536,
        layers: int = 8,
    ) -> None:
        super().__init__()
        self.n_mels = positive("n_mels", n_mels)
        self.n_fft = positive("n_fft", n_fft)
        self.hop_length = positive("hop_length", hop_length)
        self.width = positive("width", width)
        self.hidden = positive("hidden", hidden)
        self.layers = positive("layers", layers)

        self.embed = nn.Conv1d(self.n_mels, self.width, kernel_size=7, padding=3)
        self.norm = nn.LayerNorm(self.width, eps=1e-6)
        self.blocks = nn.ModuleList(
            ConvNeXtBlock(self.width, self.hidden, 1 / self.layers) for _ in range(self.layers)
        )
        self.final_norm = nn.LayerNorm(self.width, eps=1e-6)
        self.head = nn.Linear(self.width, self.n_fft + 2)  # log magnitude and phase per bin
        self.register_buffer("window", torch.hann_window(self.n_fft), persistent=False)

    def spectrum(self, mel: Tensor) -> Tensor:
        """Complex STFT ``(batch * channels, n_fft // 2 + 1, frames)`` predicted from ``mel``."""
        if mel.ndim != 4 or mel.shape[2] != self.n_mels:
            raise ValueError(
                f"vocos expects (batch, channels, {self.n_mels}, frames), got {tuple(mel.shape)}"
            )
        x = self.embed(mel.reshape(-1, *mel.shape[2:]))
        x = self.norm(x.transpose(1, 2)).transpose(1, 2)
        for block in self.blocks:
            x = block(x)
        log_magnitude, phase = self.head(self.final_norm(x.transpose(1, 2))).chunk(2, dim=-1)
        # exp() of an unbounded output can overflow early in training; 1e2 is far above any
        # magnitude of audio in [-1, 1] at this n_fft.
        magnitude = torch.exp(log_magnitude.float()).clamp(max=1e2)
        phase = phase.float()  # the inverse STFT runs in float32, also under autocast
        spectrum = torch.complex(magnitude * torch.cos(phase), magnitude * torch.sin(phase))
        return spectrum.transpose(1, 2)

    def forward(self, mel: Tensor, samples: int | None = None) -> Tensor:
        spectrum = self.spectrum(mel)
        wave = torch.istft(
            spectrum, self.n_fft, self.hop_length, window=self.window.float(),
            center=True, length=samples,
        )
        return wave.reshape(*mel.shape[:2], wave.shape[-1])


class VocosGAN(ConfigMixin, nn.Module):
    """A Vocos and the discriminators that judge it, trained together (objective
    ``vocos_gan``); called, it is the Vocos, and exporting it keeps only ``generator``."""

    name: ClassVar[str] = "vocos_gan"
    outputs: ClassVar[str] = "wave"
    config_keys = ("n_mels", "n_fft", "hop_length", "width", "hidden", "layers",
                   "discriminator_width")

    SEED: ClassVar[dict[str, Any]] = {**Vocos.SEED, "discriminator_width": 32}
    TINY: ClassVar[dict[str, Any]] = {**Vocos.TINY, "discriminator_width": 8}

    def __init__(self, n_mels: int = 128, n_fft: int = 1024, hop_length: int = 256,
                 width: int = 512, hidden: int = 1536, layers: int = 8,
                 discriminator_width: int = 32) -> None:
        from cadenza.networks.discriminators import Discriminators

        super().__init__()
        self.generator = Vocos(n_mels, n_fft, hop_length, width, hidden, layers)
        self.discriminators = Discriminators(discriminator_width)
        self.n_mels, self.n_fft, self.hop_length = n_mels, n_fft, hop_length
        self.width, self.hidden, self.layers = width, hidden, layers
        self.discriminator_width = discriminator_width

    def forward(self, mel: Tensor, samples: int | None = None) -> Tensor:
        return self.generator(mel, samples)
