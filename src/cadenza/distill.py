"""Progressive distillation (seed 001, Algorithm 1; Salimans & Ho 2022): halve the steps, repeat.

One round turns a teacher sampled with 2N deterministic DDIM steps into a student that does as
well in N. The student starts as a copy of the teacher (same network, same objective, same
parameterisation) and is trained on the teacher's data. For a clean example x0:

    i ~ U{1..N},  sigma = s(t_i),  x = x0 + sigma * noise           (VE frame)
    two teacher DDIM steps  sigma -> sigma' = s((t_i + t_{i-1}) / 2) -> sigma'' = s(t_{i-1})
        (sigma'' = 0 for i = 1), each  x_next = D(x, sigma) + (sigma_next / sigma) (x - D)
    target  x~ = (x'' - r x) / (1 - r),  r = sigma'' / sigma
    loss    w(sigma) * |D_student(x, sigma) - x~|^2 / sigma_data^2

x~ is the x0 estimate from which ONE DDIM step lands on the teacher's two-step result; it is the
VE form of the seed's (z'' - (sigma''/sigma) z) / (alpha'' - (sigma''/sigma) alpha), and at the
last step (sigma'' = 0) it is x'' itself. Written out, x~ is a convex blend of the teacher's two
estimates with no x term, which is how it is computed (no cancellation when r is close to 1).

The grid is seed 001's cosine schedule in the VE frame, s(t) = tan(pi t / 2) (alpha = cos,
sigma_VP = sin), with the seed's t_i = i / N truncated to the teacher's sigma range: t_i = t_min +
(t_max - t_min) i / N, t_min and t_max the times of the range's ends, and the last step ending at
sigma = 0 (``cadenza.schedules.cosine_grid``). The grids of N and 2N steps nest, so the teacher's
midpoint is a point of its own grid. w is seed 001's ``snr_trunc`` = max(SNR, 1) or ``snr+1`` =
SNR + 1 (the v-loss), with SNR = (sigma_data / sigma)^2 measured in the data's units.

Parameterisation. Everything is distilled through the teacher's Denoiser D(x, sigma): the loss
is in x0 space whatever the network predicts, and a ``ddpm`` teacher (eps-prediction, like the
shipped model) gives an eps-predicting student with the same objective. Seed 001 warns that eps
is the weak choice for distillation: D = x - sigma * eps_hat, so at high noise a small error of
the network is a large error of x0. A ``vcosine`` (v-prediction, the seed's choice) or ``edm``
teacher has no such problem. Converting an eps teacher to v-prediction is not done: read as a
v-predictor, the same weights compute another denoiser, so the student would not start as a copy
of the teacher (it would have to relearn the teacher first).

Top of the grid. For v and edm teachers it is the top of the objective's range (``vcosine``:
sigma 637, t = 0.999). For eps teachers it is the first sigma of the teacher's own default
schedule, the highest noise its author samples from: the cosine-betas table of a ``ddpm`` model
ends at sigma = 2e4, where the shipped model's x0 estimate is useless (measured: 16 DDIM steps
on the grid from 2e4 give clips of mean -153 where the data's is -0.44; from its tuned
schedule's 52 they match its own 20-step deis output to an MSE of 0.0014 at 64 steps).
``sigma_max`` sets it explicitly; the student's pipeline keeps its range (``sigma_range``).

Rounds run one after another, each in its own run folder ``out/round-K`` driven by the ordinary
``Trainer`` (checkpoints, exact resume, EMA, NaN guard, logs): re-running ``distill`` with the
same arguments finishes a half-done round exactly as if it had never stopped, skips finished
rounds, and with a larger ``rounds`` continues a finished distillation. Each round's student
(its EMA weights) is a normal pipeline folder ``out/round-K/model`` whose default sampler is
``ddim`` with N steps on the ``cosine_grid`` schedule; it is the next round's teacher, and the
last one is also ``out/model``.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from cadenza.denoisers import as_column
from cadenza.objectives import objective as build_objective
from cadenza.plan import EDIT_STRATEGY, Plan
from cadenza.schedules import cosine_grid
from cadenza.trainer import TrainConfig, Trainer, read_log
from cadenza.version import __version__

ACCEPTED_OBJECTIVES = ("ddpm", "vcosine", "edm")
"""Teachers distillable here: every diffusion objective whose Denoiser cadenza builds."""

WEIGHTINGS = ("snr_trunc", "snr+1")

SAMPLER = "ddim"
SCHEDULE = "cosine_grid"


def ddim_step(x: Tensor, denoised: Tensor, sigma: Tensor, sigma_next: Tensor) -> Tensor:
    """One deterministic DDIM step in the VE frame: D + (sigma_next / sigma) (x - D)."""
    ratio = as_column(sigma_next / sigma, x)
    return denoised + ratio * (x - denoised)


@torch.no_grad()
def distillation_target(
    teacher, x: Tensor, sigma: Tensor, sigma_mid: Tensor, sigma_next: Tensor
) -> Tensor:
    """x~: the x0 estimate from which one DDIM step sigma -> sigma_next lands where the teacher's
    two DDIM steps sigma -> sigma_mid -> sigma_next land.

    ``teacher`` is a denoiser ``D(x, sigma)``; the sigmas are float64, one per example (or
    scalars). With a = sigma_next / sigma_mid and b = sigma_mid / sigma, the two steps give
    x'' = (1 - a) D2 + a (1 - b) D1 + a b x, so x~ = (x'' - ab x) / (1 - ab) is the blend
    ((1 - a) D2 + a (1 - b) D1) / (1 - ab) of the teacher's estimates D1 at x and D2 at x'.
    """
    sigma, sigma_mid, sigma_next = (
        torch.as_tensor(s, dtype=torch.float64, device=x.device).expand(x.shape[0])
        for s in (sigma, sigma_mid, sigma_next)
    )
    first = teacher(x, sigma)
    second = teacher(ddim_step(x, first, sigma, sigma_mid), sigma_mid)
    a, b = sigma_next / sigma_mid, sigma_mid / sigma
    weight_first = a * (1 - b) / (1 - a * b)
    return as_column(weight_first, x) * first + as_column(1 - weight_first, x) * second


def loss_weight(sigma: Tensor, weighting: str, sigma_data: float = 1.0) -> Tensor:
    """Seed 001's weights on the x0 error, SNR = (sigma_data / sigma)^2: ``snr_trunc`` =
    max(SNR, 1) (the larger of the x0 and eps errors), ``snr+1`` = SNR + 1 (the v error)."""
    snr = (sigma_data / torch.as_tensor(sigma, dtype=torch.float64)) ** 2
    if weighting == "snr_trunc":
        return snr.clamp(min=1.0)
    if weighting == "snr+1":
        return snr + 1
    raise ValueError(f"unknown weighting {weighting!r}; choose one of {', '.join(WEIGHTINGS)}")


def check_objective(name: str) -> None:
    if name not in ACCEPTED_OBJECTIVES:
        raise ValueError(f"cannot distill a teacher with objective {name!r}; progressive "
                         f"distillation accepts {', '.join(ACCEPTED_OBJECTIVES)}")


class DistillationLoss:
    """One round's loss with the Trainer's protocol ``loss(network, x0, generator)``.

    ``teacher`` is the teacher's network (copied and frozen here); ``objective`` (the teacher's,
    an object or a name) wraps both networks into denoisers. The student samples ``steps``
    DDIM steps on ``cosine_grid(steps, *sigma_range)``, the teacher ``2 * steps`` on the grid
    that nests with it. ``sigma_range`` defaults to the objective's; ``sigma_data`` (the data's
    std) is the unit of the SNR in the ``weighting`` and of the loss.
    """

    def __init__(
        self,
        teacher: nn.Module,
        objective,
        steps: int,
        *,
        weighting: str = "snr_trunc",
        sigma_data: float = 1.0,
        sigma_range: tuple[float, float] | None = None,
    ):
        if isinstance(objective, str):
            check_objective(objective)
            objective = build_objective(objective)
        if steps < 1:
            raise ValueError(f"the student needs at least 1 step, got {steps}")
        loss_weight(torch.ones(1), weighting)  # an unknown weighting fails here, not mid-run
        if not (math.isfinite(sigma_data) and sigma_data > 0):
            raise ValueError(f"sigma_data must be positive, got {sigma_data}")
        self.objective, self.steps = objective, steps
        self.weighting, self.sigma_data = weighting, float(sigma_data)
        low, high = sigma_range or objective.sigma_range
        self.sigma_range = (float(low), float(high))
        self.student_sigmas = cosine_grid(steps, *self.sigma_range)
        self.teacher_sigmas = cosine_grid(2 * steps, *self.sigma_range)
        assert torch.equal(self.teacher_sigmas[::2], self.student_sigmas)  # the grids nest
        network = copy.deepcopy(teacher).eval().requires_grad_(False)
        self.teacher = objective.denoiser(network)

    def levels(self, index: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """(sigma, sigma', sigma'') of student step ``index`` in 1..N (N: the noisiest)."""
        position = (self.steps - index).cpu()
        return (self.student_sigmas[position], self.teacher_sigmas[2 * position + 1],
                self.student_sigmas[position + 1])

    def loss(
        self, network: nn.Module, x0: Tensor, generator: torch.Generator | None = None
    ) -> Tensor:
        index = torch.randint(1, self.steps + 1, (x0.shape[0],), generator=generator,
                              device=x0.device)
        sigma, sigma_mid, sigma_next = (s.to(x0.device) for s in self.levels(index))
        noise = torch.randn(x0.shape, generator=generator, dtype=x0.dtype, device=x0.device)
        x = x0 + as_column(sigma, x0) * noise
        self.teacher.to(x0.device)
        target = distillation_target(self.teacher, x, sigma, sigma_mid, sigma_next)
        denoised = self.objective.denoiser(network)(x, sigma)
        weight = loss_weight(sigma, self.weighting, self.sigma_data) / self.sigma_data**2
        error = (denoised.float() - target.float()).pow(2)
        return (as_column(weight, error) * error).mean()


# ------------------------------------------------------------------------------ the driver


def student_noise_range(teacher, sigma_max: float | None = None) -> tuple[float, float]:
    """The sigmas a student of ``teacher`` (a Pipeline) is trained and sampled between: the
    teacher's range, capped at ``sigma_max`` (default for an eps model: the top of the
    teacher's own schedule; see the module's docstring)."""
    low, high = teacher.noise_range
    if sigma_max is None and teacher.denoiser().parameterization == "eps":
        sigma_max = float(teacher.sigmas()[0])
    if sigma_max is not None:
        if not low < sigma_max <= high:
            raise ValueError(f"sigma_max must be in ({low:g}, {high:g}], the teacher's range; "
                             f"got {sigma_max:g}")
        high = float(sigma_max)
    return low, high


def _training_data(pipeline, data: Path, config: TrainConfig, crop_seconds: float | None):
    """(dataset, transform, facts) from a folder of recordings or a cache, as ``train`` reads
    them, with the teacher's data settings (crop length, channels, validation split)."""
    from cadenza.settings import DataSettings
    from cadenza.train import training_dataset

    preset = pipeline.describe.get("preset", {})
    settings = dict(preset.get("data", {}))
    settings.setdefault("channels", pipeline.channels)
    if crop_seconds is not None:
        settings["crop_seconds"] = crop_seconds
    if "crop_seconds" not in settings:
        raise ValueError("the teacher does not say how long its training crops were; "
                         "give crop_seconds")
    teacher_seed = preset.get("training", {}).get("seed", TrainConfig.seed)  # the teacher's split
    dataset, rep, facts = training_dataset(Path(data), pipeline.representation,
                                           DataSettings.from_dict(settings),
                                           dataclasses.replace(config, seed=teacher_seed))
    if "cache" in facts:  # encoded already: with the teacher's statistics, or it is not its data
        ours, theirs = pipeline.representation.state_dict(), rep.state_dict()
        if ours.keys() != theirs.keys() or not all(
                torch.equal(ours[k].cpu(), theirs[k].cpu()) for k in ours):
            raise ValueError(f"{data}: the cache was encoded with other representation "
                             "statistics than the teacher's; distill on the recordings instead")
        return dataset, None, facts
    representation = pipeline.representation

    def transform(wave: Tensor) -> Tensor:
        with torch.no_grad():
            return representation.to(wave.device).encode(wave)

    return dataset, transform, facts


def _settings_match(path: Path, settings: dict[str, Any]) -> dict[str, Any]:
    """The run record at ``path``, checked against ``settings`` (all but ``rounds``)."""
    from cadenza.checkpoint import read_json

    if not path.exists():
        return {}
    record = read_json(path)
    before = record.get("settings", {})
    changed = sorted(key for key in settings
                     if key != "rounds" and before.get(key) != settings[key])
    if changed:
        raise ValueError(
            f"{path.parent} was distilled with other settings ({', '.join(changed)}: "
            + ", ".join(f"{before.get(k)!r} then {settings[k]!r}" for k in changed)
            + "); re-run with the same arguments to resume, or give a new output folder")
    return record


def distill(
    teacher: str | Path,
    out_dir: str | Path,
    *,
    rounds: int,
    start_steps: int = 1024,
    steps_per_round: int = 2000,
    data: str | Path | None = None,
    dataset: torch.utils.data.Dataset | None = None,
    batch_size: int | None = None,
    learning_rate: float = 1e-4,
    weighting: str = "snr_trunc",
    sigma_max: float | None = None,
    crop_seconds: float | None = None,
    seed: int = 0,
    training: dict[str, Any] | None = None,
    callbacks: Sequence[Callable[[Trainer], None]] = (),
    progress: bool = True,
) -> Path:
    """Distill ``teacher`` (a pipeline folder or a shipped model's name) for ``rounds`` rounds.

    The teacher counts as sampling with ``start_steps`` steps; round K trains a student of
    ``start_steps / 2**K`` steps for ``steps_per_round`` optimizer steps in ``out/round-K``.
    Training data is ``data`` (a folder of recordings or a ``cadenza data prepare`` cache, read
    with the teacher's crop length and split) or ``dataset`` (examples already in the network's
    space). ``batch_size`` defaults to the teacher's; ``training`` sets any other
    ``TrainConfig`` field (``ema_decay``, ``checkpoint_every``, ``mixed_precision``, ...);
    ``callbacks`` go to each round's ``Trainer``. ``sigma_max`` is the top of the grid
    (default: see the module's docstring). Returns ``out/model``, the last student;
    ``out/distill.json`` records the settings and every round.
    """
    from cadenza.atomic import write_json
    from cadenza.pipeline import load, model_folder

    out = Path(out_dir)
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, got {rounds}")
    if start_steps < 2 or start_steps % 2**rounds:
        raise ValueError(f"{rounds} rounds halve the steps {rounds} times: start_steps must be "
                         f"a multiple of {2**rounds}, got {start_steps}")
    if steps_per_round < 1:
        raise ValueError(f"steps_per_round must be at least 1, got {steps_per_round}")
    if (data is None) == (dataset is None):
        raise ValueError("distillation trains on the teacher's data: give data (a folder of "
                         "recordings or a cache) or a dataset, not both")
    loss_weight(torch.ones(1), weighting)
    teacher_path = model_folder(teacher)
    first = load(teacher_path)
    check_objective(first.objective_name)
    low, high = student_noise_range(first, sigma_max)
    preset_training = first.describe.get("preset", {}).get("training", {})
    batch_size = batch_size or preset_training.get("batch_size", TrainConfig.batch_size)
    settings = {
        "teacher": str(teacher_path.resolve()), "rounds": rounds, "start_steps": start_steps,
        "steps_per_round": steps_per_round,
        "data": str(Path(data).resolve()) if data is not None else "dataset",
        "batch_size": batch_size, "learning_rate": learning_rate, "weighting": weighting,
        "sigma_range": [low, high], "crop_seconds": crop_seconds, "seed": seed,
        "training": dict(training or {}),
    }
    settings = json.loads(json.dumps(settings))  # as read back from the record (tuples: lists)
    record_path = out / "distill.json"
    summaries = {entry["round"]: entry
                 for entry in _settings_match(record_path, settings).get("rounds", [])}

    def write_record(**extra) -> None:
        if _is_main_process():
            write_json(record_path, {
                "settings": settings, "rounds": [summaries[k] for k in sorted(summaries)],
                **extra, "cadenza": __version__, "torch": torch.__version__})

    def config_for(round_index: int) -> TrainConfig:
        values = {"steps": steps_per_round, "batch_size": batch_size,
                  "learning_rate": learning_rate,
                  "warmup_steps": min(100, steps_per_round // 10),
                  "seed": seed + round_index - 1, **(training or {})}
        return TrainConfig.from_dict(values)

    transform, facts = None, {"dataset": len(dataset)} if dataset is not None else {}
    if data is not None:
        dataset, transform, facts = _training_data(first, Path(data), config_for(1),
                                                   crop_seconds)
    config_for(1)  # unknown training options fail before anything is written
    write_record()  # before any training, so that a re-run with other settings is refused
    previous = teacher_path
    for round_index in range(1, rounds + 1):
        steps = start_steps >> round_index
        folder = out / f"round-{round_index}" / "model"
        if (folder / "pipeline.json").exists():
            previous = folder
            summaries.setdefault(round_index, {"round": round_index, "model": str(folder)})
            continue
        pipeline = first if previous == teacher_path else load(previous)
        config = config_for(round_index)
        objective = pipeline.objective
        loss = DistillationLoss(pipeline.network, objective, steps, weighting=weighting,
                                sigma_data=pipeline.sigma_data, sigma_range=(low, high))
        about = {"round": round_index, "teacher": str(previous), "teacher_steps": 2 * steps,
                 "steps": steps, "weighting": weighting, "sigma_range": [low, high],
                 "steps_per_round": steps_per_round,
                 **({} if crop_seconds is None else {"crop_seconds": crop_seconds})}
        started = time.perf_counter()
        trainer = Trainer(copy.deepcopy(pipeline.network).train(), loss, dataset, config,
                          folder.parent, transform=transform,
                          describe={"distillation": about, "data": facts}, progress=progress,
                          callbacks=callbacks)
        trainer.train()
        if trainer.accelerator.is_main_process:
            student = copy.copy(pipeline)
            student.network = trainer.ema_network().cpu()
            student.defaults = Plan(SAMPLER, steps, SCHEDULE)
            # The teacher's strategy was chosen on the teacher; a new network starts from none.
            student.edit_strategy = EDIT_STRATEGY
            student.sigma_range = (low, high)
            history = pipeline.describe.get("distillation", [])
            student.describe = {**pipeline.describe, "distillation": [*history, about]}
            student.save(folder)
            losses = [row["loss"] for row in read_log(folder.parent) if row["loss"] is not None]
            tail = losses[-max(1, len(losses) // 10):]
            summaries[round_index] = {
                **about, "model": str(folder),
                "seconds_this_run": round(time.perf_counter() - started, 1),
                "final_loss": sum(tail) / len(tail) if tail else None}  # last tenth's mean
            write_record()
        trainer.accelerator.wait_for_everyone()
        previous = folder
    final = out / "model"
    if _is_main_process():
        load(previous).save(final)
    write_record(model=str(final))
    return final


def _is_main_process() -> bool:
    from accelerate import PartialState

    return PartialState().is_main_process
