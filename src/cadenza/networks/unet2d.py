"""2D U-Net in the style of EDMSound, for the complex STFT.

Input ``(batch, 2 * channels, freq, frames)``: real and imaginary parts of a compressed STFT
(``cadenza.representations.ComplexSTFT``, 256 bins x frames at its defaults) as image channels.
EDMSound trains an image-style 2D U-Net (after Richter et al.'s score-based speech enhancement
network and Imagen's efficient U-Net) in the EDM framework; the seed does not give its sizes.
This one halves both frequency and time between levels (strided convolutions down, nearest
neighbour and convolution up) and has softmax self-attention over every time-frequency position
of the coarsest levels, so its cost grows with the square of the clip length there: it is meant
for clips of seconds, as EDMSound's are. See ``cadenza.networks.unet`` for the blocks.

Frequency and time are zero-padded at the end to multiples of ``2 ** (levels - 1)`` and cropped
back, so any size works.
"""

from __future__ import annotations

from typing import Any, ClassVar

from torch import Tensor, nn

from cadenza.networks.common import ConfigMixin, check_c_noise, int_tuple, pad_to_multiple, positive
from cadenza.networks.unet import UNet, noise_mlp


class UNet2d(ConfigMixin, nn.Module):
    """``(batch, channels, freq, frames), (batch,) -> same shape``; a 2D U-Net over (freq, time)."""

    name: ClassVar[str] = "unet2d"
    config_keys = (
        "channels",
        "base_channels",
        "channel_multipliers",
        "blocks_per_level",
        "attention_levels",
        "attention_heads",
    )

    SEED: ClassVar[dict[str, Any]] = {
        "channels": 2,
        "base_channels": 64,
        "channel_multipliers": (1, 2, 2, 4, 4),
        "blocks_per_level": 2,
        "attention_levels": (3, 4),
        "attention_heads": 8,
    }
    """For mono 256-bin complex STFTs; sizes are cadenza's choice (the seed states none)."""
    TINY: ClassVar[dict[str, Any]] = {
        "base_channels": 16,
        "channel_multipliers": (1, 2, 2, 4),
        "blocks_per_level": 1,
        "attention_levels": (3,),
        "attention_heads": 4,
    }
    """Trains on 2 CPU cores; attention only at 1/8 resolution (512 positions for 256 x 128)."""

    def __init__(
        self,
        channels: int = 2,
        base_channels: int = 32,
        channel_multipliers: tuple[int, ...] = (1, 2, 2, 4),
        blocks_per_level: int = 2,
        attention_levels: tuple[int, ...] = (3,),
        attention_heads: int = 4,
    ) -> None:
        super().__init__()
        self.channels = positive("channels", channels)
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
            dims=2,
            in_channels=self.channels,
            out_channels=self.channels,
            base_channels=self.base_channels,
            channel_multipliers=self.channel_multipliers,
            blocks_per_level=self.blocks_per_level,
            attention_levels=self.attention_levels,
            attention_heads=self.attention_heads,
            embedding_channels=embedding_channels,
            resampling="conv",
        )

    @property
    def multiple(self) -> int:
        """Frequency bins and frames are padded internally to multiples of this."""
        return 2 ** (len(self.channel_multipliers) - 1)

    def forward(self, x: Tensor, c_noise: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != self.channels:
            raise ValueError(
                f"unet2d expects (batch, {self.channels}, freq, frames), got {tuple(x.shape)}"
            )
        freq, frames = x.shape[-2:]
        embedding = self.noise_embedding(check_c_noise(x, c_noise))
        h = self.unet(pad_to_multiple(x, [self.multiple, self.multiple]), embedding)
        return h[..., :freq, :frames]
