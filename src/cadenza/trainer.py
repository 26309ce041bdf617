"""The training engine: one loop on HF Accelerate for CPU, one GPU, many GPUs or many nodes.

The same script runs under ``python`` or ``accelerate launch``. What makes resuming exact is
that nothing depends on hidden state: the examples of step s and the noise the objective draws
are functions of (seed, s, process), so a run restored from a checkpoint (model, EMA,
optimizer, step; the learning rate is a function of the step) continues with the very same losses.

Per optimizer step: ``grad_accumulation`` micro-batches of ``batch_size`` examples on each
process, AdamW, linear warm-up then cosine decay, gradient clipping, an EMA of the weights. A
step whose loss or gradient is not finite is skipped and reported; ``max_bad_steps`` of them
in a row stop the run with an error instead of training on garbage.
"""

from __future__ import annotations

import copy
import csv
import math
import signal
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from cadenza.accelerate_compat import reset_accelerate_state
from cadenza.checkpoint import (
    CheckpointError,
    flatten_optimizer,
    mark_latest,
    prune_checkpoints,
    resume_state,
    write_checkpoint_folder,
)
from cadenza.settings import TrainConfig
from cadenza.version import __version__

# TrainConfig stays importable beside the Trainer that takes it.
__all__ = ["LOG_FIELDS", "TrainConfig", "Trainer", "TrainingError", "learning_rate_factor",
           "read_log"]


@contextmanager
def _terminate_as_interrupt():
    """SIGTERM (what a cluster scheduler sends before it kills a job) checkpoints like Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be installed from the main thread
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


LOG_FIELDS = ("step", "loss", "grad_norm", "learning_rate", "seconds", "skipped")


class TrainingError(RuntimeError):
    """Training cannot go on (e.g. the loss stayed NaN); the message says what to do."""


def learning_rate_factor(step: int, config: TrainConfig) -> float:
    """Linear warm-up to 1, then cosine decay to ``final_lr_fraction`` at the last step."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    span = max(config.steps - config.warmup_steps, 1)
    progress = min((step - config.warmup_steps) / span, 1.0)
    floor = config.final_lr_fraction
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def _seed(*keys: int) -> int:
    return int(np.random.SeedSequence(list(keys)).generate_state(1, dtype=np.uint64)[0] >> 1)


class _StepBatches(torch.utils.data.Sampler):
    """Index lists for every micro-batch from ``start_step`` on: a function of (seed, step).

    Datasets that are ``positional`` (their item i is already a fresh random draw, like
    RandomCrops) get global positions; others get a seeded permutation per epoch.
    """

    def __init__(self, size, config, start_step, rank, world, positional):
        self.size, self.config = size, config
        self.start_step, self.rank, self.world = start_step, rank, world
        self.positional = positional
        self._epoch, self._order = -1, None

    def __len__(self) -> int:
        return (self.config.steps - self.start_step) * self.config.grad_accumulation

    def _at(self, position: int) -> int:
        if self.positional:
            return position
        epoch, offset = divmod(position, self.size)
        if epoch != self._epoch:
            generator = torch.Generator().manual_seed(_seed(self.config.seed, epoch))
            self._epoch, self._order = epoch, torch.randperm(self.size, generator=generator)
        return int(self._order[offset])

    def __iter__(self):
        per_micro = self.config.batch_size * self.world
        for step in range(self.start_step, self.config.steps):
            for micro in range(self.config.grad_accumulation):
                first = (step * self.config.grad_accumulation + micro) * per_micro
                first += self.rank * self.config.batch_size
                yield [self._at(first + i) for i in range(self.config.batch_size)]


def _accelerator(mixed_precision: str):
    """An ``Accelerator`` with this precision, also when an earlier Trainer in this process
    used another one (see ``reset_accelerate_state``). fp16 on a CPU is refused: autocast
    has no fp16 there, so it would silently train in fp32."""
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState, PartialState, is_initialized

    if is_initialized() and (previous := AcceleratorState().mixed_precision) != mixed_precision:
        if PartialState().num_processes > 1:
            raise ValueError(f"this process already trains with mixed_precision="
                             f"{previous!r}; a launched run keeps one")
        reset_accelerate_state()  # single process: nothing else shares it
    accelerator = Accelerator(mixed_precision=mixed_precision)
    if mixed_precision == "fp16" and accelerator.device.type == "cpu":
        raise ValueError("mixed_precision=fp16 needs a GPU; on a CPU use bf16 (or no)")
    return accelerator


