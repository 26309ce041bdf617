"""The training engine: learning, exact resume after a kill, NaN guard, two processes."""

import math
import shutil
import signal
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from torch import nn

from cadenza.checkpoint import CheckpointError, ResumeWarning, latest_checkpoint
from cadenza.objectives import objective
from cadenza.oracle import GaussianOracle
from cadenza.trainer import TrainConfig, Trainer, TrainingError, read_log

# A training script the tests run in subprocesses (plain python or accelerate launch). With a
# fourth argument it signals itself (SIGKILL, or the fifth argument) at the end of that step,
# the log written: a crash or a scheduler's stop mid-training.
SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, torch
    from torch import nn
    from cadenza.objectives import objective
    from cadenza.oracle import GaussianOracle
    from cadenza.trainer import Trainer, TrainConfig

    class SmallConv(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.Sequential(nn.Conv1d(2, 32, 5, padding=2), nn.SiLU(),
                                        nn.Conv1d(32, 32, 5, padding=2), nn.SiLU(),
                                        nn.Conv1d(32, 1, 5, padding=2))

        def forward(self, x, c_noise):
            level = c_noise.reshape(-1, 1, 1).expand_as(x).to(x.dtype)
            return self.layers(torch.cat([x, level], 1))

    torch.set_num_threads(1)
    torch.manual_seed(0)
    oracle = GaussianOracle.from_spectrum("piano", 64)
    data = oracle.sample(256, 1, generator=torch.Generator().manual_seed(1))
    config = TrainConfig(steps=int(sys.argv[2]), batch_size=8, learning_rate=3e-3,
                         warmup_steps=5, checkpoint_every=int(sys.argv[3]), log_every=1,
                         ema_decay=0.99)
    kill_at = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    kill_with = getattr(signal, "SIG" + (sys.argv[5] if len(sys.argv) > 5 else "KILL"))

    def kill(trainer):
        if trainer.step == kill_at:
            trainer.flush_log()
            os.kill(os.getpid(), kill_with)

    Trainer(SmallConv(), objective("edm", sigma_data=1.0), data, config, sys.argv[1],
            progress=False, callbacks=[kill]).train()
    """
)


@pytest.fixture(scope="module")
def script(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("script") / "train_small.py"
    path.write_text(SCRIPT)
    return path


def run(script: Path, run_dir: Path, steps: int, every: int,
        *kill: str) -> subprocess.CompletedProcess:
    """Run the script; ``kill`` is (step,) or (step, signal name) to stop it there."""
    return subprocess.run(
        [sys.executable, str(script), str(run_dir), str(steps), str(every), *kill],
        capture_output=True, text=True, timeout=600,
    )


class SmallConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv1d(2, 32, 5, padding=2), nn.SiLU(), nn.Conv1d(32, 1, 5, padding=2)
        )

    def forward(self, x, c_noise):
        level = c_noise.reshape(-1, 1, 1).expand_as(x).to(x.dtype)
        return self.layers(torch.cat([x, level], 1))


def oracle_data(count: int = 256) -> torch.Tensor:
    oracle = GaussianOracle.from_spectrum("piano", 64)
    return oracle.sample(count, 1, generator=torch.Generator().manual_seed(1))


def test_a_small_network_learns_and_the_run_is_checkpointed(tmp_path):
    torch.manual_seed(0)
    config = TrainConfig(steps=150, batch_size=16, learning_rate=3e-3, warmup_steps=10,
                         checkpoint_every=25, log_every=10, keep_checkpoints=3)
    trainer = Trainer(SmallConv(), objective("ddpm"), oracle_data(), config, tmp_path,
                      progress=False)
    trainer.train()
    losses = [row["loss"] for row in read_log(tmp_path)]
    assert len(losses) == 150
    first, last = sum(losses[:10]) / 10, sum(losses[-10:]) / 10
    assert last < 0.5 * first, (first, last)  # eps-prediction loss starts near 1
    assert latest_checkpoint(tmp_path).name == "step-0000150"
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == [
        "latest", "step-0000100", "step-0000125", "step-0000150"  # the three newest of six
    ]


def test_a_killed_run_resumes_to_the_same_losses_step_for_step(tmp_path, script):
    """SIGKILL at step 25: the last checkpoint is step 20 and the log already holds steps
    21-25, which the resumed run must drop and redo identically."""
    unbroken = tmp_path / "unbroken"
    assert run(script, unbroken, 40, 10).returncode == 0
    broken = tmp_path / "broken"
    killed = run(script, broken, 40, 10, "25")
    assert killed.returncode == -signal.SIGKILL
    assert latest_checkpoint(broken).name == "step-0000020"
    assert read_log(broken)[-1]["step"] == 25
    resumed = run(script, broken, 40, 10)
    assert resumed.returncode == 0, resumed.stderr
    expected = [(row["step"], row["loss"]) for row in read_log(unbroken)]
    assert [(row["step"], row["loss"]) for row in read_log(broken)] == expected
    assert len(expected) == 40


def test_sigterm_checkpoints_where_it_stops_and_the_run_resumes_exactly(tmp_path, script):
    """A scheduler's SIGTERM at step 25 saves step 25 (not just the step-20 checkpoint)."""
    unbroken = tmp_path / "unbroken"
    assert run(script, unbroken, 30, 10).returncode == 0
    broken = tmp_path / "broken"
    stopped = run(script, broken, 30, 10, "25", "TERM")
    assert stopped.returncode != 0 and "KeyboardInterrupt" in stopped.stderr
    assert latest_checkpoint(broken).name == "step-0000025"
    assert run(script, broken, 30, 10).returncode == 0
    expected = [(row["step"], row["loss"]) for row in read_log(unbroken)]
    assert [(row["step"], row["loss"]) for row in read_log(broken)] == expected


def test_callbacks_see_every_step_and_can_stop_the_run(tmp_path):
    seen = []

    def stop_at_three(trainer: Trainer) -> None:
        seen.append(trainer.step)
        if trainer.step == 3:
            raise RuntimeError("stopped by a callback")

    config = TrainConfig(steps=10, batch_size=4, checkpoint_every=2, log_every=10)
    trainer = Trainer(SmallConv(), objective("ddpm"), oracle_data(), config, tmp_path,
                      progress=False, callbacks=[stop_at_three])
    with pytest.raises(RuntimeError, match="stopped by a callback"):
        trainer.train()
    assert seen == [1, 2, 3]
    assert latest_checkpoint(tmp_path).name == "step-0000002"  # called after the checkpoint


def test_a_cpu_budget_stops_the_run_with_a_checkpoint(tmp_path):
    """Equal-budget comparisons: the run ends, saved, once it has used its CPU minutes."""
    config = TrainConfig(steps=10_000, batch_size=4, checkpoint_every=0, log_every=10,
                         max_cpu_minutes=0.01)
    result = Trainer(SmallConv(), objective("ddpm"), oracle_data(), config, tmp_path,
                     progress=False).train()
    assert 1 <= result["step"] < 10_000
    assert latest_checkpoint(tmp_path).name == f"step-{result['step']:07d}"


def test_nan_losses_are_skipped_reported_and_stop_the_run(tmp_path):
    class Exploding(SmallConv):
        def forward(self, x, c_noise):
            return super().forward(x, c_noise) * float("nan")

    config = TrainConfig(steps=20, batch_size=4, max_bad_steps=3, log_every=1,
                         checkpoint_every=0)
    trainer = Trainer(Exploding(), objective("ddpm"), oracle_data(), config, tmp_path,
                      progress=False)
    before = {k: v.clone() for k, v in trainer.network.state_dict().items()}
    with pytest.raises(TrainingError, match="NaN/inf for 3 steps"):
        trainer.train()
    after = trainer.network.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # never trained on NaN


def test_msanii_preset_trains_with_the_seeds_adam_beta1(tmp_path):
    from cadenza.presets import load_preset

    config = replace(load_preset("msanii-mel").training, steps=1, mixed_precision="no")
    trainer = Trainer(SmallConv(), objective("ddpm"), oracle_data(), config, tmp_path,
                      progress=False)
    assert trainer.optimizer.param_groups[0]["betas"] == (0.5, 0.999)


def test_a_truncated_newest_checkpoint_resumes_from_the_previous_one(tmp_path):
    """Step 4's weights cut short: the re-run warns, naming them, resumes at step 2 and
    finishes with the very losses of the unbroken run."""
    config = TrainConfig(steps=4, batch_size=4, checkpoint_every=2, log_every=1)
    Trainer(SmallConv(), objective("ddpm"), oracle_data(), config, tmp_path,
            progress=False).train()
    unbroken = [(row["step"], row["loss"]) for row in read_log(tmp_path)]
    weights = latest_checkpoint(tmp_path) / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.warns(ResumeWarning, match=r"step-0000002.*passed over .*step-0000004/model"):
        trainer = Trainer(SmallConv(), objective("ddpm"), oracle_data(), config, tmp_path,
                          progress=False)
    assert trainer.step == 2
    assert trainer.train()["step"] == 4
    assert [(row["step"], row["loss"]) for row in read_log(tmp_path)] == unbroken
    assert latest_checkpoint(tmp_path).name == "step-0000004"
    Trainer(SmallConv(), objective("ddpm"), oracle_data(), config, tmp_path, progress=False)


def test_no_intact_checkpoint_or_a_pointer_outside_the_run_is_a_clear_error(tmp_path):
    config = TrainConfig(steps=2, batch_size=4, checkpoint_every=1, log_every=1)
    Trainer(SmallConv(), objective("ddpm"), oracle_data(), config, tmp_path,
            progress=False).train()
    for folder in ("step-0000001", "step-0000002"):
        (tmp_path / "checkpoints" / folder / "ema.safetensors").write_bytes(b"\0" * 10)
    with pytest.raises(CheckpointError, match=r"no intact checkpoint .*step-0000002/ema"
                                              r".*step-0000001/ema") as error:
        Trainer(SmallConv(), objective("ddpm"), oracle_data(), config, tmp_path,
                progress=False)
    assert "\n" not in str(error.value)
    (tmp_path / "checkpoints" / "latest").write_text("../../../etc\n")
    with pytest.raises(CheckpointError, match=r"names '../../../etc', which is not a folder "
                                              r"inside .*step-NNNNNNN"):
        latest_checkpoint(tmp_path)


@pytest.mark.skipif(shutil.which("accelerate") is None and not (
    Path(sys.executable).parent / "accelerate").exists(), reason="accelerate CLI not found")
def test_two_cpu_processes_train_and_checkpoint(tmp_path, script):
    launcher = Path(sys.executable).parent / "accelerate"
    result = subprocess.run(
        [str(launcher), "launch", "--num_processes", "2", "--cpu", "--num_machines", "1",
         "--mixed_precision", "no", "--dynamo_backend", "no",
         str(script), str(tmp_path), "12", "6"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    log = read_log(tmp_path)
    assert [row["step"] for row in log] == list(range(1, 13))
    assert all(math.isfinite(row["loss"]) for row in log)
    assert latest_checkpoint(tmp_path).name == "step-0000012"


class DtypeRecorder(SmallConv):
    """SmallConv fed the timestep over 1000 (bf16 holds 999 only to within 4, so the raw step
    would make the comparison with fp32 about rounding), remembering the dtype it computed in."""

    def __init__(self):
        super().__init__()
        self.dtypes: set[torch.dtype] = set()

    def forward(self, x, c_noise):
        out = super().forward(x, c_noise / 1000)
        self.dtypes.add(out.dtype)
        return out


def test_bf16_trains_on_cpu_as_fp32_does_even_after_an_fp32_trainer_in_the_process(tmp_path):
    def train(precision: str) -> tuple[DtypeRecorder, list[float]]:
        torch.manual_seed(0)
        network = DtypeRecorder()
        config = TrainConfig(steps=150, batch_size=16, learning_rate=3e-3, warmup_steps=10,
                             checkpoint_every=0, log_every=10, mixed_precision=precision)
        Trainer(network, objective("ddpm"), oracle_data(), config, tmp_path / precision,
                progress=False).train()
        return network, [row["loss"] for row in read_log(tmp_path / precision)]

    fp32, fp32_losses = train("no")
    bf16, bf16_losses = train("bf16")
    assert fp32.dtypes == {torch.float32}
    assert bf16.dtypes == {torch.bfloat16}  # autocast really ran the convolutions in bf16
    first, last = sum(bf16_losses[:10]) / 10, sum(bf16_losses[-10:]) / 10
    assert first > 0.8 and last < 0.4 * first, (first, last)  # measured 0.86 -> 0.24
    assert last == pytest.approx(sum(fp32_losses[-10:]) / 10, rel=0.05)  # measured 0.03%
    assert all(value.dtype == torch.float32 for value in bf16.state_dict().values())


def test_fp16_on_a_cpu_is_a_clear_error_not_a_silent_fp32_run(tmp_path):
    config = TrainConfig(steps=1, batch_size=4, mixed_precision="fp16")
    with pytest.raises(ValueError, match="fp16 needs a GPU; on a CPU use bf16"):
        Trainer(SmallConv(), objective("ddpm"), oracle_data(), config, tmp_path, progress=False)
