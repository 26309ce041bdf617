"""Progressive distillation (seed 001): the target, one round, exact resume, the student folder."""

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import cadenza
from cadenza.distill import DistillationLoss, distill, distillation_target
from cadenza.networks import network
from cadenza.objectives import objective
from cadenza.oracle import GaussianOracle
from cadenza.pipeline import Pipeline
from cadenza.plan import EDIT_STRATEGY, Plan
from cadenza.representations import representation
from cadenza.sampling import sample
from cadenza.schedules import cosine_grid, schedule
from cadenza.trainer import TrainConfig, Trainer, read_log

SIGMA_DATA = 0.5
TINY_DIFFWAVE = {"residual_layers": 4, "residual_channels": 16, "dilation_cycle": 4}


def oracle_data(count: int = 512) -> torch.Tensor:
    oracle = GaussianOracle.from_spectrum("piano", 64, sigma_data=SIGMA_DATA)
    return oracle.sample(count, 1, generator=torch.Generator().manual_seed(1))


def save_pipeline(net, objective_name: str, folder: Path, edit_strategy: str = EDIT_STRATEGY,
                  **options) -> Path:
    # As `cadenza train` would describe it: 64-sample crops of mono recordings at 8 kHz.
    describe = {"preset": {"data": {"crop_seconds": 64 / 8000, "channels": 1}}}
    return Pipeline(representation("waveform", sample_rate=8000), net, objective_name, options,
                    SIGMA_DATA, defaults=Plan("ddim", 8, "cosine_grid"), describe=describe,
                    edit_strategy=edit_strategy).save(folder)


@pytest.fixture(scope="module")
def teacher(tmp_path_factory) -> Path:
    """A tiny DiffWave trained with seed 001's objective (vcosine, v-prediction) on oracle
    samples for 150 steps (about 5 s)."""
    root = tmp_path_factory.mktemp("teacher")
    torch.manual_seed(0)
    config = TrainConfig(steps=150, batch_size=16, learning_rate=3e-3, warmup_steps=20,
                         checkpoint_every=0, log_every=50, ema_decay=0.99)
    trainer = Trainer(network("diffwave", **TINY_DIFFWAVE), objective("vcosine"), oracle_data(),
                      config, root / "run", progress=False)
    trainer.train()
    # As if its editing strategy had been measured on it: its students' has not.
    return save_pipeline(trainer.ema_network(), "vcosine", root / "model",
                         edit_strategy="repaint")


@pytest.fixture(scope="module")
def distilled(teacher, tmp_path_factory) -> Path:
    """One round, 8 teacher steps -> 4 student steps, 100 optimizer steps (about 5 s)."""
    out = tmp_path_factory.mktemp("distilled")
    distill(teacher, out, rounds=1, start_steps=8, steps_per_round=100, dataset=oracle_data(),
            batch_size=16, learning_rate=1e-3, progress=False,
            training={"checkpoint_every": 0, "log_every": 50, "ema_decay": 0.99})
    return out


# ---------------------------------------------------------------------------- the target


@pytest.mark.parametrize("levels", [(2.0, 1.1, 0.5), (80.0, 3.0, 0.2), (0.3, 0.1, 0.0)])
def test_one_ddim_step_to_the_target_lands_on_the_teachers_two_steps(levels):
    """With the exact denoiser, x~ turns one DDIM step into the teacher's two, to float64
    precision, including the last step (sigma'' = 0, where x~ is the teacher's result)."""
    sigma, sigma_mid, sigma_next = levels
    oracle = GaussianOracle.from_spectrum("piano", 128, sigma_data=SIGMA_DATA)
    generator = torch.Generator().manual_seed(0)
    x0 = oracle.sample(16, 1, generator=generator, dtype=torch.float64)
    x = x0 + sigma * torch.randn(x0.shape, generator=generator, dtype=torch.float64)
    sigmas = torch.tensor([sigma, sigma_mid, sigma_next], dtype=torch.float64)
    two_steps = sample(oracle.denoise, x, sigmas, "ddim")
    target = distillation_target(oracle.denoise, x, torch.tensor(sigma, dtype=torch.float64),
                                 torch.tensor(sigma_mid, dtype=torch.float64),
                                 torch.tensor(sigma_next, dtype=torch.float64))
    one_step = target + sigma_next / sigma * (x - target)
    scale = float(two_steps.abs().max())
    assert float((one_step - two_steps).abs().max()) < 1e-13 * scale
    # The seed's form (x'' - r x) / (1 - r), r = sigma''/sigma, is the same number.
    r = sigma_next / sigma
    assert torch.allclose(target, (two_steps - r * x) / (1 - r), rtol=0, atol=1e-11 * scale)
    if sigma_next == 0:
        assert torch.allclose(target, two_steps, rtol=0, atol=1e-14 * scale)


