"""Pieces every network shares: the noise embedding, padding to a multiple, config plumbing.

The noise embedding is why one network can serve every objective: ``c_noise`` may be EDM's
``ln(sigma) / 4`` (about -3..2), a continuous cosine time in [0, 1] or a discrete timestep in
[0, 1000), and Fourier features at geometric frequencies spread over six decades resolve all
three, so the network never needs to know which it is given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor, nn
from torch.nn import functional


class FourierEmbedding(nn.Module):
    """``c_noise (batch,) -> (batch, features)``: sines and cosines of ``c_noise * frequency``.

    ``features // 2`` frequencies spaced geometrically from ``min_frequency`` to
    ``max_frequency`` (angular, radians per unit of ``c_noise``). The frequencies are derived
    from the config, so they are a non-persistent buffer, not saved.
    """

    def __init__(
        self, features: int = 128, min_frequency: float = 1e-3, max_frequency: float = 1e3
    ) -> None:
        super().__init__()
        if features < 2 or features % 2:
            raise ValueError(f"embedding features must be even and >= 2, got {features}")
        count = features // 2
        exponents = (
            torch.linspace(0, 1, count, dtype=torch.float64) if count > 1 else torch.zeros(1)
        )
        frequencies = min_frequency * (max_frequency / min_frequency) ** exponents
        self.register_buffer("frequencies", frequencies.float(), persistent=False)

    def forward(self, c_noise: Tensor) -> Tensor:
        angles = c_noise.float()[:, None] * self.frequencies[None, :]
        return torch.cat([angles.sin(), angles.cos()], dim=1)


def check_c_noise(x: Tensor, c_noise: Tensor) -> Tensor:
    """``c_noise`` as a float tensor of shape (batch,); a scalar is broadcast over the batch."""
    c_noise = torch.as_tensor(c_noise, device=x.device)
    if c_noise.ndim == 0:
        c_noise = c_noise.expand(x.shape[0])
    if c_noise.shape != (x.shape[0],):
        raise ValueError(
            f"c_noise must have shape (batch,) = ({x.shape[0]},), got {tuple(c_noise.shape)}"
        )
    return c_noise.to(torch.float32)


def pad_to_multiple(x: Tensor, multiples: Sequence[int]) -> Tensor:
    """Zero-pad the last ``len(multiples)`` axes at their end up to a multiple of each.

    U-Nets halve an axis several times, so they need its length to divide; padding at the end
    and cropping back (``x[..., :length]``) keeps ``output.shape == input.shape``.
    """
    padding: list[int] = []
    for size, multiple in zip(
        reversed(x.shape[-len(multiples) :]), reversed(multiples), strict=True
    ):
        padding += [0, -size % multiple]
    return functional.pad(x, padding) if any(padding) else x


class PaddedAsTrained(nn.Module):
    """``network`` (a U-Net with a ``multiple``) fed a time axis that its own zero padding
    ends exactly as it ended on the crops it was trained on (``trained_frames`` long).

    Trained on crops of one length, a U-Net learns where its padding starts: given another
    remainder it fades the last fraction of a second towards silence. So the time axis is first
    lengthened by its own mirror image (a noisy tensor's mirror is as noisy) until its padding
    matches the trained crops', and the output cropped back.
    """

    def __init__(self, network: nn.Module, trained_frames: int) -> None:
        super().__init__()
        self.network, self.trained_frames = network, positive("trained_frames", trained_frames)

    def extra_frames(self, frames: int) -> int:
        """How many mirrored frames give ``frames`` the trained crops' padding."""
        multiple = self.network.multiple
        return (-frames % multiple - -self.trained_frames % multiple) % multiple

    def forward(self, x: Tensor, c_noise: Tensor) -> Tensor:
        frames = x.shape[-1]
        extra = self.extra_frames(frames)
        if extra == 0 or extra >= frames:  # nothing to mirror with: as it comes
            return self.network(x, c_noise)
        mirrored = torch.cat([x, x[..., frames - extra:].flip(-1)], dim=-1)
        return self.network(mirrored, c_noise)[..., :frames]


def group_norm(channels: int, groups: int = 32) -> nn.GroupNorm:
    """GroupNorm with as many groups as divide ``channels`` (at most ``groups``)."""
    return nn.GroupNorm(math.gcd(groups, channels), channels)


def zero_(module: nn.Module) -> nn.Module:
    """Zero a layer's weights and bias: a fresh residual branch or output starts at 0."""
    for parameter in module.parameters():
        nn.init.zeros_(parameter)
    return module


class ConfigMixin:
    """``config()`` returns the constructor's keyword arguments, JSON-serialisable.

    Subclasses list their keys in ``config_keys`` and keep each as an attribute of that name;
    ``network(name, **module.config())`` rebuilds the module.
    """

    name: ClassVar[str]
    config_keys: ClassVar[tuple[str, ...]]

    def config(self) -> dict[str, Any]:
        return {key: _jsonable(getattr(self, key)) for key in self.config_keys}


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(item) for item in value]
    return value


def _is_int(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def positive(name: str, value: Any) -> int:
    """An integer argument that must be at least 1 (configs come from JSON and the CLI)."""
    if not _is_int(value, 1):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def int_tuple(
    name: str, values: Any, minimum: int = 1, maximum: int | None = None, empty: bool = False
) -> tuple[int, ...]:
    """A tuple of integers in [minimum, maximum] from a list or tuple (JSON gives lists)."""
    if not isinstance(values, list | tuple) or (not values and not empty):
        raise ValueError(
            f"{name} must be a {'' if empty else 'non-empty '}list of integers, got {values!r}"
        )
    for value in values:
        if not _is_int(value, minimum) or (maximum is not None and value > maximum):
            bounds = f">= {minimum}" if maximum is None else f"in {minimum}..{maximum}"
            raise ValueError(f"{name} must hold integers {bounds}, got {list(values)!r}")
    return tuple(values)
