"""From a preset and a folder of audio (or a prepared cache) to a trained pipeline.

``train(preset, data, out)`` builds the representation, network and objective the preset names,
feeds the ``Trainer`` with random crops of the recordings (encoded on the device) or with the
chunks of a ``cadenza data prepare`` cache, writes periodic audio samples, and exports the EMA
weights as a pipeline folder ``out/model`` that ``cadenza.load`` reads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cadenza.atomic import write_json
from cadenza.data import audio
from cadenza.data.dataset import Entry, Manifest, RandomCrops, scan, split
from cadenza.loudness import median_loudness
from cadenza.objectives import objective as build_objective
from cadenza.pipeline import Pipeline
from cadenza.plan import Plan
from cadenza.presets import Preset
from cadenza.representations import Representation
from cadenza.representations import representation as build_representation
from cadenza.settings import DataSettings, TrainConfig
from cadenza.tasks import generate
from cadenza.trainer import Trainer


class VocoderObjective:
    """Msanii's vocoder loss: mel (as the representation encodes it) -> linear magnitude."""

    def __init__(self, representation: Representation):
        self.representation = representation

    def loss(self, network: nn.Module, wave: torch.Tensor, generator=None) -> torch.Tensor:
        from cadenza.networks import vocoder_loss

        rep = self.representation.to(wave.device)
        with torch.no_grad():
            target = rep.magnitude(wave)
            mel = rep.scale(rep.log_mel_of_magnitude(target))  # one STFT for both
        return vocoder_loss(network(mel), target)


class VocosObjective:
    """Vocos without its discriminators: mel -> wave, scored by what a listener's ear resolves.

    auraloss's multi-resolution STFT loss (spectral convergence plus log-magnitude L1 at three
    resolutions, its default settings) plus an L1 distance of the representation's own log-mel.
    The STFT terms make the waveform's magnitude right at time and frequency resolutions other
    than the vocoder's own, which only a consistent phase can achieve.
    """

    def __init__(self, representation: Representation):
        import auraloss

        self.representation = representation
        self.stft_loss = auraloss.freq.MultiResolutionSTFTLoss()

    def loss(self, network: nn.Module, wave: torch.Tensor, generator=None) -> torch.Tensor:
        return self.reconstruction(network, wave)[0]

    def reconstruction(self, vocos: nn.Module, wave: torch.Tensor
                       ) -> tuple[torch.Tensor, torch.Tensor]:
        """(the loss, the predicted wave) of ``vocos`` decoding ``wave``'s log-mel."""
        rep = self.representation.to(wave.device)
        with torch.no_grad():
            target_log_mel = rep.log_mel(wave)
        predicted = vocos(target_log_mel, samples=wave.shape[-1])
        batch = wave.reshape(-1, 1, wave.shape[-1])
        stft = self.stft_loss.to(wave.device)(predicted.reshape_as(batch), batch)
        return stft + (rep.log_mel(predicted) - target_log_mel).abs().mean(), predicted