class Trainer:
    """Train ``network`` with ``objective`` on ``dataset`` into ``run_dir``; resumes by itself.

    ``dataset`` items are tensors in the network's space (``transform``, if given, maps a
    batch there on the device, e.g. a representation's encode). ``on_sample(ema_network,
    step)`` is called every ``sample_every`` steps on the main process, e.g. to write audio.
    Each of ``callbacks`` is called with the trainer after every step (after that step's
    checkpoint, if any) on every process; tests use one to kill a run mid-training.
    ``describe`` is stored in every checkpoint (preset, representation, ...).
    """

    def __init__(
        self,
        network: nn.Module,
        objective,
        dataset: torch.utils.data.Dataset,
        config: TrainConfig,
        run_dir: str | Path,
        *,
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
        on_sample: Callable[[nn.Module, int], None] | None = None,
        describe: dict | None = None,
        progress: bool = True,
        callbacks: Sequence[Callable[[Trainer], None]] = (),
    ) -> None:
        if config.mixed_precision not in ("no", "bf16", "fp16"):
            raise ValueError(
                f"mixed_precision must be no, bf16 or fp16, got {config.mixed_precision!r}"
            )
        self.accelerator = _accelerator(config.mixed_precision)
        self.config, self.objective, self.dataset = config, objective, dataset
        self.transform, self.on_sample = transform, on_sample
        self.callbacks = tuple(callbacks)
        self._pending: list[dict] = []  # log rows of steps done, not yet in log.csv
        self._tensorboard = None
        self.describe = describe or {}
        self.run_dir = Path(run_dir)
        self.progress = progress and self.accelerator.is_main_process
        self.network = network
        self.ema = {
            name: value.detach().clone().float() for name, value in network.state_dict().items()
        }
        self.optimizer = torch.optim.AdamW(
            network.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay,
            betas=tuple(config.adam_betas),
        )
        self.step = 0
        self.bad_steps = 0
        self._resume()
        self.model, self.optimizer = self.accelerator.prepare(self.network, self.optimizer)
        self.ema = {k: v.to(self.accelerator.device) for k, v in self.ema.items()}

    # ------------------------------------------------------------------ checkpoints

    def _resume(self) -> None:
        saved = resume_state(self.run_dir)  # the newest intact checkpoint, warning if older
        if saved is None:
            return
        try:
            self.network.load_state_dict(saved.model)
        except RuntimeError as error:  # torch lists every mismatched tensor: keep the first line
            raise CheckpointError(f"{saved.folder}: its weights do not fit this network "
                                  f"({str(error).strip().splitlines()[0]})") from None
        self.ema = saved.ema
        self.optimizer.load_state_dict(saved.optimizer)
        self.step, self.bad_steps = saved.step, saved.bad_steps
        torch.set_rng_state(saved.rng)
        self._truncate_log(self.step)

    def save_checkpoint(self) -> Path | None:
        """Write ``checkpoints/step-NNNNNNN`` atomically (main process) and point latest at it."""
        self.accelerator.wait_for_everyone()
        folder = self.run_dir / "checkpoints" / f"step-{self.step:07d}"
        if self.accelerator.is_main_process:
            model = self.accelerator.unwrap_model(self.model)
            tensors, rest = flatten_optimizer(self.optimizer.state_dict())
            write_checkpoint_folder(
                folder,
                {
                    "model.safetensors": {k: v.float() for k, v in model.state_dict().items()},
                    "ema.safetensors": self.ema,
                    "optimizer.safetensors": tensors,
                    "optimizer.json": rest,
                    "rng.safetensors": {"torch": torch.get_rng_state()},
                    "state.json": {
                        "step": self.step,
                        "bad_steps": self.bad_steps,
                        "config": asdict(self.config),
                        "describe": self.describe,
                        "cadenza": __version__,
                        "torch": torch.__version__,
                    },
                },
            )
            mark_latest(self.run_dir, folder)
            prune_checkpoints(self.run_dir, self.config.keep_checkpoints)
        self.accelerator.wait_for_everyone()
        return folder

    def ema_network(self) -> nn.Module:
        """A copy of the network holding the EMA weights, in eval mode."""
        network = copy.deepcopy(self.accelerator.unwrap_model(self.model))
        dtypes = {name: value.dtype for name, value in network.state_dict().items()}
        network.load_state_dict({k: v.to(dtypes[k]) for k, v in self.ema.items()})
        return network.eval()

    # ------------------------------------------------------------------------ logs

    def _truncate_log(self, step: int) -> None:
        """After a resume, drop log rows of steps the killed run did past its checkpoint."""
        path = self.run_dir / "log.csv"
        if path.exists():
            with path.open() as handle:
                rows = [row for row in csv.DictReader(handle) if int(row["step"]) <= step]
            with path.open("w", newline="") as handle:
                writer = csv.DictWriter(handle, LOG_FIELDS)
                writer.writeheader()
                writer.writerows(rows)

    def flush_log(self) -> None:
        """Append the rows of the steps done but not yet logged to log.csv (main process)."""
        rows, self._pending = self._pending, []
        if not rows or not self.accelerator.is_main_process:
            return
        path = self.run_dir / "log.csv"
        new = not path.exists()
        with path.open("a", newline="") as handle:
            writer = csv.DictWriter(handle, LOG_FIELDS)
            if new:
                writer.writeheader()
            writer.writerows(rows)
        if self._tensorboard is not None:
            for row in rows:
                for key in ("loss", "grad_norm", "learning_rate"):
                    if row[key] != "":
                        self._tensorboard.add_scalar(f"train/{key}", float(row[key]), row["step"])

    # ------------------------------------------------------------------------ loop

    def _micro_batches(self):
        sampler = _StepBatches(
            len(self.dataset),
            self.config,
            self.step,
            self.accelerator.process_index,
            self.accelerator.num_processes,
            getattr(self.dataset, "positional", False),
        )
        loader = torch.utils.data.DataLoader(
            self.dataset, batch_sampler=sampler, num_workers=self.config.num_workers
        )
        return iter(loader)

    def _update_ema(self) -> None:
        decay = min(self.config.ema_decay, (1 + self.step) / (10 + self.step))
        with torch.no_grad():
            for name, value in self.accelerator.unwrap_model(self.model).state_dict().items():
                average = self.ema[name]
                if average.is_floating_point():
                    average.lerp_(value.float(), 1 - decay)
                else:
                    average.copy_(value)

    def _any(self, flag: bool) -> bool:
        """True on every process if ``flag`` is True on any (so all skip a step together)."""
        tensor = torch.tensor([float(flag)], device=self.accelerator.device)
        return bool(self.accelerator.reduce(tensor, reduction="sum").item() > 0)

    def train(self) -> dict:
        """Run to ``config.steps``; checkpoints every ``checkpoint_every`` and on Ctrl-C or
        SIGTERM (then re-raises KeyboardInterrupt)."""
        with _terminate_as_interrupt():
            return self._train()

    def _train(self) -> dict:
        config, accelerator = self.config, self.accelerator
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._tensorboard = None
        if accelerator.is_main_process:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._tensorboard = SummaryWriter(str(self.run_dir / "tensorboard"))
            except ImportError:  # tensorboard is optional; the CSV log is always written
                pass
        batches = self._micro_batches()
        bar = tqdm(total=config.steps, initial=self.step, desc="training", unit="step",
                   disable=not self.progress, dynamic_ncols=True)
        started, cpu_started = time.perf_counter(), time.process_time()
        self.model.train()
        try:
            while self.step < config.steps:
                loss_sum, bad = 0.0, False
                for micro in range(config.grad_accumulation):
                    x0 = next(batches).to(accelerator.device)
                    if self.transform is not None:
                        x0 = self.transform(x0)
                    generator = torch.Generator(device=accelerator.device).manual_seed(
                        _seed(config.seed, self.step, accelerator.process_index, micro)
                    )
                    last = micro == config.grad_accumulation - 1
                    sync = accelerator.no_sync(self.model) if not last else nullcontext()
                    with sync:
                        loss = self.objective.loss(self.model, x0, generator)
                        if self._any(not bool(torch.isfinite(loss))):
                            bad = True
                            continue
                        accelerator.backward(loss / config.grad_accumulation)
                    loss_sum += float(loss.detach())
                grad_norm = float("nan")
                if not bad:
                    grad_norm = float(
                        accelerator.clip_grad_norm_(self.model.parameters(), config.grad_clip)
                    )
                    bad = self._any(not math.isfinite(grad_norm))
                if bad:
                    self.optimizer.zero_grad(set_to_none=True)
                    self.bad_steps += 1
                    if accelerator.is_main_process:
                        tqdm.write(f"step {self.step}: non-finite loss or gradient, skipped "
                                   f"({self.bad_steps} in a row)")
                    if self.bad_steps >= config.max_bad_steps:
                        raise TrainingError(
                            f"the loss or gradient was NaN/inf for {self.bad_steps} steps in a "
                            f"row at step {self.step}; lower the learning rate or use "
                            "mixed_precision=no, then resume from the last checkpoint"
                        )
                else:
                    # The learning rate is a pure function of the step: nothing to restore.
                    learning_rate = config.learning_rate * learning_rate_factor(self.step, config)
                    for group in self.optimizer.param_groups:
                        group["lr"] = learning_rate
                    self.optimizer.step()
                    self.optimizer.zero_grad(set_to_none=True)
                    self.bad_steps = 0
                if not bad:
                    self._update_ema()
                self.step += 1
                mean_loss = accelerator.reduce(
                    torch.tensor([loss_sum / config.grad_accumulation],
                                 device=accelerator.device), reduction="mean"
                ).item()
                self._pending.append({
                    "step": self.step,
                    "loss": "" if bad else repr(mean_loss),
                    "grad_norm": "" if bad else repr(grad_norm),
                    "learning_rate": repr(self.optimizer.param_groups[0]["lr"]),
                    "seconds": f"{time.perf_counter() - started:.3f}",
                    "skipped": int(bad),
                })
                bar.update()
                if not bad:
                    bar.set_postfix(loss=f"{mean_loss:.4f}", refresh=False)
                if self.step % config.log_every == 0 or self.step == config.steps:
                    self.flush_log()
                if config.checkpoint_every and self.step % config.checkpoint_every == 0:
                    self.flush_log()
                    self.save_checkpoint()
                for callback in self.callbacks:
                    callback(self)
                if (config.sample_every and self.step % config.sample_every == 0
                        and self.on_sample is not None and accelerator.is_main_process):
                    self.on_sample(self.ema_network(), self.step)
                # CPU time, not wall time: runs compared on equal budgets stay equal when
                # other work shares the machine.
                if (config.max_cpu_minutes and self._any(
                        time.process_time() - cpu_started >= 60 * config.max_cpu_minutes)):
                    tqdm.write(f"step {self.step}: {config.max_cpu_minutes:g} CPU minutes spent")
                    break
        except KeyboardInterrupt:
            self.flush_log()
            self.save_checkpoint()
            bar.close()
            raise
        bar.close()
        self.flush_log()
        self.save_checkpoint()
        if self._tensorboard is not None:
            self._tensorboard.close()
        return {"step": self.step, "run_dir": str(self.run_dir)}


def read_log(run_dir: str | Path) -> list[dict]:
    """The run's log.csv as dicts (losses as floats, None for skipped steps)."""
    with (Path(run_dir) / "log.csv").open() as handle:
        return [
            {**row, "step": int(row["step"]),
             "loss": float(row["loss"]) if row["loss"] else None}
            for row in csv.DictReader(handle)
        ]
