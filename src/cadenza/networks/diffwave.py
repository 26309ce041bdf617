"""DiffWave (Kong et al. 2021), unconditional: a WaveNet-like stack on the raw waveform.

Seeds 000/003 train it unconditionally on piano at 22.05 kHz with 30 residual layers, 64
residual channels and a dilation cycle of 10 (dilations 1, 2, ..., 512, three times over), which
is the default here: 2.31 M parameters (the 2.6 M often quoted includes the mel conditioner
of the vocoder version, which an unconditional model does not have).

The mathematics is the reference's (lmnt-com/diffwave): input 1x1 conv and ReLU; per layer,
add a projection of the noise embedding, dilated conv to 2C channels, gate
``sigmoid(a) * tanh(b)``, 1x1 conv to a residual half (added to the input, scaled by 1/sqrt 2)
and a skip half; the skips are summed, scaled by 1/sqrt(layers), then 1x1 conv, ReLU and a
1x1 conv to the output, whose weight starts at zero (cadenza zeroes its bias too, so a fresh
network outputs exactly 0). Two things are done differently for speed and memory, not for the
result: the gate has a hand-written backward that writes both halves of the gradient in place
(autograd's ``chunk`` would concatenate them), and the skips are summed as they come rather
than stacked (which held all 30 of them at once). Any length works: the convolutions are
padded "same", so there is no multiple to pad to.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
from torch import Tensor, nn
from torch.nn import functional

from cadenza.networks.common import ConfigMixin, FourierEmbedding, check_c_noise, positive, zero_


class _GatedTanh(torch.autograd.Function):
    """``sigmoid(y[:, :C]) * tanh(y[:, C:])`` with a backward that allocates one tensor."""

    @staticmethod
    def forward(ctx: Any, y: Tensor) -> Tensor:
        gate, filter_ = y.chunk(2, dim=1)
        gate, filter_ = torch.sigmoid(gate), torch.tanh(filter_)
        ctx.save_for_backward(gate, filter_)
        return gate * filter_

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        gate, filter_ = ctx.saved_tensors
        grad_y = grad.new_empty(gate.shape[0], 2 * gate.shape[1], *gate.shape[2:])
        grad_gate, grad_filter = grad_y.chunk(2, dim=1)
        # d/dfilter = grad * s * (1 - t^2); d/dgate = grad * s * t * (1 - s); s = gate, t = filter
        torch.mul(grad, gate, out=grad_filter)
        torch.mul(grad_filter, filter_, out=grad_gate)
        grad_filter.addcmul_(grad_gate, filter_, value=-1)
        grad_gate.addcmul_(grad_gate, gate, value=-1)
        return grad_y


def gated_tanh(y: Tensor) -> Tensor:
    """WaveNet's gate on channel halves: ``sigmoid(first half) * tanh(second half)``."""
    if y.requires_grad and torch.is_grad_enabled():
        return _GatedTanh.apply(y)
    gate, filter_ = y.chunk(2, dim=1)
    return torch.sigmoid(gate) * torch.tanh(filter_)


class NoiseEmbedding(nn.Module):
    """DiffWave's step embedding, evaluated on the raw ``c_noise`` value.

    64 sines and 64 cosines at frequencies 10^(4k/63), k = 0..63 (1 to 10^4 radians per unit),
    then two SiLU layers to 512 features. At integer steps this is exactly DiffWave's table.
    """

    def __init__(self, features: int = 128, hidden: int = 512) -> None:
        super().__init__()
        self.fourier = FourierEmbedding(features, min_frequency=1.0, max_frequency=1e4)
        self.projection1 = nn.Linear(features, hidden)
        self.projection2 = nn.Linear(hidden, hidden)

    def forward(self, c_noise: Tensor) -> Tensor:
        x = functional.silu(self.projection1(self.fourier(c_noise)))
        return functional.silu(self.projection2(x))


