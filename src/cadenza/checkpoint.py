"""Checkpoints: a folder of safetensors files plus JSON, written atomically, checked on load.

A training checkpoint ``step-0000100/`` holds ``model.safetensors``, ``ema.safetensors``,
``optimizer.safetensors`` (the optimizer state flattened to tensors; its param groups in the
metadata), ``rng.safetensors`` and ``state.json`` (step, scheduler, data position, config).
The folder is assembled under a temporary name and renamed when complete, so a crash leaves
either the old checkpoint or the new one, never half of one. ``latest`` names the newest.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from cadenza.atomic import replacing, replacing_folder, write_text


class CheckpointError(ValueError):
    """A missing, truncated or foreign checkpoint; the message says which file and why."""


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


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The newest complete checkpoint of a run, or None if it has none."""
    pointer = run_dir / "checkpoints" / "latest"
    if not pointer.exists():
        return None
    folder = run_dir / "checkpoints" / pointer.read_text().strip()
    if not (folder / "state.json").exists():
        raise CheckpointError(f"{folder}: the latest checkpoint is incomplete or missing")
    return folder


def prune_checkpoints(run_dir: Path, keep: int) -> None:
    """Delete all but the ``keep`` newest checkpoints (0 keeps them all)."""
    if keep <= 0:
        return
    folders = sorted((run_dir / "checkpoints").glob("step-*"))
    for folder in folders[:-keep]:
        shutil.rmtree(folder, ignore_errors=True)
