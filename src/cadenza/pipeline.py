"""A trained model as one self-describing artefact.

A pipeline folder holds ``pipeline.json`` (representation, network and objective configs, the
data's sigma_data and channels, the default sampling plan and editing strategy, the sampling
range if narrower than the objective's, versions), ``network.safetensors`` (the EMA weights),
``representation.safetensors`` (fitted statistics, if any) and optionally a vocoder
(``vocoder.json`` + ``vocoder.safetensors``). ``cadenza.load(path)`` rebuilds everything and
checks it; a wrong or damaged folder is a clear error naming the file.

A pipeline is the model only: what you do with it (generate, extend, inpaint, ...) lives in
:mod:`cadenza.tasks`, and how one run samples is the :class:`~cadenza.plan.Plan` that
``Pipeline.plan`` resolves from the model's defaults and the caller's choices.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cadenza import plan as plans
from cadenza.checkpoint import CheckpointError, load_tensors, read_json, write_checkpoint_folder
from cadenza.networks.common import PaddedAsTrained
from cadenza.objectives import objective as build_objective
from cadenza.plan import Plan
from cadenza.representations import Representation
from cadenza.representations import representation as build_representation
from cadenza.sampling import SAMPLERS
from cadenza.schedules import schedule
from cadenza.version import __version__

SHIPPED = ("tiny-piano-mel", "tiny-piano-diffwave")
"""Models inside the package (see cadenza/models/README.md); the first is the default."""

MAX_PROBE_FRAMES = 4096
"""The longest time axis ``Pipeline.min_seconds`` tries."""

FORMAT = "cadenza-pipeline"
FORMAT_VERSION = 1


@dataclass
class Pipeline:
    representation: Representation
    network: nn.Module
    objective_name: str
    objective_options: dict[str, Any]
    sigma_data: float  # std of the training data in the network's space
    defaults: Plan = field(default_factory=Plan)  # the model's own sampler, steps and schedule
    channels: int = 1
    loudness: float | None = None  # LUFS that generated audio is brought to: the corpus median
    vocoder: nn.Module | None = None
    describe: dict[str, Any] = field(default_factory=dict)  # free-form: how it was made
    sigma_range: tuple[float, float] | None = None  # sampling's; None: the objective's range
    edit_strategy: str = plans.EDIT_STRATEGY  # how known audio enters sampling, unless named

    @property
    def objective(self):
        return build_objective(self.objective_name, **self.objective_options)

    @property
    def sample_rate(self) -> int:
        return self.representation.sample_rate

    @property
    def device(self) -> torch.device:
        return next(self.network.parameters()).device

    @property
    def noise_range(self) -> tuple[float, float]:
        """The sigmas this model samples between: those it was made for (``sigma_range``, e.g.
        by distillation), else its objective's training range."""
        return self.sigma_range or self.objective.sigma_range

    @property
    def trained_frames(self) -> int | None:
        """Time frames of the crops the network was trained on, where ``describe`` says: the
        last distillation round's if it chose them, else its training preset's."""
        rounds = self.describe.get("distillation") or []
        chosen = [entry.get("crop_seconds") for entry in rounds if isinstance(entry, dict)]
        crop = next((seconds for seconds in reversed(chosen) if seconds), None) or \
            self.describe.get("preset", {}).get("data", {}).get("crop_seconds")
        if not crop:
            return None
        return self.representation.frames(self.representation.samples_for(crop))

    def denoiser(self):
        """The objective's denoiser around the network; a U-Net sees its time axis padded as
        in training (:class:`~cadenza.networks.common.PaddedAsTrained`)."""
        network = self.network
        if getattr(network, "multiple", None) and self.trained_frames:
            network = PaddedAsTrained(network, self.trained_frames)
        return self.objective.denoiser(network)

    @functools.cached_property
    def min_seconds(self) -> float:
        """The shortest audio this model can make or edit. An STFT needs more samples than half
        its window, and a U-Net enough frames to downsample and normalise; rather than derive
        each network's limit, the first length the network runs on (doubling the frames) is
        found once, on zeros."""
        rep, frames = self.representation, 1
        while frames <= MAX_PROBE_FRAMES:
            samples = max(rep.samples_for_frames(frames), 1)
            try:
                with torch.no_grad():
                    x = rep.encode(torch.zeros(1, self.channels, samples, device=self.device))
                    sigma = torch.ones(1, dtype=torch.float64, device=self.device)
                    self.denoiser()(x.float(), sigma)
                return samples / self.sample_rate
            except (RuntimeError, ValueError):
                frames *= 2
        return rep.samples_for_frames(MAX_PROBE_FRAMES) / self.sample_rate

    def plan(self, strategy: str | None = None, sampler: str | None = None,
             steps: int | None = None, **options: Any) -> Plan:
        """The plan a task runs (see :func:`cadenza.plan.resolve`): the caller's choices, else
        the strategy's defaults, else this model's ``defaults``."""
        if sampler is not None and sampler not in SAMPLERS:
            raise ValueError(f"unknown sampler {sampler!r}; choose one of {', '.join(SAMPLERS)}")
        return plans.resolve(self.defaults, strategy, sampler, steps, **options)

    def edit_plan(self, strategy: str | None = None, sampler: str | None = None,
                  steps: int | None = None, **options: Any) -> Plan:
        """The plan of a task with known audio (extend, inpaint, outpaint): as :meth:`plan`,
        with this model's ``edit_strategy`` where the caller names none."""
        return self.plan(strategy or self.edit_strategy, sampler, steps, **options)

    def sigmas(self, plan: Plan | None = None) -> torch.Tensor:
        """The plan's schedule (default: the model's), kept inside the sigma range the model was
        trained on (or the narrower ``sigma_range`` it was made for, e.g. by distillation)."""
        plan = plan or self.defaults
        low, high = self.noise_range
        if plan.schedule == "tuned":
            sigmas = schedule("tuned", plan.steps, sigma_data=self.sigma_data)
        else:
            sigmas = schedule(plan.schedule, plan.steps, sigma_min=low, sigma_max=high)
        inside = sigmas[:-1].clamp(low, high).unique_consecutive()
        return torch.cat([inside, sigmas[-1:]])

    def shape_for(self, seconds: float, batch: int = 1) -> tuple[int, ...]:
        """Shape of the network-space tensor that decodes to at least ``seconds`` of audio."""
        rep = self.representation
        wanted = rep.samples_for(seconds)
        frames = rep.frames(wanted)
        if rep.samples_for_frames(frames) < wanted:  # frames cover whole hops: one more
            frames += 1
        with torch.no_grad():
            probe = rep.encode(torch.zeros(1, self.channels, rep.samples_for_frames(frames)))
        return (batch, *probe.shape[1:])

    @torch.no_grad()
    def decode(self, tensor: torch.Tensor, samples: int | None = None) -> torch.Tensor:
        """Network-space tensor -> wave; ``samples`` crops or pads to that length."""
        return self.representation.decode(tensor, samples, vocoder=self.vocoder)

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
                "sampler": self.defaults.sampler,
                "steps": self.defaults.steps,
                "schedule": self.defaults.schedule,
                "edit_strategy": self.edit_strategy,
                "channels": self.channels,
                **({} if self.loudness is None else {"loudness": self.loudness}),
                "describe": self.describe,
                **({} if self.sigma_range is None else {"sigma_range": list(self.sigma_range)}),
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


