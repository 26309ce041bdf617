"""Training cadenza's note classifiers on the labelled note set (``cadenza data notes``).

``train_classifier`` trains one on the note set's train split (notes cut short, random
one-second crops around the onset, random gain, a little noise), measures it on the
validation and test splits, and saves a classifier folder (``save_classifier``).

It has its own loop rather than the ``Trainer``'s because the Trainer trains on unlabelled
examples through a diffusion objective's ``loss(network, x0, generator)`` with warm-up, EMA
and checkpoints, while this needs labels, fresh numpy augmentation per batch and validation
every ``eval_every`` steps, and a changed recipe would no longer be the one the shipped
classifiers were trained with.
"""

from __future__ import annotations

import csv
import json
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional
from tqdm.auto import tqdm

from cadenza.data import audio
from cadenza.metrics.note_classifier import (
    TARGETS,
    ClassifierEmbedder,
    NoteClassifier,
    save_classifier,
)


def read_note_set(notes_dir: str | os.PathLike, target: str, sample_rate: int
                  ) -> tuple[list[str], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Labels and, per split, waves ``(n, samples)`` float32 at ``sample_rate`` with their
    label indices, from a folder written by ``build_note_set``."""
    if target not in TARGETS:
        raise ValueError(f"unknown classifier target {target!r}; choose {', '.join(TARGETS)}")
    notes_dir = Path(notes_dir)
    try:
        with open(notes_dir / "labels.csv", newline="") as file:
            rows = list(csv.DictReader(file))
    except OSError as error:
        raise ValueError(f"{notes_dir}: not a note set ({error.strerror}: labels.csv); "
                         "make one with `cadenza data notes`") from None
    values = [row[target] for row in rows]
    labels = (sorted(set(values), key=int) if target == "pitch"
              else list(dict.fromkeys(values)))  # instruments in the note set's order
    splits: dict[str, tuple[list, list]] = {}
    for row, value in zip(rows, values, strict=True):
        wave, _ = audio.load(notes_dir / row["path"], sample_rate, channels=1)
        waves, indices = splits.setdefault(row["split"], ([], []))
        waves.append(wave[0])
        indices.append(labels.index(value))
    length = max(len(w) for waves, _ in splits.values() for w in waves)
    return labels, {name: (np.stack([np.pad(w, (0, length - len(w))) for w in waves]),
                           np.array(indices)) for name, (waves, indices) in splits.items()}


def augment(waves: np.ndarray, window: int, sample_rate: int, rng: np.random.Generator
            ) -> np.ndarray:
    """Notes (struck at 0 s) → training crops: half of the notes cut short (released at
    0.1..1.5 s with a 30..300 ms decay, as in quick passages), random ``window``-long crops
    starting from 0.25 s before the onset to anywhere after it, gain of -18..+6 dB, and white
    noise at -80..-50 dBFS on half of them."""
    column = (len(waves), 1)
    after = np.arange(waves.shape[1]) / sample_rate - rng.uniform(0.1, 1.5, column)
    release = np.exp(-np.clip(after, 0, None) / rng.uniform(0.03, 0.3, column))
    waves = np.where(rng.random(column) < 0.5, waves * release, waves)
    lead = round(0.25 * sample_rate)
    padded = np.pad(waves, ((0, 0), (lead, max(0, window - waves.shape[1]))))
    starts = rng.integers(0, padded.shape[1] - window + 1, len(waves))
    crops = np.stack([row[s:s + window] for row, s in zip(padded, starts, strict=True)])
    crops = crops * 10 ** (rng.uniform(-18, 6, column) / 20)
    noise = 10 ** (rng.uniform(-80, -50, column) / 20) * (rng.random(column) < 0.5)
    return (crops + noise * rng.standard_normal(crops.shape)).astype(np.float32)


def _evaluate(embedder: ClassifierEmbedder, waves: np.ndarray, targets: np.ndarray
              ) -> tuple[float, float, dict[str, int]]:
    """Loss, accuracy and mistakes (``"true -> predicted": count``) of whole notes, windowed
    as the embedder windows any clip."""
    embedder.model.eval()
    probabilities = embedder.probabilities(waves)
    embedder.model.train()
    loss = -np.log(np.maximum(probabilities[np.arange(len(targets)), targets], 1e-12)).mean()
    predicted = probabilities.argmax(axis=1)
    labels = embedder.labels
    mistakes: dict[str, int] = {}
    for true, guess in zip(targets, predicted, strict=True):
        if true != guess:
            key = f"{labels[true]} -> {labels[guess]}"
            mistakes[key] = mistakes.get(key, 0) + 1
    return float(loss), float((predicted == targets).mean()), dict(sorted(mistakes.items()))


def train_classifier(
    notes_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    target: str = "pitch",
    steps: int = 1500,
    seed: int = 0,
    batch_size: int = 32,
    learning_rate: float = 3e-3,
    sample_rate: int = 16000,
    window_seconds: float = 1.0,
    channels: tuple[int, ...] = (16, 32, 64, 64),
    embedding: int = 128,
    n_mels: int = 96,
    eval_every: int = 100,
    progress: bool = True,
) -> dict:
    """Train a ``target`` classifier on a note set's train split; save it to ``out_dir``.

    AdamW with a cosine learning-rate decay and label smoothing 0.05; whole validation and
    test notes are classified every ``eval_every`` steps and at the end (``log.csv``). Returns
    the training summary (also in ``classifier.json``): accuracies, sizes, time, settings.
    """
    if steps < 1 or batch_size < 1:
        raise ValueError("steps and batch_size must be positive")
    started = time.perf_counter()
    labels, splits = read_note_set(notes_dir, target, sample_rate)
    if "train" not in splits or "validation" not in splits:
        raise ValueError(f"{notes_dir}: the note set needs train and validation notes")
    train_waves, train_targets = splits["train"]
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = NoteClassifier(target, labels, sample_rate, window_seconds, n_mels=n_mels,
                           channels=channels, embedding=embedding)
    with torch.no_grad():  # standardise the input with the training notes' log-mel statistics
        log_mel = model.log_mel(torch.from_numpy(train_waves).float())
        model.log_mel_mean, model.log_mel_std = log_mel.mean().item(), log_mel.std().item()
    embedder = ClassifierEmbedder(model=model)  # measures notes as any clip will be measured
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, steps) / steps)))
    model.train()
    log, losses, hits = [], [], []
    for step in tqdm(range(1, steps + 1), desc=f"{target} classifier", disable=not progress):
        chosen = rng.integers(0, len(train_waves), batch_size)
        batch = augment(train_waves[chosen], model.window_samples, sample_rate, rng)
        logits = model(torch.from_numpy(batch))
        answer = torch.from_numpy(train_targets[chosen])
        loss = functional.cross_entropy(logits, answer, label_smoothing=0.05)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        hits.append((logits.argmax(1) == answer).float().mean().item())
        if step % eval_every == 0 or step == steps:
            validation_loss, validation_accuracy, mistakes = _evaluate(
                embedder, *splits["validation"])
            log.append({"step": step, "loss": round(float(np.mean(losses)), 5),
                        "train_accuracy": round(float(np.mean(hits)), 4),
                        "validation_loss": round(validation_loss, 5),
                        "validation_accuracy": round(validation_accuracy, 4),
                        "seconds": round(time.perf_counter() - started, 1)})
            losses, hits = [], []
    test = _evaluate(embedder, *splits["test"]) if "test" in splits else None
    model.eval()
    summary = {
        "notes_dir": str(notes_dir),
        "note_set": _note_set_facts(Path(notes_dir)),
        "notes_per_split": {name: len(waves) for name, (waves, _) in splits.items()},
        "steps": steps, "seed": seed, "batch_size": batch_size, "learning_rate": learning_rate,
        "parameters": sum(p.numel() for p in model.parameters()),
        "validation_accuracy": log[-1]["validation_accuracy"],
        "validation_loss": log[-1]["validation_loss"],
        "validation_mistakes": mistakes,
        "test_accuracy": None if test is None else round(test[1], 4),
        "test_mistakes": None if test is None else test[2],
        "chance": round(1 / len(labels), 4),
        "seconds": round(time.perf_counter() - started, 1),
        "torch": torch.__version__,
    }
    save_classifier(model, out_dir, summary, log)
    return summary


def _note_set_facts(notes_dir: Path) -> dict[str, Any]:
    try:
        facts = json.loads((notes_dir / "note_set.json").read_text())
    except (OSError, ValueError):
        return {}
    keep = ("files", "files_per_split", "renderer", "soundfont", "seed", "sample_rate",
            "seconds", "split_fractions")
    return {key: facts.get(key) for key in keep}
