"""1D U-Net with frequency as channels (seed 001), for mel and packed-mel tensors.

Input ``(batch, channels, freq, frames)``, e.g. seed 001's packed mel 3 x 128 x 128: the
``channels * freq`` rows become the channels of one-dimensional convolutions along time, which
the seed chose because 1D kernels are much faster than 2D ones. The seed's U-Net is an
encoder-decoder of ResNet blocks with max-pooling down, transposed convolutions up, skip
connections, time embeddings and attention; cadenza keeps that shape (see ``cadenza.networks.
unet``) with GroupNorm in place of the seed's BatchNorm, whose batch statistics would make a
sample depend on the rest of its batch and differ between training and sampling, and SiLU in
place of ReLU.

Time is zero-padded at the end to a multiple of ``2 ** (levels - 1)`` and cropped back, so any
number of frames works. The seed does not state its widths: ``SEED`` is cadenza's choice at the
seed's 3 x 128 x 128.
"""

from __future__ import annotations

from typing import Any, ClassVar

from torch import Tensor, nn

from cadenza.networks.common import ConfigMixin, check_c_noise, int_tuple, pad_to_multiple, positive
from cadenza.networks.unet import UNet, noise_mlp


class UNet1d(ConfigMixin, nn.Module):
    """``(batch, channels, freq, frames), (batch,) -> same shape``; frequency as 1D channels."""

    name: ClassVar[str] = "unet1d"
    config_keys = (
        "channels",
        "freq",
        "base_channels",
        "channel_multipliers",
        "blocks_per_level",
        "attention_levels",
        "attention_heads",
        "input_skip",
    )

    SEED: ClassVar[dict[str, Any]] = {
        "channels": 3,
        "freq": 128,
        "base_channels": 128,
        "channel_multipliers": (1, 2, 2, 4),
        "blocks_per_level": 2,
        "attention_levels": (2, 3),
        "attention_heads": 8,
    }
    """Seed 001's packed mel 3 x 128 x 128; widths are cadenza's choice (the seed states none)."""
    TINY: ClassVar[dict[str, Any]] = {
        "base_channels": 32,
        "channel_multipliers": (1, 2, 2),
        "blocks_per_level": 1,
        "attention_levels": (2,),
        "attention_heads": 4,
    }
    """Small enough to train on 2 CPU cores; combine with the representation's channels/freq."""

    def __init__(
        self,
        channels: int = 1,
        freq: int = 128,
        base_channels: int = 64,
        channel_multipliers: tuple[int, ...] = (1, 2, 4),
        blocks_per_level: int = 2,
        attention_levels: tuple[int, ...] = (2,),
        attention_heads: int = 4,
        input_skip: bool = False,
    ) -> None:
        super().__init__()
        self.channels = positive("channels", channels)
        self.freq = positive("freq", freq)
        self.base_channels = positive("base_channels", base_channels)
        self.channel_multipliers = int_tuple("channel_multipliers", channel_multipliers)
        self.blocks_per_level = positive("blocks_per_level", blocks_per_level)
        levels = len(self.channel_multipliers)
        self.attention_levels = int_tuple(
            "attention_levels", attention_levels, 0, levels - 1, empty=True
        )
        self.attention_heads = positive("attention_heads", attention_heads)
        embedding_channels = 4 * self.base_channels

        self.noise_embedding = noise_mlp(embedding_channels)
        self.unet = UNet(
            dims=1,
            in_channels=self.channels * self.freq,
            out_channels=self.channels * self.freq,
            base_channels=self.base_channels,
            channel_multipliers=self.channel_multipliers,
            blocks_per_level=self.blocks_per_level,
            attention_levels=self.attention_levels,
            attention_heads=self.attention_heads,
            embedding_channels=embedding_channels,
            resampling="pool",
        )
        # With frequency as channels the first convolution squeezes channels x freq (384 for
        # the packed mel) into base_channels, and noise cannot pass that bottleneck; but around
        # sigma ~ sigma_data a v- or eps-target is half noise (measured without the skip:
        # x0 error 0.43 at sigma 1, worse than predicting the mean, 0.33). The skip adds
        # gate(sigma) * x_in per channel at full width; zero at the start of training.
        self.input_skip = bool(input_skip)
        self.skip_gate = None
        if self.input_skip:
            self.skip_gate = nn.Linear(embedding_channels, self.channels * self.freq)
            nn.init.zeros_(self.skip_gate.weight)
            nn.init.zeros_(self.skip_gate.bias)

    @property
    def multiple(self) -> int:
        """Frames are padded internally to a multiple of this."""
        return 2 ** (len(self.channel_multipliers) - 1)

    def forward(self, x: Tensor, c_noise: Tensor) -> Tensor:
        if x.ndim != 4 or tuple(x.shape[1:3]) != (self.channels, self.freq):
            raise ValueError(
                f"unet1d expects (batch, {self.channels}, {self.freq}, frames), "
                f"got {tuple(x.shape)}"
            )
        frames = x.shape[-1]
        embedding = self.noise_embedding(check_c_noise(x, c_noise))
        flat = x.flatten(1, 2)
        h = self.unet(pad_to_multiple(flat, [self.multiple]), embedding)[..., :frames]
        if self.skip_gate is not None:
            h = h + self.skip_gate(embedding)[:, :, None] * flat
        return h.reshape(x.shape)
