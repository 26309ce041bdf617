"""Msanii's vocoder: scaled mel -> linear STFT magnitude, and its loss.

Not a diffusion network: ``vocoder(mel) -> magnitude`` maps ``(batch, channels, n_mels,
frames)``, as produced by ``cadenza.representations.Mel.encode``, to a non-negative linear
magnitude ``(batch, channels, n_fft // 2 + 1, frames)``; phase comes from Griffin-Lim
(``cadenza.representations.griffin_lim``). After Msanii (inspired by iSTFTNet): mel bins become
the channels of a 1x1 input convolution, one residual block over (audio channel, time), a 1x1
output convolution to the linear bins, and ``exp`` to go from log to linear magnitude. With
Msanii's width 256 it has 1.4 M parameters. Works for any number of frames and audio channels.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from cadenza.networks.common import ConfigMixin, positive
from cadenza.networks.unet2d_linear_attention import instance_norm


class Vocoder(ConfigMixin, nn.Module):
    """``(batch, channels, n_mels, frames) -> (batch, channels, n_fft // 2 + 1, frames)``."""

    name: ClassVar[str] = "vocoder"
    config_keys = ("n_mels", "n_fft", "width", "hidden_factor")

    SEED: ClassVar[dict[str, Any]] = {
        "n_mels": 128,
        "n_fft": 2048,
        "width": 256,
        "hidden_factor": 4,
    }
    """Msanii's vocoder (seed 004): 1.4 M parameters at 44.1 kHz, n_fft 2048."""
    TINY: ClassVar[dict[str, Any]] = {"width": 64, "hidden_factor": 2}

    def __init__(
        self, n_mels: int = 128, n_fft: int = 1024, width: int = 256, hidden_factor: int = 4
    ) -> None:
        super().__init__()
        self.n_mels = positive("n_mels", n_mels)
        self.n_fft = positive("n_fft", n_fft)
        self.width = positive("width", width)
        self.hidden_factor = positive("hidden_factor", hidden_factor)
        hidden = self.width * self.hidden_factor

        self.input_projection = nn.Conv2d(self.n_mels, self.width, 1)
        self.norm = instance_norm(self.width)
        self.conv = nn.Conv2d(self.width, self.width, 3, padding=1)
        self.expand = nn.Conv2d(self.width, hidden, 1)
        self.contract = nn.Conv2d(hidden, self.width, 1)
        self.output_projection = nn.Conv2d(self.width, self.n_fft // 2 + 1, 1)

    def forward(self, mel: Tensor) -> Tensor:
        if mel.ndim != 4 or mel.shape[2] != self.n_mels:
            raise ValueError(
                f"vocoder expects (batch, channels, {self.n_mels}, frames), got {tuple(mel.shape)}"
            )
        # Mel bins become the feature channels: (batch, n_mels, audio channels, frames).
        x = self.input_projection(mel.transpose(1, 2))
        h = self.conv(self.norm(x))
        h = self.contract(nn.functional.gelu(self.expand(nn.functional.gelu(h))))
        log_magnitude = self.output_projection(x + h)
        return torch.exp(log_magnitude).transpose(1, 2)


def vocoder_loss(
    predicted_magnitude: Tensor, target_magnitude: Tensor, eps: float = 1e-6
) -> Tensor:
    """Msanii's vocoder loss: spectral convergence plus log-magnitude L1, weights 1 and 1.

    Spectral convergence is ``||target - predicted||_F / ||target||_F`` over the whole batch;
    the log-magnitude term is the mean of ``|log(predicted + eps) - log(target + eps)|``.
    """
    if predicted_magnitude.shape != target_magnitude.shape:
        raise ValueError(
            f"magnitudes differ in shape: {tuple(predicted_magnitude.shape)} "
            f"vs {tuple(target_magnitude.shape)}"
        )
    convergence = torch.linalg.vector_norm(target_magnitude - predicted_magnitude) / (
        torch.linalg.vector_norm(target_magnitude) + eps
    )
    log_distance = (torch.log(predicted_magnitude + eps) - torch.log(target_magnitude + eps)).abs()
    return convergence + log_distance.mean()
