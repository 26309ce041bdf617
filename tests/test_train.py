"""From a preset and real piano audio to a saved pipeline that generates, end to end."""

import json
import subprocess
import sys
from dataclasses import replace

import pytest
import torch

import cadenza
from cadenza.checkpoint import CheckpointError
from cadenza.data.piano import build_piano_corpus
from cadenza.presets import load_preset
from cadenza.train import train
from cadenza.trainer import read_log

TINY = [
    "representation.sample_rate=8000",
    "data.crop_seconds=0.25",
    "network.residual_layers=4",
    "network.residual_channels=16",
    "training.steps=150",
    "training.batch_size=4",
    "training.learning_rate=2e-3",
    "training.warmup_steps=10",
    "training.checkpoint_every=0",
    "training.sample_every=0",
    "training.log_every=10",
    "sampling.steps=8",
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    build_piano_corpus(root / "corpus", 0.3, renderer="synth", progress=False)
    return root / "corpus" / "train"


@pytest.fixture(scope="module")
def trained(corpus):
    """The tiny DiffWave preset (EDM) shrunk further, 150 steps on a rendered Bach prelude
    (about 20 s on CPU)."""
    run = corpus.parent.parent / "run"
    model = train(load_preset("tiny-diffwave-piano", TINY), corpus, run, progress=False)
    return run, model


def test_a_tiny_diffwave_drives_its_loss_far_below_the_start(corpus, tmp_path):
    """With the seed's DDPM objective, whose eps loss starts at the noise's variance."""
    preset = load_preset("tiny-diffwave-piano", TINY)
    preset = replace(preset, representation={**preset.representation, "scale": 1.0},
                     objective={"name": "ddpm", "betas": "linear", "timesteps": 200})
    train(preset, corpus, tmp_path, progress=False)
    losses = [row["loss"] for row in read_log(tmp_path)]
    first, last = sum(losses[:10]) / 10, sum(losses[-10:]) / 10
    assert first > 0.9
    assert last < 0.4 * first, (first, last)  # measured 0.99 -> 0.19


def test_the_edm_preset_learns_too(trained):
    """EDM's weighted loss also starts near 1 (sigma_data meets the scaled waveform's RMS) but
    keeps an irreducible part at every noise level, so it falls less far in 150 steps."""
    run, _ = trained
    losses = [row["loss"] for row in read_log(run)]
    first, last = sum(losses[:10]) / 10, sum(losses[-10:]) / 10
    assert 0.8 < first < 1.3
    assert last < 0.8 * first, (first, last)  # measured 1.02 -> 0.73


def test_the_exported_pipeline_loads_and_generates_reproducibly(trained):
    _, model = trained
    pipeline = cadenza.load(model)
    assert pipeline.sample_rate == 8000 and pipeline.defaults.steps == 8
    assert -40 < pipeline.loudness < -5  # its recordings' median: what generate aims at
    first = cadenza.generate(pipeline, 0.5, 2, seed=3)
    assert first.shape == (2, 1, 4000) and torch.isfinite(first).all()
    assert torch.equal(first, cadenza.generate(pipeline, 0.5, 2, seed=3))
    assert not torch.equal(first, cadenza.generate(pipeline, 0.5, 2, seed=4))


def test_generate_cli_writes_wavs_and_a_record(trained, tmp_path):
    _, model = trained
    result = subprocess.run(
        [sys.executable, "-c", "from cadenza.cli import main; main()", "generate", "--model",
         str(model), "--seconds", "0.5", "--batch", "2", "--steps", "4", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    record = json.loads((tmp_path / "generate.json").read_text())
    assert record["plan"]["steps"] == 4 and len(record["files"]) == 2
    assert all((tmp_path / f"clip-0-{i}.wav").exists() for i in range(2))


def test_damaged_or_wrong_model_folders_are_clear_errors(trained, tmp_path):
    _, model = trained
    with pytest.raises(CheckpointError, match="no such model folder, nor a shipped model"):
        cadenza.load(tmp_path / "nothing-here")
    broken = tmp_path / "broken"
    broken.mkdir()
    for item in model.iterdir():
        (broken / item.name).write_bytes(item.read_bytes())
    weights = broken / "network.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=r"network\.safetensors: damaged"):
        cadenza.load(broken)
    (broken / "pipeline.json").write_text("{}")
    with pytest.raises(CheckpointError, match="not a cadenza pipeline"):
        cadenza.load(broken)


def test_the_vocoder_preset_learns_and_loads_back(corpus, tmp_path):
    from cadenza.pipeline import load_vocoder

    preset = load_preset("tiny-vocoder", [
        "representation.sample_rate=8000", "data.crop_seconds=0.5", "training.steps=60",
        "training.batch_size=4", "training.warmup_steps=5", "training.checkpoint_every=0",
        "training.log_every=10",
    ])
    folder = train(preset, corpus, tmp_path / "vocoder", progress=False)
    losses = [row["loss"] for row in read_log(tmp_path / "vocoder")]
    assert sum(losses[-5:]) < 0.75 * sum(losses[:5])  # measured 4.16 -> 2.40
    vocoder = load_vocoder(folder)
    mel = torch.zeros(1, 1, 64, 10)  # the tiny preset's 64 mel bins
    assert vocoder(mel).shape == (1, 1, 513, 10)


def test_the_vocos_preset_learns_and_decodes_a_mel_pipeline(corpus, tmp_path):
    from cadenza.pipeline import Pipeline, load_vocoder

    preset = load_preset("tiny-vocos", [
        "representation.sample_rate=8000", "data.crop_seconds=0.5", "training.steps=60",
        "training.batch_size=4", "training.warmup_steps=5", "training.checkpoint_every=0",
        "training.log_every=10", "training.learning_rate=3e-3", "network.width=32",
        "network.hidden=64", "network.layers=2",
    ])
    folder = train(preset, corpus, tmp_path / "vocos", progress=False)
    losses = [row["loss"] for row in read_log(tmp_path / "vocos")]
    assert losses[-1] < 0.85 * losses[0]  # measured 5.30 -> 4.17
    vocos = load_vocoder(folder)
    from cadenza.representations import representation

    mel = representation(**preset.representation)
    wave = torch.randn(1, 1, 4000) * 0.1
    mel.fit([wave])
    pipeline = Pipeline(mel, torch.nn.Identity(), "edm", {}, 1.0, vocoder=vocos)
    decoded = pipeline.decode(mel.encode(wave), samples=4000)
    assert decoded.shape == (1, 1, 4000) and torch.isfinite(decoded).all()


GAN = ["representation.sample_rate=8000", "data.crop_seconds=0.5", "training.steps=2",
       "training.batch_size=2", "training.warmup_steps=1", "training.checkpoint_every=0",
       "training.log_every=1", "network.width=32", "network.hidden=64", "network.layers=2",
       "network.discriminator_width=2"]


def test_each_half_of_a_gan_moves_only_by_its_own_loss():
    """One optimizer steps the Vocos and its discriminators, so each term of the summed loss
    must reach only its own half: the discriminators' gradient is their loss's alone, the
    generator's is the reconstruction, adversarial and feature terms' alone."""
    from cadenza.networks import network
    from cadenza.representations import representation
    from cadenza.train import VocosGANObjective

    preset = load_preset("tiny-vocos-gan", GAN)
    torch.manual_seed(0)
    gan = network(**preset.network)
    objective = VocosGANObjective(representation(**preset.representation))
    wave = 0.1 * torch.randn(2, 1, 4000)
    parts = objective.parts(gan, wave)
    total = (objective.RECONSTRUCTION_WEIGHT * parts["reconstruction"] + parts["adversarial"]
             + objective.FEATURE_WEIGHT * parts["features"] + parts["discriminator"])
    generator_terms = total - parts["discriminator"]
    judges, vocos = list(gan.discriminators.parameters()), list(gan.generator.parameters())
    for params, alone in ((judges, parts["discriminator"]), (vocos, generator_terms)):
        together = torch.autograd.grad(total, params, retain_graph=True, allow_unused=True)
        own = torch.autograd.grad(alone, params, retain_graph=True, allow_unused=True)
        for a, b in zip(together, own, strict=True):
            assert (a is None and b is None) or torch.allclose(a, b, atol=1e-6)
    for params, alone in ((judges, parts["discriminator"]), (vocos, generator_terms)):
        assert sum(float(g.abs().sum()) for g in torch.autograd.grad(
            alone, params, retain_graph=True)) > 0  # and each half does learn


def test_a_gan_fine_tune_starts_from_the_given_vocoder_and_exports_a_plain_vocos(
        corpus, tmp_path):
    from cadenza.checkpoint import load_tensors
    from cadenza.networks import network
    from cadenza.pipeline import load_vocoder
    from cadenza.representations import representation
    from cadenza.train import _save_vocoder

    preset = load_preset("tiny-vocos-gan", GAN)
    config = {key: value for key, value in preset.network.items()
              if key not in ("name", "discriminator_width")}
    torch.manual_seed(123)  # weights no fresh run of the preset would draw
    start = network("vocos", **config)
    _save_vocoder(start, representation(**preset.representation), tmp_path / "start")
    preset = load_preset("tiny-vocos-gan", [*GAN, "training.learning_rate=1e-9",
                                            f"training.init_from={tmp_path / 'start'}"])
    folder = train(preset, corpus, tmp_path / "gan", progress=False)
    vocos = load_vocoder(folder)
    saved = load_tensors(folder / "vocoder.safetensors")
    assert vocos.name == "vocos" and not any("discriminators" in key for key in saved)
    for key, value in start.state_dict().items():
        assert torch.allclose(vocos.state_dict()[key], value, atol=1e-5), key
    with pytest.raises(ValueError, match=r"no vocoder\.safetensors"):
        train(load_preset("tiny-vocos-gan", [*GAN, f"training.init_from={tmp_path}"]), corpus,
              tmp_path / "wrong", progress=False)


def test_export_rebuilds_the_model_a_run_exports_from_its_checkpoint(corpus, tmp_path):
    """``cadenza export`` while a run goes on: the same weights and mel statistics as the
    folder the finished run writes."""
    from cadenza.train import export

    preset = load_preset("tiny-msanii-mel", [
        "representation.sample_rate=8000", "data.crop_seconds=0.5", "training.steps=4",
        "training.batch_size=2", "training.warmup_steps=1", "training.checkpoint_every=4",
        "training.sample_every=0", "network.width=16", "network.attention_levels=[]",
    ])
    model = train(preset, corpus, tmp_path / "run", progress=False)
    exported = export(tmp_path / "run", corpus, tmp_path / "exported")
    a, b = cadenza.load(model), cadenza.load(exported)
    assert a.sigma_data == b.sigma_data
    assert all(torch.equal(x, y) for x, y in zip(a.representation.state_dict().values(),
                                                  b.representation.state_dict().values(),
                                                  strict=True))
    assert all(torch.equal(x, y) for x, y in zip(a.network.state_dict().values(),
                                                  b.network.state_dict().values(), strict=True))
    with pytest.raises(ValueError, match="not a training run"):
        export(tmp_path, corpus, tmp_path / "x")


def test_two_fresh_runs_of_one_command_are_identical(corpus, tmp_path):
    preset = load_preset("tiny-diffwave-piano", [*TINY, "training.steps=20"])
    runs = [tmp_path / "a", tmp_path / "b"]
    torch.manual_seed(1)  # whatever the caller's global state, the preset's seed decides
    first = train(preset, corpus, runs[0], progress=False)
    torch.manual_seed(2)
    second = train(preset, corpus, runs[1], progress=False)
    assert [row["loss"] for row in read_log(runs[0])] == [row["loss"] for row in read_log(runs[1])]
    a, b = cadenza.load(first).network.state_dict(), cadenza.load(second).network.state_dict()
    assert all(torch.equal(a[name], b[name]) for name in a)