class ResidualLayer(nn.Module):
    """One gated, dilated layer: ``x -> ((x + residual) / sqrt 2, skip)``."""

    def __init__(self, residual_channels: int, dilation: int, embedding_channels: int) -> None:
        super().__init__()
        self.dilated_conv = nn.Conv1d(
            residual_channels, 2 * residual_channels, 3, padding=dilation, dilation=dilation
        )
        self.noise_projection = nn.Linear(embedding_channels, residual_channels)
        self.output_projection = nn.Conv1d(residual_channels, 2 * residual_channels, 1)
        nn.init.kaiming_normal_(self.dilated_conv.weight)
        nn.init.kaiming_normal_(self.output_projection.weight)

    def forward(self, x: Tensor, noise_embedding: Tensor) -> tuple[Tensor, Tensor]:
        y = x + self.noise_projection(noise_embedding).unsqueeze(-1)
        y = gated_tanh(self.dilated_conv(y))
        y = self.output_projection(y)
        residual, skip = y.chunk(2, dim=1)
        return (x + residual) * (1 / math.sqrt(2)), skip


class DiffWave(ConfigMixin, nn.Module):
    """Unconditional DiffWave: ``(batch, channels, samples), (batch,) -> same shape as x``."""

    name: ClassVar[str] = "diffwave"
    config_keys = ("channels", "residual_layers", "residual_channels", "dilation_cycle")

    SEED: ClassVar[dict[str, int]] = {
        "residual_layers": 30,
        "residual_channels": 64,
        "dilation_cycle": 10,
    }
    """Seeds 000/003 (and the DiffWave paper's base model); also the default."""
    TINY: ClassVar[dict[str, int]] = {
        "residual_layers": 12,
        "residual_channels": 32,
        "dilation_cycle": 10,
    }
    """For 2 CPU cores: 0.63 M parameters; dilations 1..512, 1, 2 give a receptive field of
    2 * (1023 + 3) + 1 = 2053 samples (93 ms at 22.05 kHz; the seed's is 6139, 0.28 s)."""

    def __init__(
        self,
        channels: int = 1,
        residual_layers: int = 30,
        residual_channels: int = 64,
        dilation_cycle: int = 10,
    ) -> None:
        super().__init__()
        self.channels = positive("channels", channels)
        self.residual_layers = positive("residual_layers", residual_layers)
        self.residual_channels = positive("residual_channels", residual_channels)
        self.dilation_cycle = positive("dilation_cycle", dilation_cycle)
        embedding_channels = 512

        self.input_projection = nn.Conv1d(self.channels, residual_channels, 1)
        nn.init.kaiming_normal_(self.input_projection.weight)
        self.noise_embedding = NoiseEmbedding(128, embedding_channels)
        self.layers = nn.ModuleList(
            ResidualLayer(residual_channels, 2 ** (i % dilation_cycle), embedding_channels)
            for i in range(residual_layers)
        )
        self.skip_projection = nn.Conv1d(residual_channels, residual_channels, 1)
        nn.init.kaiming_normal_(self.skip_projection.weight)
        # Zero weight as in DiffWave, and zero bias too: a fresh network outputs exactly 0.
        self.output_projection = zero_(nn.Conv1d(residual_channels, self.channels, 1))

    def forward(self, x: Tensor, c_noise: Tensor) -> Tensor:
        if x.ndim != 3 or x.shape[1] != self.channels:
            raise ValueError(
                f"diffwave expects (batch, {self.channels}, samples), got {tuple(x.shape)}"
            )
        noise_embedding = self.noise_embedding(check_c_noise(x, c_noise))
        h = functional.relu(self.input_projection(x))
        skips = None
        for layer in self.layers:
            h, skip = layer(h, noise_embedding)
            skips = skip if skips is None else skips + skip
        h = functional.relu(self.skip_projection(skips * (1 / math.sqrt(len(self.layers)))))
        return self.output_projection(h)