def test_the_loss_draws_steps_on_nested_cosine_grids():
    loss = DistillationLoss(torch.nn.Identity(), objective("vcosine"), 4)
    low, high = objective("vcosine").sigma_range
    assert torch.equal(loss.student_sigmas, schedule("cosine_grid", 4, sigma_min=low,
                                                     sigma_max=high))
    assert float(loss.student_sigmas[0]) == high
    assert bool((loss.student_sigmas[:-1] >= low).all())
    assert torch.equal(cosine_grid(8, low, high)[::2], loss.student_sigmas)
    sigma, mid, following = loss.levels(torch.arange(1, 5))  # steps 1 (last) .. 4 (first)
    assert following[0] == 0 and sigma[-1] == high and torch.equal(sigma[:-1], following[1:])
    t_sigma, t_mid, t_following = (2 / math.pi * torch.atan(s) for s in (sigma, mid, following))
    assert torch.allclose(t_mid[1:], (t_sigma[1:] + t_following[1:]) / 2, rtol=0, atol=1e-12)


# ------------------------------------------------------------------------------ a round


def test_a_round_halves_the_steps_and_the_student_does_in_one_what_the_teacher_does_in_two(
        teacher, distilled):
    teacher_pipeline, student = cadenza.load(teacher), cadenza.load(distilled / "model")
    steps = student.defaults.steps
    assert steps == 4
    teacher_d, student_d = teacher_pipeline.denoiser(), student.denoiser()
    loss = DistillationLoss(teacher_pipeline.network, teacher_pipeline.objective, steps)
    generator = torch.Generator().manual_seed(5)
    x0 = oracle_data(768)[512:]  # examples the round never saw
    copy_error = student_error = 0.0
    with torch.no_grad():
        for i in range(1, steps + 1):  # every step, from noised data
            levels = loss.levels(torch.tensor([i]))
            x = x0 + levels[0].float() * torch.randn(x0.shape, generator=generator)
            two = sample(teacher_d, x, torch.cat(levels), "ddim")
            one_step = torch.cat([levels[0], levels[2]])
            copy_error += float((sample(teacher_d, x, one_step, "ddim") - two).pow(2).mean())
            student_error += float((sample(student_d, x, one_step, "ddim") - two).pow(2).mean())
        # Whole trajectories from the same noise: 4 student steps against 8 teacher steps.
        noise = torch.randn(256, 1, 64, generator=generator)
        sigmas = student.sigmas()
        start = noise * math.sqrt(float(sigmas[0]) ** 2 + SIGMA_DATA**2)
        teacher_sigmas = teacher_pipeline.sigmas(teacher_pipeline.plan(steps=2 * steps))
        reference = sample(teacher_d, start, teacher_sigmas, "ddim")
        copy_chain = float((sample(teacher_d, start, sigmas, "ddim") - reference).pow(2).mean())
        student_chain = float((sample(student_d, start, sigmas, "ddim") - reference)
                              .pow(2).mean())
    # Measured (MSE against the teacher's two steps, summed over the 4 steps): the copy 9.3e-3,
    # the student 7.8e-4, 12x better; whole chains (4 vs 8 steps) 7.3e-3 vs 1.7e-4, 42x.
    assert student_error < copy_error / 5, (copy_error, student_error)
    assert student_chain < copy_chain / 10, (copy_chain, student_chain)


def test_the_student_folder_loads_and_samples_with_half_the_steps_by_default(teacher, distilled):
    student = cadenza.load(distilled / "model")
    assert student.defaults == Plan("ddim", 4, "cosine_grid")
    assert cadenza.load(teacher).edit_strategy == "repaint"
    assert student.edit_strategy == EDIT_STRATEGY  # chosen on the teacher, not on the student
    low, high = objective("vcosine").sigma_range
    assert torch.equal(student.sigmas(), cosine_grid(4, low, high))
    assert torch.equal(cadenza.load(teacher).sigmas()[::2], student.sigmas())
    assert student.describe["distillation"][0]["teacher_steps"] == 8
    round_model = cadenza.load(distilled / "round-1" / "model")
    assert torch.equal(round_model.network.layers[0].dilated_conv.weight,
                       student.network.layers[0].dilated_conv.weight)
    audio = cadenza.generate(student, 64 / 8000, 2, seed=1)
    assert audio.shape == (2, 1, 64) and torch.isfinite(audio).all()
    record = json.loads((distilled / "distill.json").read_text())
    assert [entry["steps"] for entry in record["rounds"]] == [4]
    with pytest.raises(ValueError, match=r"other settings \(learning_rate"):
        distill(teacher, distilled, rounds=1, start_steps=8, steps_per_round=100,
                dataset=oracle_data(), batch_size=16, learning_rate=5e-4, progress=False,
                training={"checkpoint_every": 0, "log_every": 50, "ema_decay": 0.99})


