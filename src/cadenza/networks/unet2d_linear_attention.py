"""Msanii's U-Net: mel bins as channels, downsampling only in time, linear attention.

Input ``(batch, channels, n_mels, frames)``, the scaled mel of ``cadenza.representations.Mel``.
The mel bins become the feature channels of a 2D U-Net whose two spatial axes are the audio
channels (1 for mono, 2 for stereo) and time: a 1x1 convolution maps ``n_mels`` to ``width``,
and from there every level halves time only, never the audio channels. Attention at the
coarsest levels is linear (Katharopoulos et al. 2020): queries normalised by a softmax over
features, keys by a softmax over time, so its cost is linear in the number of frames. Together
this is what lets Msanii denoise minutes of audio in one pass.

Blocks, after Msanii (Maina 2023): a residual block is instance norm, 3x3 convolution, plus a
projection of the noise embedding, then GELU, a 1x1 expansion by ``hidden_factor``, GELU and a
1x1 projection back, plus a shortcut; linear attention is pre-norm and added to its input. The
encoder keeps each block's output for the decoder, which concatenates it. Time is halved by a
(1, 3) convolution of stride 2 and doubled by a (1, 4) transposed convolution. Differences from
Msanii's code: values are not divided by the number of frames inside the attention (the key
softmax already averages over time, and the extra factor made the output shrink with clip
length), and the final 1x1 convolution starts at zero so that a fresh network outputs 0.

Time is zero-padded at the end to a multiple of ``2 ** (levels - 1)`` and cropped back. The
network does not depend on the number of audio channels: mono and stereo share weights.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
from torch import Tensor, nn
from torch.nn import functional

from cadenza.networks.common import (
    ConfigMixin,
    FourierEmbedding,
    check_c_noise,
    int_tuple,
    pad_to_multiple,
    positive,
    zero_,
)


def instance_norm(channels: int) -> nn.GroupNorm:
    """Normalise each channel over (audio channel, time); one group per channel, no affine.

    Like ``nn.InstanceNorm2d``, but a single position (a one-frame coarsest level) is allowed.
    """
    return nn.GroupNorm(channels, channels, affine=False)


class ResidualBlock(nn.Module):
    """norm, 3x3 conv, + noise; GELU, 1x1 up by ``hidden_factor``, GELU, 1x1 down; + shortcut."""

    def __init__(
        self, in_channels: int, out_channels: int, hidden_factor: int, embedding_channels: int
    ) -> None:
        super().__init__()
        hidden = out_channels * hidden_factor
        self.norm = instance_norm(in_channels)
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.noise_projection = nn.Linear(embedding_channels, out_channels)
        self.expand = nn.Conv2d(out_channels, hidden, 1)
        self.contract = nn.Conv2d(hidden, out_channels, 1)
        self.shortcut = (
            nn.Conv2d(in_channels, out_channels, 1)
            if in_channels != out_channels
            else nn.Identity()
        )

    def forward(self, x: Tensor, noise_embedding: Tensor) -> Tensor:
        h = self.conv(self.norm(x)) + self.noise_projection(noise_embedding)[:, :, None, None]
        h = self.contract(functional.gelu(self.expand(functional.gelu(h))))
        return h + self.shortcut(x)


class LinearAttention(nn.Module):
    """Multi-head linear attention along time, separately for each audio channel."""

    def __init__(self, channels: int, heads: int) -> None:
        super().__init__()
        if channels % heads:
            raise ValueError(f"attention width {channels} is not divisible by {heads} heads")
        self.heads = heads
        self.norm = instance_norm(channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        batch, channels, audio_channels, frames = x.shape
        head_channels = channels // self.heads
        qkv = self.qkv(self.norm(x))
        # (batch, 3, heads, head_channels, audio_channels, frames) -> one row per audio channel
        qkv = qkv.reshape(batch, 3, self.heads, head_channels, audio_channels, frames)
        qkv = qkv.permute(1, 0, 4, 2, 3, 5).reshape(3, -1, self.heads, head_channels, frames)
        q, k, v = qkv.unbind(0)  # each (rows, heads, head_channels, frames)
        q = q.softmax(dim=-2) / math.sqrt(head_channels)
        k = k.softmax(dim=-1)
        context = torch.einsum("rhkt,rhvt->rhkv", k, v)  # (rows, heads, keys, values)
        h = torch.einsum("rhkv,rhkt->rhvt", context, q)
        h = h.reshape(batch, audio_channels, channels, frames).transpose(1, 2)
        return x + self.out(h)


class Block(nn.Module):
    """A residual block, then linear attention where the level has it."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        hidden_factor: int,
        embedding_channels: int,
        attention_heads: int | None,
    ) -> None:
        super().__init__()
        self.residual = ResidualBlock(in_channels, out_channels, hidden_factor, embedding_channels)
        self.attention = (
            nn.Identity()
            if attention_heads is None
            else LinearAttention(out_channels, attention_heads)
        )

    def forward(self, x: Tensor, noise_embedding: Tensor) -> Tensor:
        return self.attention(self.residual(x, noise_embedding))


