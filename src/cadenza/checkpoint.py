"""Checkpoints: a folder of safetensors files plus JSON, written atomically, checked on load.

A training checkpoint ``step-0000100/`` holds ``model.safetensors``, ``ema.safetensors``,
``optimizer.safetensors`` (the optimizer state flattened to tensors; its param groups in the
metadata), ``rng.safetensors`` and ``state.json`` (step, scheduler, data position, config).
The folder is assembled under a temporary name and renamed when complete, so a crash leaves
either the old checkpoint or the new one, never half of one. ``latest`` names the newest; it
must name a folder inside the run's ``checkpoints`` folder. A checkpoint damaged afterwards (a
disk fault, a truncated copy) is passed over on resume for the newest intact one, with a
warning naming what was damaged.
"""

from __future__ import annotations

import json
import re
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from cadenza.atomic import replacing, replacing_folder, write_text


class CheckpointError(ValueError):
    """A missing, truncated or foreign checkpoint; the message says which file and why."""


class ResumeWarning(UserWarning):
    """A run resumed from an older checkpoint because a newer one is damaged."""


def save_tensors(path: Path, tensors: dict[str, torch.Tensor], metadata: dict | None = None):
    tensors = {name: value.detach().contiguous().cpu() for name, value in tensors.items()}
    # An empty metadata dict next to no tensors makes safetensors write an unreadable header.
    text = {k: str(v) for k, v in (metadata or {}).items()} or None
    with replacing(path) as temporary:
        save_file(tensors, str(temporary), metadata=text)


def load_tensors(path: Path) -> dict[str, torch.Tensor]:
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{path}: damaged or not a safetensors file ({error})") from None


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except OSError as error:
        raise CheckpointError(f"{path}: missing ({error.strerror})") from None
    except ValueError as error:
        raise CheckpointError(f"{path}: damaged JSON ({error})") from None


def flatten_optimizer(state: dict) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """torch optimizer state_dict -> (tensors, JSON-able rest)."""
    tensors, scalars = {}, {}
    for index, values in state["state"].items():
        for key, value in values.items():
            if torch.is_tensor(value):
                tensors[f"{index}.{key}"] = value
            else:
                scalars[f"{index}.{key}"] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def unflatten_optimizer(tensors: dict[str, torch.Tensor], rest: dict[str, Any]) -> dict:
    state: dict[int, dict[str, Any]] = {}
    for name, value in [*tensors.items(), *rest["scalars"].items()]:
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = value
    return {"state": state, "param_groups": rest["param_groups"]}


def write_checkpoint_folder(folder: Path, files: dict[str, Any]) -> Path:
    """Write ``files`` (name -> tensors dict | (tensors, metadata) | JSON-able) atomically."""
    with replacing_folder(folder) as staging:
        for name, content in files.items():
            if name.endswith(".safetensors"):
                tensors, metadata = content if isinstance(content, tuple) else (content, None)
                save_tensors(staging / name, tensors, metadata)
            else:
                (staging / name).write_text(json.dumps(content, indent=1, default=str))
    return folder


def mark_latest(run_dir: Path, folder: Path) -> None:
    write_text(run_dir / "checkpoints" / "latest", folder.name + "\n")


def _pointed_folder(run_dir: Path) -> Path | None:
    """The folder ``checkpoints/latest`` names (it may be missing), or None without a pointer.

    The name is checked before it is used as a path: it must be a folder directly inside the
    run's ``checkpoints`` folder (a name like ``../../elsewhere`` is refused)."""
    pointer = run_dir / "checkpoints" / "latest"
    if not pointer.exists():
        return None
    try:
        name = pointer.read_text().strip()
    except (OSError, UnicodeDecodeError) as error:
        raise CheckpointError(f"{pointer}: unreadable ({error})") from None
    folder = pointer.parent / name
    if not name or folder.resolve().parent != pointer.parent.resolve():
        raise CheckpointError(
            f"{pointer} names {name[:80]!r}, which is not a folder inside {pointer.parent}; "
            "write the name of one of its step-NNNNNNN folders there"
        )
    return folder


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The newest complete checkpoint of a run, or None if it has none."""
    folder = _pointed_folder(Path(run_dir))
    if folder is not None and not (folder / "state.json").exists():
        raise CheckpointError(f"{folder}: the latest checkpoint is incomplete or missing")
    return folder


@dataclass
class TrainingState:
    """Everything a training checkpoint holds, read and checked."""

    folder: Path
    model: dict[str, torch.Tensor]
    ema: dict[str, torch.Tensor]
    optimizer: dict[str, Any]  # a torch optimizer state_dict
    rng: torch.Tensor
    step: int
    bad_steps: int


def read_training_state(folder: Path) -> TrainingState:
    """Read every file of a training checkpoint; a CheckpointError names the first bad one."""
    state = read_json(folder / "state.json")
    rest = read_json(folder / "optimizer.json")
    tensors = {name: load_tensors(folder / f"{name}.safetensors")
               for name in ("model", "ema", "optimizer", "rng")}
    try:
        return TrainingState(folder, tensors["model"], tensors["ema"],
                             unflatten_optimizer(tensors["optimizer"], rest),
                             tensors["rng"]["torch"], int(state["step"]),
                             int(state["bad_steps"]))
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise CheckpointError(f"{folder}: damaged state ({type(error).__name__}: {error})"
                              ) from None


def _step_of(folder: Path) -> int | None:
    match = re.fullmatch(r"step-(\d+)", folder.name)
    return int(match[1]) if match else None


def resume_state(run_dir: Path) -> TrainingState | None:
    """The newest intact checkpoint of a run: the one ``latest`` names, or, if that one is
    damaged or missing, the newest older ``step-N`` folder that reads whole (a ResumeWarning
    names each damaged one). None for a run with no checkpoint yet; a CheckpointError if
    none is intact (training afresh over a damaged run would hide the damage)."""
    newest = _pointed_folder(Path(run_dir))
    if newest is None:
        return None
    limit = _step_of(newest)
    older = sorted(
        (folder for folder in newest.parent.iterdir()
         if (step := _step_of(folder)) is not None and folder.is_dir()
         and (step < limit if limit is not None else folder != newest)),
        key=_step_of, reverse=True,
    )
    damaged: list[str] = []
    for folder in [newest, *older]:
        try:
            state = read_training_state(folder)
        except CheckpointError as error:
            damaged.append(str(error))
            continue
        if damaged:
            warnings.warn(f"resuming from {folder}, the newest intact checkpoint; passed over "
                          f"{'; '.join(damaged)}", ResumeWarning, stacklevel=3)
        return state
    raise CheckpointError(f"no intact checkpoint to resume from in {newest.parent} "
                          f"({'; '.join(damaged)}); move the run folder away to train afresh")


def prune_checkpoints(run_dir: Path, keep: int) -> None:
    """Delete all but the ``keep`` newest checkpoints (0 keeps them all)."""
    if keep <= 0:
        return
    folders = sorted((run_dir / "checkpoints").glob("step-*"))
    for folder in folders[:-keep]:
        shutil.rmtree(folder, ignore_errors=True)