def test_an_eps_teacher_is_distilled_from_the_top_of_its_own_schedule(tmp_path):
    """A ddpm (eps) teacher's x0 estimate is useless at the top of its table (sigma 2e4 with
    cosine betas): the grid starts where the teacher's own default schedule does."""
    torch.manual_seed(0)
    teacher = Pipeline(representation("waveform", sample_rate=8000),
                       network("diffwave", **TINY_DIFFWAVE), "ddpm", {"betas": "cosine"},
                       SIGMA_DATA, defaults=Plan("deis", 10)).save(tmp_path / "teacher")
    model = distill(teacher, tmp_path / "out", rounds=2, start_steps=8, steps_per_round=2,
                    dataset=oracle_data(32), batch_size=4, progress=False,
                    training={"checkpoint_every": 0})
    student = cadenza.load(model)
    top = float(cadenza.load(teacher).sigmas()[0])
    low, high = objective("ddpm", betas="cosine").sigma_range
    assert top < high / 100
    assert student.defaults.steps == 2 and student.sigma_range == (low, top)
    assert torch.equal(student.sigmas(), cosine_grid(2, low, top))
    assert cadenza.load(tmp_path / "out" / "round-1" / "model").defaults.steps == 4


# ------------------------------------------------------------------- exact resume, the CLI

SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, torch
    sys.path.insert(0, sys.argv[3])
    from test_distill import resume_run

    def kill(trainer):  # a crash at step 12 of round 1, its log written
        if trainer.step == 12:
            trainer.flush_log()
            os.kill(os.getpid(), signal.SIGKILL)

    torch.set_num_threads(1)
    resume_run(sys.argv[1], sys.argv[2], callbacks=[kill])
    """
)


def resume_run(teacher: Path, out: Path, callbacks=()) -> Path:
    return distill(teacher, out, rounds=2, start_steps=8, steps_per_round=16,
                   dataset=oracle_data(256), batch_size=8, learning_rate=1e-3, progress=False,
                   training={"checkpoint_every": 5, "log_every": 1}, callbacks=callbacks)


def test_a_killed_round_resumes_to_the_same_losses_step_for_step(teacher, tmp_path):
    """SIGKILL at step 12 of round 1 (checkpoint at 10, log at 12); the re-run finishes round 1
    and runs round 2, both exactly as an unbroken run does."""
    unbroken, broken = tmp_path / "unbroken", tmp_path / "broken"
    resume_run(teacher, unbroken)
    script = tmp_path / "distill_small.py"
    script.write_text(SCRIPT)
    killed = subprocess.run(
        [sys.executable, str(script), str(teacher), str(broken), str(Path(__file__).parent)],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert read_log(broken / "round-1")[-1]["step"] == 12
    assert not (broken / "round-2").exists()
    resume_run(teacher, broken)
    for name in ("round-1", "round-2"):
        expected = [(row["step"], row["loss"]) for row in read_log(unbroken / name)]
        assert len(expected) == 16
        assert [(row["step"], row["loss"]) for row in read_log(broken / name)] == expected
    assert cadenza.load(broken / "model").defaults.steps == 2
    weights = (broken / "model" / "network.safetensors").read_bytes()
    assert weights == (unbroken / "model" / "network.safetensors").read_bytes()


def cli(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    from cadenza.cli import main

    monkeypatch.setattr(sys, "argv", ["cadenza", *args])
    try:
        main()
        code = 0
    except SystemExit as stop:
        code = stop.code or 0
    return code, capsys.readouterr().err


def test_the_cli_distills_from_a_folder_of_recordings(teacher, tmp_path, monkeypatch, capsys):
    from cadenza.data import audio

    clips = oracle_data(390)
    for index in range(3):  # 1.04 s of oracle "audio" per recording, at the teacher's 8 kHz
        wave = clips[index * 130:(index + 1) * 130].reshape(1, -1)
        audio.write(tmp_path / "data" / f"take-{index}.wav", 0.5 * wave.numpy(), 8000)
    code, err = cli(monkeypatch, capsys, "distill", str(teacher), "--rounds", "1",
                    "--start-steps", "4", "--steps-per-round", "3", "--batch-size", "4",
                    "--data", str(tmp_path / "data"), "--out", str(tmp_path / "out"),
                    "--set", "training.checkpoint_every=0")
    assert code == 0, err
    student = cadenza.load(tmp_path / "out" / "model")
    assert student.defaults.steps == 2 and len(read_log(tmp_path / "out" / "round-1")) == 3


def test_the_cli_refuses_a_teacher_it_cannot_distill(teacher, tmp_path, monkeypatch, capsys):
    foreign = tmp_path / "foreign"
    shutil.copytree(teacher, foreign)
    meta = json.loads((foreign / "pipeline.json").read_text())
    meta["objective"] = {"name": "flow_matching"}
    (foreign / "pipeline.json").write_text(json.dumps(meta))
    code, err = cli(monkeypatch, capsys, "distill", str(foreign), "--rounds", "1", "--out",
                    str(tmp_path / "out"), "--data", str(tmp_path))
    assert code == 2
    assert "'flow_matching'" in err and "accepts ddpm, vcosine, edm" in err