def model_folder(model: str | Path | None = None) -> Path:
    """Where a model lives: a folder as given, a shipped model's name (``tiny-piano-diffwave``)
    as its folder in the package, nothing as the default shipped model. A folder that is not
    there is returned as it is, for ``load`` to report."""
    if model is None:
        return shipped()
    path = Path(model)
    if not path.exists() and str(model) in SHIPPED:
        return shipped(str(model))
    return path


def _not_a_model(path: Path) -> str:
    """Why ``path`` is no model folder, with the shipped names (and the closest) to choose."""
    import difflib

    what = "not a cadenza model folder" if path.exists() else "no such model folder"
    close = difflib.get_close_matches(path.name, SHIPPED, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{what}, nor a shipped model ({', '.join(SHIPPED)}){hint}"


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
        raise CheckpointError(f"{path}: {_not_a_model(path)}")
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
    edit_strategy = meta.get("edit_strategy", plans.EDIT_STRATEGY)
    if edit_strategy not in plans.STRATEGIES:
        raise CheckpointError(f"{path / 'pipeline.json'}: unknown edit_strategy "
                              f"{edit_strategy!r}; one of {', '.join(plans.STRATEGIES)}")
    return Pipeline(
        representation=rep.to(device),
        network=net.to(device).eval(),
        objective_name=objective_name,
        objective_options=objective_config,
        sigma_data=float(meta["sigma_data"]),
        defaults=Plan(meta.get("sampler", plans.SAMPLER), int(meta.get("steps", plans.STEPS)),
                      meta.get("schedule", plans.SCHEDULE)),
        # Folders written before channels had their own field kept it in ``describe``.
        channels=int(meta.get("channels", meta.get("describe", {}).get("channels", 1))),
        loudness=float(meta["loudness"]) if meta.get("loudness") is not None else None,
        vocoder=vocoder,
        describe=meta.get("describe", {}),
        sigma_range=tuple(map(float, meta["sigma_range"])) if meta.get("sigma_range") else None,
        edit_strategy=edit_strategy,
    )