class VocosGANObjective(VocosObjective):
    """Vocos with its discriminators (Siuzdak 2023): the reconstruction loss above weighted
    ``RECONSTRUCTION_WEIGHT``, hinge adversarial losses summed over the discriminators, and
    feature matching (the mean L1 distance of each layer's maps, summed over layers and
    discriminators) weighted ``FEATURE_WEIGHT``: the paper's 45 and 2 (HiFi-GAN's sums).

    The network is a ``VocosGAN``; one optimizer steps both halves, so the returned loss is
    the generator's and the discriminators' summed, each reaching only its own weights: the
    discriminators judge the generator's output detached for their loss, and judge it with
    their own weights detached (``torch.func.functional_call``) for the generator's.
    """

    RECONSTRUCTION_WEIGHT = 45.0
    FEATURE_WEIGHT = 2.0

    def loss(self, network: nn.Module, wave: torch.Tensor, generator=None) -> torch.Tensor:
        parts = self.parts(network, wave)
        return (self.RECONSTRUCTION_WEIGHT * parts["reconstruction"] + parts["adversarial"]
                + self.FEATURE_WEIGHT * parts["features"] + parts["discriminator"])

    def parts(self, network: nn.Module, wave: torch.Tensor) -> dict[str, torch.Tensor]:
        """The four terms: reconstruction, adversarial and features move only the generator,
        discriminator only the discriminators."""
        from torch.func import functional_call

        reconstruction, predicted = self.reconstruction(network.generator, wave)
        real = wave.reshape(-1, 1, wave.shape[-1])
        fake = predicted.reshape_as(real)
        judges = network.discriminators
        on_real = judges(real)
        on_detached = judges(fake.detach())
        frozen = {name: value.detach() for name, value in
                  [*judges.named_parameters(), *judges.named_buffers()]}
        on_fake = functional_call(judges, frozen, (fake,))
        discriminator = sum(torch.relu(1 - r).mean() + torch.relu(1 + f).mean()
                            for (r, _), (f, _) in zip(on_real, on_detached, strict=True))
        adversarial = sum(torch.relu(1 - f).mean() for f, _ in on_fake)
        features = sum((a.detach() - b).abs().mean()
                       for (_, real_maps), (_, fake_maps) in zip(on_real, on_fake, strict=True)
                       for a, b in zip(real_maps, fake_maps, strict=True))
        return {"reconstruction": reconstruction, "adversarial": adversarial,
                "features": features, "discriminator": discriminator}


VOCODER_OBJECTIVES = {"vocoder": VocoderObjective, "vocos": VocosObjective,
                      "vocos_gan": VocosGANObjective}
"""Objectives that train a vocoder (mel -> audio) rather than a diffusion model."""


def training_dataset(data: Path, rep: Representation, settings: DataSettings,
                     config: TrainConfig) -> tuple[Any, Representation, dict[str, Any]]:
    """(dataset, representation, facts): a cache's chunks, or random crops of recordings.

    ``config``'s seed chooses the validation recordings and the crops; its steps, batch size
    and gradient accumulation say how many crops a run draws.
    """
    if (data / "plan.json").exists():
        from cadenza.data.prepare import CachedChunks

        chunks = CachedChunks(data)
        if chunks.representation.config() != rep.config():
            raise ValueError(f"{data}: cache made with {chunks.representation.config()}, "
                             f"but the preset wants {rep.config()}")
        return chunks, chunks.representation, {"cache": str(data)}
    manifest_path = data / "manifest.json"
    manifest = Manifest.load(manifest_path) if manifest_path.exists() else scan(
        data, min_seconds=settings.min_seconds
    )
    if manifest.skipped:
        print(manifest.report())
    train_entries, validation = split(manifest, settings.validation_fraction, seed=config.seed)
    if not train_entries:
        raise ValueError(f"{data}: no usable recordings to train on")
    crops = RandomCrops(
        manifest,
        train_entries,
        seconds=settings.crop_seconds,
        sample_rate=rep.sample_rate,
        channels=settings.channels,
        length=config.steps * config.batch_size * config.grad_accumulation
        * 1024,  # positional: every example a fresh crop; generous for many processes
        seed=config.seed,
    )
    facts = {"recordings": len(train_entries), "validation_recordings": len(validation),
             "hours": sum(e.seconds for e in train_entries) / 3600,
             "loudness": _median_loudness(manifest, train_entries, rep.sample_rate)}
    return crops, rep, facts