class UNet2dLinearAttention(ConfigMixin, nn.Module):
    """``(batch, channels, n_mels, frames), (batch,) -> same shape``; Msanii's U-Net."""

    name: ClassVar[str] = "unet2d_linear_attention"
    config_keys = (
        "n_mels",
        "width",
        "width_multipliers",
        "hidden_factor",
        "blocks_per_level",
        "attention_levels",
        "attention_heads",
    )

    SEED: ClassVar[dict[str, Any]] = {
        "n_mels": 128,
        "width": 256,
        "width_multipliers": (1, 1, 1, 1, 1, 1, 1),
        "hidden_factor": 4,
        "blocks_per_level": 2,
        "attention_levels": (5, 6),
        "attention_heads": 8,
    }
    """Msanii's published model (seed 004): 14 blocks of width 256, 49.8 M parameters."""
    TINY: ClassVar[dict[str, Any]] = {
        "width": 64,
        "width_multipliers": (1, 1, 1, 1),
        "hidden_factor": 2,
        "blocks_per_level": 1,
        "attention_levels": (2, 3),
        "attention_heads": 4,
    }
    """Trains on 2 CPU cores; Msanii advises ``width >= 2 * n_mels`` for full quality."""

    def __init__(
        self,
        n_mels: int = 128,
        width: int = 128,
        width_multipliers: tuple[int, ...] = (1, 1, 1, 1, 1),
        hidden_factor: int = 2,
        blocks_per_level: int = 2,
        attention_levels: tuple[int, ...] = (3, 4),
        attention_heads: int = 4,
    ) -> None:
        super().__init__()
        self.n_mels = positive("n_mels", n_mels)
        self.width = positive("width", width)
        self.width_multipliers = int_tuple("width_multipliers", width_multipliers)
        self.hidden_factor = positive("hidden_factor", hidden_factor)
        self.blocks_per_level = positive("blocks_per_level", blocks_per_level)
        levels = len(self.width_multipliers)
        self.attention_levels = int_tuple(
            "attention_levels", attention_levels, 0, levels - 1, empty=True
        )
        self.attention_heads = positive("attention_heads", attention_heads)
        widths = [self.width * m for m in self.width_multipliers]
        embedding_channels = 128

        def heads(level: int) -> int | None:
            return self.attention_heads if level in self.attention_levels else None

        def block(in_channels: int, out_channels: int, level: int) -> Block:
            return Block(in_channels, out_channels, hidden_factor, embedding_channels, heads(level))

        self.noise_embedding = nn.Sequential(
            FourierEmbedding(embedding_channels),
            nn.Linear(embedding_channels, 4 * embedding_channels),
            nn.GELU(),
            nn.Linear(4 * embedding_channels, embedding_channels),
        )
        self.input_projection = nn.Conv2d(self.n_mels, widths[0], 1)

        self.encoder = nn.ModuleList()
        self.downsamplers = nn.ModuleList()
        previous = widths[0]
        for level, level_width in enumerate(widths):
            if level > 0:
                self.downsamplers.append(
                    nn.Conv2d(previous, previous, (1, 3), stride=(1, 2), padding=(0, 1))
                )
            stage = nn.ModuleList()
            for _ in range(blocks_per_level):
                stage.append(block(previous, level_width, level))
                previous = level_width
            self.encoder.append(stage)

        self.middle_block1 = ResidualBlock(previous, previous, hidden_factor, embedding_channels)
        self.middle_attention = LinearAttention(previous, self.attention_heads)
        self.middle_block2 = ResidualBlock(previous, previous, hidden_factor, embedding_channels)

        self.decoder = nn.ModuleList()
        self.upsamplers = nn.ModuleList()
        for level in reversed(range(levels)):
            stage = nn.ModuleList()
            for _ in range(blocks_per_level):
                stage.append(block(previous + widths[level], widths[level], level))
                previous = widths[level]
            self.decoder.append(stage)
            if level > 0:
                self.upsamplers.append(
                    nn.ConvTranspose2d(
                        previous, widths[level - 1], (1, 4), stride=(1, 2), padding=(0, 1)
                    )
                )
                previous = widths[level - 1]

        self.output_projection = zero_(nn.Conv2d(previous, self.n_mels, 1))

    @property
    def multiple(self) -> int:
        """Frames are padded internally to a multiple of this."""
        return 2 ** (len(self.width_multipliers) - 1)

    def forward(self, x: Tensor, c_noise: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[2] != self.n_mels:
            raise ValueError(
                f"unet2d_linear_attention expects (batch, channels, {self.n_mels}, frames), "
                f"got {tuple(x.shape)}"
            )
        frames = x.shape[-1]
        embedding = self.noise_embedding(check_c_noise(x, c_noise))
        # Mel bins become the feature channels: (batch, n_mels, audio channels, frames).
        h = self.input_projection(pad_to_multiple(x.transpose(1, 2), [self.multiple]))

        skips = []
        for level, stage in enumerate(self.encoder):
            if level > 0:
                h = self.downsamplers[level - 1](h)
            for block in stage:
                h = block(h, embedding)
                skips.append(h)

        h = self.middle_block1(h, embedding)
        h = self.middle_block2(self.middle_attention(h), embedding)

        for level, stage in enumerate(self.decoder):
            if level > 0:
                h = self.upsamplers[level - 1](h)
            for block in stage:
                h = block(torch.cat([h, skips.pop()], dim=1), embedding)

        return self.output_projection(h)[..., :frames].transpose(1, 2)
