"""From a preset and a folder of audio (or a prepared cache) to a trained pipeline.

``train(preset, data, out)`` builds the representation, network and objective the preset names,
feeds the ``Trainer`` with random crops of the recordings (encoded on the device) or with the
chunks of a ``cadenza data prepare`` cache, writes periodic audio samples, and exports the EMA
weights as a pipeline folder ``out/model`` that ``cadenza.load`` reads.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cadenza.atomic import write_json
from cadenza.data import audio
from cadenza.data.dataset import Manifest, RandomCrops, scan, split
from cadenza.objectives import objective as build_objective
from cadenza.pipeline import Pipeline
from cadenza.representations import Representation
from cadenza.representations import representation as build_representation
from cadenza.trainer import TrainConfig, Trainer


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
        rep = self.representation.to(wave.device)
        with torch.no_grad():
            target_log_mel = rep.log_mel(wave)
        predicted = network(target_log_mel, samples=wave.shape[-1])
        batch = wave.reshape(-1, 1, wave.shape[-1])
        stft = self.stft_loss.to(wave.device)(predicted.reshape_as(batch), batch)
        return stft + (rep.log_mel(predicted) - target_log_mel).abs().mean()


VOCODER_OBJECTIVES = {"vocoder": VocoderObjective, "vocos": VocosObjective}
"""Objectives that train a vocoder (mel -> audio) rather than a diffusion model."""


def _dataset(preset: dict, data: Path, rep: Representation):
    """(dataset, representation, facts): a cache's chunks, or random crops of recordings."""
    settings = preset["data"]
    if (data / "plan.json").exists():
        from cadenza.data.prepare import CachedChunks

        chunks = CachedChunks(data)
        if chunks.representation.config() != rep.config():
            raise ValueError(f"{data}: cache made with {chunks.representation.config()}, "
                             f"but the preset wants {rep.config()}")
        return chunks, chunks.representation, {"cache": str(data)}
    manifest_path = data / "manifest.json"
    manifest = Manifest.load(manifest_path) if manifest_path.exists() else scan(
        data, min_seconds=settings.get("min_seconds", 1.0)
    )
    if manifest.skipped:
        print(manifest.report())
    train_entries, validation = split(manifest, settings.get("validation_fraction", 0.1),
                                      seed=preset["training"].get("seed", 0))
    if not train_entries:
        raise ValueError(f"{data}: no usable recordings to train on")
    training = preset["training"]
    crops = RandomCrops(
        manifest,
        train_entries,
        seconds=settings["crop_seconds"],
        sample_rate=rep.sample_rate,
        channels=settings.get("channels", 1),
        length=training["steps"] * training["batch_size"] * training.get("grad_accumulation", 1)
        * 1024,  # positional: every example a fresh crop; generous for many processes
        seed=training.get("seed", 0),
    )
    facts = {"recordings": len(train_entries), "validation_recordings": len(validation),
             "hours": sum(e.seconds for e in train_entries) / 3600}
    return crops, rep, facts


def _fit_and_measure(rep: Representation, dataset, count: int = 64) -> float:
    """Fit the representation's statistics on the first examples; return the data's std."""
    examples = torch.stack([dataset[i] for i in range(min(count, len(dataset)))])
    if hasattr(rep, "fit") and not rep.fitted:
        rep.fit([examples[i : i + 8] for i in range(0, len(examples), 8)])
    with torch.no_grad():
        return float(rep.encode(examples).float().std())


def _on_sample(pipeline_for, out: Path, seconds: float, steps: int):
    def write_sample(ema_network: nn.Module, step: int) -> None:
        pipeline = pipeline_for(ema_network)
        wave = pipeline.generate(seconds, 1, seed=0, steps=steps)
        audio.write(out / "samples" / f"step-{step:07d}.wav", wave[0].numpy(),
                    pipeline.sample_rate)

    return write_sample


def train(preset: dict[str, Any], data: str | Path, out: str | Path, *, progress: bool = True):
    """Train ``preset`` on ``data`` into ``out``; returns the exported pipeline folder."""
    from cadenza.networks import network as build_network

    data, out = Path(data), Path(out)
    rep = build_representation(**preset["representation"])
    dataset, rep, facts = _dataset(preset, data, rep)
    is_cache = "cache" in facts
    objective_config = dict(preset["objective"])
    objective_name = objective_config.pop("name")
    network = build_network(**preset["network"])
    if objective_name in VOCODER_OBJECTIVES:
        objective, transform, sigma_data = VOCODER_OBJECTIVES[objective_name](rep), None, 1.0
        if hasattr(rep, "fit") and not rep.fitted:
            _fit_and_measure(rep, dataset)
    else:
        objective = build_objective(objective_name, **objective_config)
        if is_cache:
            sample_count = min(64, len(dataset))
            sigma_data = float(torch.stack([dataset[i] for i in range(sample_count)]).std())
            transform = None
        else:
            sigma_data = _fit_and_measure(rep, dataset)

            def transform(wave: torch.Tensor) -> torch.Tensor:
                with torch.no_grad():
                    return rep.to(wave.device).encode(wave)

    if not math.isfinite(sigma_data) or sigma_data <= 0:
        raise ValueError(f"{data}: the training data has no signal (std {sigma_data})")
    config = TrainConfig.from_dict(preset["training"])
    sampling = preset["sampling"]
    channels = preset["data"].get("channels", 1)

    vocoder = None
    if sampling.get("vocoder"):  # a trained vocoder folder, used to decode mel at generation
        from cadenza.pipeline import load_vocoder

        vocoder = load_vocoder(sampling["vocoder"])

    def pipeline_for(net: nn.Module) -> Pipeline:
        return Pipeline(rep, net, objective_name, objective_config, sigma_data,
                        sampler=sampling.get("sampler", "deis"), steps=sampling.get("steps", 10),
                        schedule_kind=sampling.get("schedule", "tuned"), vocoder=vocoder,
                        describe={"preset": preset, "channels": channels, "data": facts})

    on_sample = None
    if objective_name not in VOCODER_OBJECTIVES and config.sample_every:
        on_sample = _on_sample(pipeline_for, out, sampling.get("sample_seconds", 2.0),
                               sampling.get("steps", 10))
    trainer = Trainer(network, objective, dataset, config, out, transform=transform,
                      on_sample=on_sample, describe={"preset": preset, "data": facts},
                      progress=progress)
    write_json(out / "preset.json", preset)
    trainer.train()
    if not trainer.accelerator.is_main_process:
        return out / "model"
    ema = trainer.ema_network().cpu()
    if objective_name in VOCODER_OBJECTIVES:
        return _save_vocoder(ema, rep, out / "vocoder")
    return pipeline_for(ema).save(out / "model")


def _save_vocoder(vocoder: nn.Module, rep: Representation, folder: Path) -> Path:
    from cadenza.checkpoint import write_checkpoint_folder

    return write_checkpoint_folder(folder, {
        "vocoder.json": {"name": vocoder.name, **vocoder.config()},
        "vocoder.safetensors": vocoder.state_dict(),
        "representation.json": rep.config(),
        "representation.safetensors": rep.state_dict(),
    })