def _median_loudness(manifest: Manifest, entries: list[Entry], sample_rate: int,
                     count: int = 64) -> float | None:
    """The training recordings' median loudness (LUFS; up to ``count`` of them, evenly spread):
    the level the model's generated audio is brought to. None if none can be measured."""
    chosen = [manifest.absolute(entry) for entry in entries[:: max(1, len(entries) // count)]]
    try:
        return round(median_loudness(chosen[:count], sample_rate), 2)
    except ValueError:
        return None


def _fit_and_measure(rep: Representation, dataset, count: int = 64) -> float:
    """Fit the representation's statistics on the first examples; return the data's std."""
    examples = torch.stack([dataset[i] for i in range(min(count, len(dataset)))])
    if hasattr(rep, "fit") and not rep.fitted:
        rep.fit([examples[i : i + 8] for i in range(0, len(examples), 8)])
    with torch.no_grad():
        return float(rep.encode(examples).float().std())


def _on_sample(pipeline_for, out: Path, seconds: float, steps: int | None):
    def write_sample(ema_network: nn.Module, step: int) -> None:
        pipeline = pipeline_for(ema_network)
        wave = generate(pipeline, seconds, 1, seed=0, steps=steps)
        audio.write(out / "samples" / f"step-{step:07d}.wav", wave[0].numpy(),
                    pipeline.sample_rate)

    return write_sample


@dataclass
class _Setup:
    """What a run is built from, made the same way by ``train`` and ``export``."""

    preset: Preset
    rep: Representation
    dataset: Any
    facts: dict[str, Any]
    objective_name: str
    objective_config: dict[str, Any]
    objective: Any
    transform: Any
    sigma_data: float
    vocoder: nn.Module | None

    def pipeline_for(self, net: nn.Module) -> Pipeline:
        sampling = self.preset.sampling
        chosen = {"sampler": sampling.sampler, "steps": sampling.steps,
                  "schedule": sampling.schedule}
        defaults = Plan(**{key: value for key, value in chosen.items()
                           if value is not None})  # the rest: cadenza.plan's defaults
        return Pipeline(self.rep, net, self.objective_name, self.objective_config,
                        self.sigma_data, defaults=defaults, channels=self.preset.data.channels,
                        loudness=self.facts.get("loudness"), vocoder=self.vocoder,
                        describe={"preset": self.preset.to_dict(), "data": self.facts})


def _setup(preset: Preset, data: Path) -> _Setup:
    """Representation (statistics fitted on the seeded first crops), data, objective."""
    rep = build_representation(**preset.representation)
    dataset, rep, facts = training_dataset(data, rep, preset.data, preset.training)
    objective_config = dict(preset.objective)
    objective_name = objective_config.pop("name")
    transform = None
    if objective_name in VOCODER_OBJECTIVES:
        objective, sigma_data = VOCODER_OBJECTIVES[objective_name](rep), 1.0
        if hasattr(rep, "fit") and not rep.fitted:
            _fit_and_measure(rep, dataset)
    else:
        objective = build_objective(objective_name, **objective_config)
        if "cache" in facts:
            sample_count = min(64, len(dataset))
            sigma_data = float(torch.stack([dataset[i] for i in range(sample_count)]).std())
        else:
            sigma_data = _fit_and_measure(rep, dataset)

            def transform(wave: torch.Tensor) -> torch.Tensor:
                with torch.no_grad():
                    return rep.to(wave.device).encode(wave)

    if not math.isfinite(sigma_data) or sigma_data <= 0:
        raise ValueError(f"{data}: the training data has no signal (std {sigma_data})")
    vocoder = None
    if preset.sampling.vocoder:  # a trained vocoder folder, to decode mel
        from cadenza.pipeline import load_vocoder

        vocoder = load_vocoder(preset.sampling.vocoder)
    return _Setup(preset, rep, dataset, facts, objective_name, objective_config, objective,
                  transform, sigma_data, vocoder)


def train(preset: Preset | Mapping[str, Any], data: str | Path, out: str | Path, *,
          progress: bool = True) -> Path:
    """Train ``preset`` (a ``Preset``, or its dict form) on ``data`` into ``out``; returns the
    exported pipeline (or vocoder) folder."""
    from cadenza.networks import network as build_network

    if not isinstance(preset, Preset):
        preset = Preset.from_dict(preset)
    data, out = Path(data), Path(out)
    setup = _setup(preset, data)
    config = preset.training
    torch.manual_seed(config.seed)  # the initial weights: a fresh run repeats step for step
    network = build_network(**preset.network)
    if config.init_from:  # a checkpoint of this run, if there is one, replaces these below
        start_from(network, Path(config.init_from))
    on_sample = None
    if setup.objective_name not in VOCODER_OBJECTIVES and config.sample_every:
        on_sample = _on_sample(setup.pipeline_for, out, preset.sampling.sample_seconds,
                               preset.sampling.steps)
    trainer = Trainer(network, setup.objective, setup.dataset, config, out,
                      transform=setup.transform, on_sample=on_sample,
                      describe={"preset": preset.to_dict(), "data": setup.facts},
                      progress=progress)
    write_json(out / "preset.json", preset.to_dict())
    trainer.train()
    if not trainer.accelerator.is_main_process:
        return out / "model"
    ema = trainer.ema_network().cpu()
    if setup.objective_name in VOCODER_OBJECTIVES:
        return _save_vocoder(getattr(ema, "generator", ema), setup.rep, out / "vocoder")
    return setup.pipeline_for(ema).save(out / "model")


def start_from(network: nn.Module, folder: Path) -> None:
    """``network`` (or a GAN's ``generator``) loaded with the weights of a vocoder folder
    (``vocoder.safetensors``) or a model folder (``network.safetensors``), or of a shipped
    model named as ``cadenza generate --model`` names it: fine-tuning."""
    from cadenza.checkpoint import load_tensors
    from cadenza.networks import VOCODERS
    from cadenza.pipeline import SHIPPED, model_folder

    if not folder.exists() and str(folder) in SHIPPED:
        folder = model_folder(str(folder))

    target = getattr(network, "generator", network)
    name = "vocoder.safetensors" if target.name in VOCODERS else "network.safetensors"
    if not (folder / name).exists():
        raise ValueError(f"training.init_from {folder}: no {name} there")
    try:
        target.load_state_dict(load_tensors(folder / name))
    except RuntimeError as error:
        raise ValueError(f"training.init_from {folder}: its weights do not fit this network "
                         f"({str(error).strip().splitlines()[0]})") from None


def export(run: str | Path, data: str | Path, out: str | Path) -> Path:
    """The EMA weights of a run's newest checkpoint as a model (or vocoder) folder ``out``,
    while the run goes on. ``data`` must be the run's: the representation's statistics are
    fitted again exactly as ``train`` fitted them (same seeded crops)."""
    from cadenza.checkpoint import latest_checkpoint, load_tensors, read_json
    from cadenza.networks import network as build_network

    run, out = Path(run), Path(out)
    if not (run / "preset.json").exists():
        raise ValueError(f"{run}: not a training run (no preset.json)")
    checkpoint = latest_checkpoint(run)
    if checkpoint is None:
        raise ValueError(f"{run}: no checkpoint yet")
    preset = Preset.from_dict(read_json(run / "preset.json"), source=str(run / "preset.json"))
    setup = _setup(preset, Path(data))
    network = build_network(**preset.network)
    network.load_state_dict(load_tensors(checkpoint / "ema.safetensors"))
    network.eval()
    if setup.objective_name in VOCODER_OBJECTIVES:
        return _save_vocoder(getattr(network, "generator", network), setup.rep, out)
    return setup.pipeline_for(network).save(out)


def _save_vocoder(vocoder: nn.Module, rep: Representation, folder: Path) -> Path:
    from cadenza.checkpoint import write_checkpoint_folder

    return write_checkpoint_folder(folder, {
        "vocoder.json": {"name": vocoder.name, **vocoder.config()},
        "vocoder.safetensors": vocoder.state_dict(),
        "representation.json": rep.config(),
        "representation.safetensors": rep.state_dict(),
    })

