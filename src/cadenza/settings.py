"""Typed settings with their defaults stated once: how a run trains (``TrainConfig``)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass
class TrainConfig:
    steps: int = 10_000
    batch_size: int = 16  # per process and micro-batch
    grad_accumulation: int = 1
    learning_rate: float = 2e-4
    weight_decay: float = 0.0
    adam_betas: tuple[float, float] = (0.9, 0.999)  # Msanii trains with beta1 = 0.5
    warmup_steps: int = 200
    final_lr_fraction: float = 0.1  # cosine decay ends at this fraction of the peak
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    mixed_precision: str = "no"  # no | bf16 | fp16
    seed: int = 0
    checkpoint_every: int = 500
    keep_checkpoints: int = 3  # the newest N are kept; 0 keeps every one
    log_every: int = 10
    sample_every: int = 0  # 0: never
    max_bad_steps: int = 5
    num_workers: int = 0

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown training option(s) {unknown}; known: {sorted(known)}")
        return cls(**values)
