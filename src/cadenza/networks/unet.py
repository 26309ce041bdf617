"""The encoder-decoder shared by ``unet1d`` and ``unet2d``; they choose the layout around it.

A U-Net in the style of current image diffusion models (Ho et al. 2020, Dhariwal and Nichol
2021), in one or two dimensions: at each resolution a few residual blocks (GroupNorm, SiLU,
convolution, the noise embedding as a per-channel scale and shift), optionally each followed by
multi-head softmax self-attention; halve the resolution between levels; a middle of block,
attention, block; then the mirror image, where every block also takes the matching encoder
output. Every residual branch, every attention output and the final convolution start at zero,
so a fresh network is the zero function and each block starts as the identity.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional

from cadenza.networks.common import FourierEmbedding, group_norm, zero_


def _conv(dims: int) -> type[nn.Conv1d] | type[nn.Conv2d]:
    return {1: nn.Conv1d, 2: nn.Conv2d}[dims]


class ResidualBlock(nn.Module):
    """norm, SiLU, conv; scale and shift by the noise embedding; norm, SiLU, conv; + shortcut."""

    def __init__(
        self, dims: int, in_channels: int, out_channels: int, embedding_channels: int
    ) -> None:
        super().__init__()
        conv = _conv(dims)
        self.norm1 = group_norm(in_channels)
        self.conv1 = conv(in_channels, out_channels, 3, padding=1)
        self.noise_projection = nn.Linear(embedding_channels, 2 * out_channels)
        self.norm2 = group_norm(out_channels)
        self.conv2 = zero_(conv(out_channels, out_channels, 3, padding=1))
        self.shortcut = (
            conv(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()
        )

    def forward(self, x: Tensor, noise_embedding: Tensor) -> Tensor:
        h = self.conv1(functional.silu(self.norm1(x)))
        scale_shift = self.noise_projection(noise_embedding)
        scale, shift = scale_shift.reshape(*scale_shift.shape, *[1] * (x.ndim - 2)).chunk(2, 1)
        h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(functional.silu(h))
        return self.shortcut(x) + h


class SelfAttention(nn.Module):
    """Pre-norm multi-head softmax attention over all positions, added to the input."""

    def __init__(self, dims: int, channels: int, heads: int) -> None:
        super().__init__()
        if channels % heads:
            raise ValueError(f"attention width {channels} is not divisible by {heads} heads")
        self.heads = heads
        self.norm = group_norm(channels)
        self.qkv = _conv(dims)(channels, 3 * channels, 1)
        self.out = zero_(_conv(dims)(channels, channels, 1))

    def forward(self, x: Tensor) -> Tensor:
        batch, channels, *positions = x.shape
        qkv = self.qkv(self.norm(x)).reshape(batch, 3, self.heads, channels // self.heads, -1)
        q, k, v = qkv.transpose(-1, -2).unbind(1)  # each (batch, heads, positions, head_channels)
        h = functional.scaled_dot_product_attention(q, k, v)
        return x + self.out(h.transpose(-1, -2).reshape(batch, channels, *positions))


class Stage(nn.Module):
    """The blocks of one resolution, each optionally followed by attention."""

    def __init__(
        self,
        dims: int,
        in_channels: int,
        out_channels: int,
        blocks: int,
        attention_heads: int | None,
        embedding_channels: int,
        skip_channels: int = 0,
    ) -> None:
        super().__init__()
        self.blocks = nn.ModuleList()
        self.attentions = nn.ModuleList()
        for i in range(blocks):
            block_in = (in_channels if i == 0 else out_channels) + skip_channels
            self.blocks.append(ResidualBlock(dims, block_in, out_channels, embedding_channels))
            self.attentions.append(
                nn.Identity()
                if attention_heads is None
                else SelfAttention(dims, out_channels, attention_heads)
            )


class UNet(nn.Module):
    """``(batch, in_channels, *spatial) -> (batch, out_channels, *spatial)``, given the noise
    embedding. Every spatial size must divide by ``2 ** (levels - 1)``; the wrappers pad.

    ``resampling``: ``"pool"`` (max-pooling down, transposed convolution up, as in seed 001) or
    ``"conv"`` (strided 3x3 convolution down, nearest neighbour and 3x3 convolution up).
    """

    def __init__(
        self,
        dims: int,
        in_channels: int,
        out_channels: int,
        base_channels: int,
        channel_multipliers: Sequence[int],
        blocks_per_level: int,
        attention_levels: Sequence[int],
        attention_heads: int,
        embedding_channels: int,
        resampling: str = "pool",
    ) -> None:
        super().__init__()
        conv = _conv(dims)
        widths = [base_channels * m for m in channel_multipliers]
        levels = len(widths)
        self.resampling = resampling

        def heads(level: int) -> int | None:
            return attention_heads if level in attention_levels else None

        self.input_conv = conv(in_channels, widths[0], 3, padding=1)

        self.encoder = nn.ModuleList()
        self.downsamplers = nn.ModuleList()
        previous = widths[0]
        for level, width in enumerate(widths):
            if level > 0 and resampling == "conv":
                self.downsamplers.append(conv(previous, previous, 3, stride=2, padding=1))
            self.encoder.append(
                Stage(dims, previous, width, blocks_per_level, heads(level), embedding_channels)
            )
            previous = width

        self.middle_block1 = ResidualBlock(dims, previous, previous, embedding_channels)
        self.middle_attention = SelfAttention(dims, previous, attention_heads)
        self.middle_block2 = ResidualBlock(dims, previous, previous, embedding_channels)

        self.decoder = nn.ModuleList()
        self.upsamplers = nn.ModuleList()
        for level in reversed(range(levels)):
            width = widths[level]
            self.decoder.append(
                Stage(
                    dims, previous, width, blocks_per_level, heads(level), embedding_channels, width
                )
            )
            previous = width
            if level > 0:
                finer = widths[level - 1]
                if resampling == "pool":
                    upsampler = _conv_transpose(dims)(width, finer, 2, stride=2)
                else:
                    upsampler = nn.Sequential(
                        nn.Upsample(scale_factor=2, mode="nearest"),
                        conv(width, finer, 3, padding=1),
                    )
                self.upsamplers.append(upsampler)
                previous = finer

        self.output_norm = group_norm(previous)
        self.output_conv = zero_(conv(previous, out_channels, 3, padding=1))

    def downsample(self, h: Tensor, level: int) -> Tensor:
        if self.resampling == "conv":
            return self.downsamplers[level - 1](h)
        return functional.max_pool1d(h, 2) if h.ndim == 3 else functional.max_pool2d(h, 2)

    def forward(self, x: Tensor, noise_embedding: Tensor) -> Tensor:
        h = self.input_conv(x)
        skips = []
        for level, stage in enumerate(self.encoder):
            if level > 0:
                h = self.downsample(h, level)
            for block, attention in zip(stage.blocks, stage.attentions, strict=True):
                h = attention(block(h, noise_embedding))
                skips.append(h)

        h = self.middle_block1(h, noise_embedding)
        h = self.middle_block2(self.middle_attention(h), noise_embedding)

        for level, stage in enumerate(self.decoder):
            if level > 0:
                h = self.upsamplers[level - 1](h)
            for block, attention in zip(stage.blocks, stage.attentions, strict=True):
                h = attention(block(torch.cat([h, skips.pop()], dim=1), noise_embedding))

        return self.output_conv(functional.silu(self.output_norm(h)))


def _conv_transpose(dims: int) -> type[nn.ConvTranspose1d] | type[nn.ConvTranspose2d]:
    return {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d}[dims]


def noise_mlp(embedding_channels: int, features: int = 128) -> nn.Sequential:
    """Fourier features of ``c_noise`` (1e-3..1e3 rad per unit) and a two-layer MLP."""
    return nn.Sequential(
        FourierEmbedding(features),
        nn.Linear(features, embedding_channels),
        nn.SiLU(),
        nn.Linear(embedding_channels, embedding_channels),
    )
