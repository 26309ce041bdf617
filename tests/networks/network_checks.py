"""Checks shared by the network tests (imported by module name: pytest puts this folder on the
path). Each test file calls them explicitly, so it still reads as an example of use."""

from __future__ import annotations

import json
import math

import torch
from torch import Tensor, nn

from cadenza.networks import network

# Three noise conditionings a network must take without knowing which: EDM's ln(sigma)/4,
# a discrete timestep and a continuous cosine time.
C_NOISE_SCALES = {"log_sigma": -1.7, "timestep": 731.0, "cosine_time": 0.42}


def randomize_zeros(module: nn.Module, seed: int = 0) -> nn.Module:
    """Give zero-initialised weights small random values so outputs depend on the input."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in module.parameters():
            if parameter.ndim > 1 and not parameter.any():
                parameter.copy_(0.02 * torch.randn(parameter.shape, generator=generator))
    return module


def rebuilt(module: nn.Module) -> nn.Module:
    """``network(name, **config)`` after a JSON round trip of the config, with the weights."""
    config = json.loads(json.dumps(module.config()))
    copy = network(module.name, **config)
    copy.load_state_dict(module.state_dict())
    return copy


def parameter_count(module: nn.Module) -> int:
    return sum(parameter.numel() for parameter in module.parameters())


def sine_batch(shape: tuple[int, ...], seed: int = 0) -> Tensor:
    """Sinusoids along the last axis with random frequencies: a learnable clean signal."""
    generator = torch.Generator().manual_seed(seed)
    time = torch.linspace(0, 1, shape[-1])
    frequency = 2 + 6 * torch.rand(*shape[:-1], 1, generator=generator)
    return torch.sin(2 * math.pi * frequency * time)


def denoising_losses(
    model: nn.Module, clean: Tensor, steps: int = 40, learning_rate: float = 2e-3
) -> list[float]:
    """Adam on one fixed batch: predict ``clean`` from ``clean + 0.5 * noise`` at one c_noise."""
    generator = torch.Generator().manual_seed(1)
    noisy = clean + 0.5 * torch.randn(clean.shape, generator=generator)
    c_noise = torch.full((clean.shape[0],), 0.3)
    optimizer = torch.optim.Adam(model.parameters(), learning_rate)
    losses = []
    for _ in range(steps):
        loss = (model(noisy, c_noise) - clean).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
