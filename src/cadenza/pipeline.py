"""A trained model as one self-describing artefact, and what you do with it.

A pipeline folder holds ``pipeline.json`` (representation, network and objective configs, the
data's sigma_data, default sampler and steps, versions), ``network.safetensors`` (the EMA
weights), ``representation.safetensors`` (fitted statistics, if any) and optionally a vocoder
(``vocoder.json`` + ``vocoder.safetensors``). ``cadenza.load(path)`` rebuilds everything and
checks it; a wrong or damaged folder is a clear error naming the file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cadenza import __version__
from cadenza.checkpoint import CheckpointError, load_tensors, read_json, write_checkpoint_folder
from cadenza.objectives import objective as build_objective
from cadenza.representations import Representation
from cadenza.representations import representation as build_representation
from cadenza.sampling import sample, start_noise
from cadenza.schedules import schedule

SHIPPED = ("tiny-piano-mel",)
"""Models inside the package (see cadenza/models/README.md); the first is the default."""

FORMAT = "cadenza-pipeline"
FORMAT_VERSION = 1


@dataclass
class Pipeline:
    representation: Representation
    network: nn.Module
    objective_name: str
    objective_options: dict[str, Any]
    sigma_data: float  # std of the training data in the network's space
    sampler: str = "deis"
    steps: int = 10
    schedule_kind: str = "tuned"
    vocoder: nn.Module | None = None
    describe: dict[str, Any] = field(default_factory=dict)

    @property
    def objective(self):
        return build_objective(self.objective_name, **self.objective_options)

    @property
    def sample_rate(self) -> int:
        return self.representation.sample_rate

    def denoiser(self):
        return self.objective.denoiser(self.network)

    def sigmas(self, steps: int | None = None) -> torch.Tensor:
        """The default schedule, kept inside the sigma range the model was trained on."""
        steps = steps or self.steps
        low, high = self.objective.sigma_range
        if self.schedule_kind == "tuned":
            sigmas = schedule("tuned", steps, sigma_data=self.sigma_data)
        else:
            sigmas = schedule(self.schedule_kind, steps, sigma_min=low, sigma_max=high)
        inside = sigmas[:-1].clamp(low, high).unique_consecutive()
        return torch.cat([inside, sigmas[-1:]])

    def shape_for(self, seconds: float, batch: int = 1) -> tuple[int, ...]:
        """Shape of the network-space tensor for ``seconds`` of audio."""
        samples = self.representation.samples_for_frames(self.representation.frames_for(seconds))
        channels = self.describe.get("channels", 1)
        with torch.no_grad():
            probe = self.representation.encode(torch.zeros(1, channels, samples))
        return (batch, *probe.shape[1:])

    def decode(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.vocoder is not None and hasattr(self.representation, "unscale"):
            from cadenza.representations import griffin_lim

            with torch.no_grad():
                magnitude = self.vocoder(tensor)
            rep = self.representation
            return griffin_lim(magnitude, rep.n_fft, rep.hop_length, rep.window,
                               rep.griffin_lim_iterations, rep.griffin_lim_momentum)
        return self.representation.decode(tensor)

    @torch.no_grad()
    def generate(
        self,
        seconds: float,
        batch: int = 1,
        *,
        seed: int = 0,
        steps: int | None = None,
        sampler: str | None = None,
        progress: bool = False,
        **sampler_options,
    ) -> torch.Tensor:
        """Unconditional audio ``(batch, channels, samples)``; the same seed, the same audio."""
        device = next(self.network.parameters()).device
        sigmas = self.sigmas(steps)
        generator = torch.Generator(device=device).manual_seed(seed)
        x = start_noise(self.shape_for(seconds, batch), float(sigmas[0]),
                        sigma_data=self.sigma_data, generator=generator, device=device)
        x = sample(self.denoiser(), x, sigmas, sampler or self.sampler, generator=generator,
                   progress=progress, **sampler_options)
        return self.decode(x.float()).cpu()

    # ------------------------------------------------------------------ persistence

    def save(self, path: str | Path) -> Path:
        files: dict[str, Any] = {
            "pipeline.json": {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "representation": self.representation.config(),
                "network": {"name": self.network.name, **self.network.config()},
                "objective": {"name": self.objective_name, **self.objective_options},
                "sigma_data": self.sigma_data,
                "sampler": self.sampler,
                "steps": self.steps,
                "schedule": self.schedule_kind,
                "describe": self.describe,
                "cadenza": __version__,
            },
            "network.safetensors": self.network.state_dict(),
            "representation.safetensors": self.representation.state_dict(),
        }
        if self.vocoder is not None:
            files["vocoder.json"] = {"name": self.vocoder.name, **self.vocoder.config()}
            files["vocoder.safetensors"] = self.vocoder.state_dict()
        return write_checkpoint_folder(Path(path), files)


def shipped(name: str = SHIPPED[0]) -> Path:
    """The folder of a model shipped inside the package."""
    from importlib import resources

    if name not in SHIPPED:
        raise ValueError(f"unknown shipped model {name!r}; choose one of {', '.join(SHIPPED)}")
    folder = Path(str(resources.files("cadenza") / "models" / name))
    if not (folder / "pipeline.json").exists():
        raise CheckpointError(f"the shipped model {name} is missing from this installation")
    return folder


def load_vocoder(path: str | Path) -> nn.Module:
    """A vocoder folder written by training the ``vocoder`` preset (or a model folder's)."""
    from cadenza.networks import network as build_network

    path = Path(path)
    config = read_json(path / "vocoder.json")
    try:
        vocoder = build_network(config.pop("name"), **config)
        vocoder.load_state_dict(load_tensors(path / "vocoder.safetensors"))
    except (KeyError, TypeError, RuntimeError) as error:
        raise CheckpointError(f"{path}: inconsistent vocoder files ({error})") from None
    return vocoder.eval()


def load(path: str | Path, device: str | torch.device = "cpu") -> Pipeline:
    """Rebuild a saved pipeline; a wrong or damaged folder is a ``CheckpointError``."""
    from cadenza.networks import network as build_network

    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(f"{path}: not a cadenza model folder")
    meta = read_json(path / "pipeline.json")
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path / 'pipeline.json'}: not a cadenza pipeline")
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(f"{path}: made by a newer cadenza ({meta.get('cadenza')})")
    try:
        rep = build_representation(**meta["representation"])
        rep.load_state_dict(load_tensors(path / "representation.safetensors"))
        net_config = dict(meta["network"])
        net = build_network(net_config.pop("name"), **net_config)
        net.load_state_dict(load_tensors(path / "network.safetensors"))
        vocoder = load_vocoder(path).to(device) if (path / "vocoder.json").exists() else None
        objective_config = dict(meta["objective"])
        objective_name = objective_config.pop("name")
    except (KeyError, TypeError, RuntimeError) as error:
        raise CheckpointError(f"{path}: inconsistent model files ({error})") from None
    if not math.isfinite(meta["sigma_data"]):
        raise CheckpointError(f"{path / 'pipeline.json'}: sigma_data is not finite")
    return Pipeline(
        representation=rep.to(device),
        network=net.to(device).eval(),
        objective_name=objective_name,
        objective_options=objective_config,
        sigma_data=float(meta["sigma_data"]),
        sampler=meta.get("sampler", "deis"),
        steps=int(meta.get("steps", 10)),
        schedule_kind=meta.get("schedule", "tuned"),
        vocoder=vocoder,
        describe=meta.get("describe", {}),
    )

