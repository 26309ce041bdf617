"""Networks: build one by name; ``network(name, **module.config())`` rebuilds it.

Diffusion networks are called ``network(x, c_noise)`` and return a tensor shaped like ``x``;
``c_noise`` has shape (batch,) and may be any noise conditioning (EDM's ``ln(sigma) / 4``, a
timestep in [0, 1000), a cosine time in [0, 1]). They know nothing of diffusion. Layouts:

- ``diffwave``: waveform ``(batch, channels, samples)``; any length.
- ``unet1d``: mel ``(batch, channels, freq, frames)``, ``channels * freq`` as 1D channels.
- ``unet2d_linear_attention``: Msanii's mel U-Net, ``(batch, channels, n_mels, frames)``.
- ``unet2d``: complex STFT ``(batch, 2 * channels, freq, frames)``, 2D over (freq, time).

The U-Nets pad time (and ``unet2d`` frequency) internally to the multiple they need and crop
back, so any size works. The vocoders are not diffusion networks: ``vocoder(mel) -> magnitude``
(Msanii's, phase by Griffin-Lim), trained with ``vocoder_loss``, and ``vocos(mel, samples) ->
wave`` (Vocos: magnitude and phase, inverse STFT), trained with multi-resolution STFT losses;
``vocos_gan`` is a Vocos with the discriminators that train it adversarially beside those
losses (``cadenza.networks.discriminators``).

Each class has ``SEED`` (the configuration of its seed paper, where stated) and ``TINY`` (small
enough to train on a laptop CPU) as keyword dicts: ``network("diffwave", **DiffWave.TINY)``.
"""

from __future__ import annotations

import inspect
from typing import Any

from torch import nn

from cadenza.networks.common import FourierEmbedding
from cadenza.networks.diffwave import DiffWave
from cadenza.networks.unet1d import UNet1d
from cadenza.networks.unet2d import UNet2d
from cadenza.networks.unet2d_linear_attention import UNet2dLinearAttention
from cadenza.networks.vocoder import Vocoder, vocoder_loss
from cadenza.networks.vocos import Vocos, VocosGAN

_CLASSES: dict[str, type[nn.Module]] = {
    cls.name: cls
    for cls in (DiffWave, UNet1d, UNet2dLinearAttention, UNet2d, Vocoder, Vocos, VocosGAN)
}
NETWORKS = tuple(_CLASSES)
"""Every buildable name, the vocoders included."""
VOCODERS = ("vocoder", "vocos", "vocos_gan")
DIFFUSION_NETWORKS = tuple(name for name in NETWORKS if name not in VOCODERS)
"""The names called as ``network(x, c_noise)``."""


def network(name: str, **config: Any) -> nn.Module:
    """Build a network by name from its keyword config; unknown names or keys raise ValueError."""
    if name not in _CLASSES:
        raise ValueError(f"unknown network {name!r}; choose one of {', '.join(NETWORKS)}")
    cls = _CLASSES[name]
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    unknown = sorted(set(config) - accepted)
    if unknown:
        raise ValueError(
            f"{name} has no option(s) {', '.join(unknown)}; it takes {', '.join(sorted(accepted))}"
        )
    return cls(**config)


def network_class(name: str) -> type[nn.Module]:
    """The class behind a name, e.g. to read its ``SEED`` and ``TINY`` configurations."""
    if name not in _CLASSES:
        raise ValueError(f"unknown network {name!r}; choose one of {', '.join(NETWORKS)}")
    return _CLASSES[name]


__all__ = [
    "DIFFUSION_NETWORKS",
    "NETWORKS",
    "VOCODERS",
    "DiffWave",
    "FourierEmbedding",
    "UNet1d",
    "UNet2d",
    "UNet2dLinearAttention",
    "Vocoder",
    "Vocos",
    "VocosGAN",
    "network",
    "network_class",
    "vocoder_loss",
]
