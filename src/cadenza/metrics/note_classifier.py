"""cadenza's note classifier: the network, its folder on disk and its ``Embedder``.

- ``NoteClassifier``: one second of audio → log-mel (96 bands) → four 3x3 conv blocks (batch
  norm, ReLU, 2x2 max-pool) → mean over time → a 128-d embedding (the penultimate layer) →
  logits. About 0.1 M parameters.
- A classifier folder: ``classifier.json`` (the network's config, its labels and the training
  summary), ``classifier.safetensors`` and ``log.csv``; ``save_classifier`` writes one,
  ``load_classifier`` reads it, ``shipped_classifier`` finds the ones inside the package.
- ``ClassifierEmbedder``: the ``Embedder`` for the metrics. A clip longer than the window is
  cut into windows (hop half a window, the last one ending at the clip's end); its embedding
  is the mean of the windows' embeddings and its ``probabilities`` the mean of the windows'
  softmax. A shorter clip is padded with silence.

Training lives in ``cadenza.metrics.classifier_training``.
"""

from __future__ import annotations

import csv
import io
import json
import os
from importlib import resources
from pathlib import Path
from typing import ClassVar

import librosa
import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional

from cadenza.atomic import replacing_folder
from cadenza.checkpoint import CheckpointError, load_tensors, read_json, save_tensors
from cadenza.data import audio
from cadenza.metrics.arrays import as_clips, sliding_windows
from cadenza.networks.common import ConfigMixin, int_tuple, positive

TARGETS = ("pitch", "instrument")
CONFIG_FILE, WEIGHTS_FILE, LOG_FILE = "classifier.json", "classifier.safetensors", "log.csv"
LOG_FIELDS = ("step", "loss", "train_accuracy", "validation_loss", "validation_accuracy",
              "seconds")


# ------------------------------------------------------------------------------ network


class NoteClassifier(ConfigMixin, nn.Module):
    """Waves ``(batch, samples)`` at ``sample_rate`` → logits ``(batch, len(labels))``."""

    name: ClassVar[str] = "note_classifier"
    config_keys = ("target", "labels", "sample_rate", "window_seconds", "n_fft", "hop_length",
                   "n_mels", "f_min", "channels", "embedding", "log_mel_mean", "log_mel_std")

    def __init__(
        self, target: str, labels: list[str], sample_rate: int = 16000,
        window_seconds: float = 1.0, n_fft: int = 2048, hop_length: int = 256, n_mels: int = 96,
        f_min: float = 30.0, channels: tuple[int, ...] = (16, 32, 64, 64), embedding: int = 128,
        log_mel_mean: float = 0.0, log_mel_std: float = 1.0,
    ) -> None:
        super().__init__()
        if target not in TARGETS or len(labels) < 2:
            raise ValueError(f"target must be one of {TARGETS} with >= 2 labels")
        self.target, self.labels = target, [str(label) for label in labels]
        self.sample_rate, self.window_seconds = positive("sample_rate", sample_rate), window_seconds
        self.n_fft, self.hop_length = positive("n_fft", n_fft), positive("hop_length", hop_length)
        self.n_mels, self.f_min = positive("n_mels", n_mels), float(f_min)
        self.channels, self.embedding = int_tuple("channels", channels), embedding
        self.log_mel_mean, self.log_mel_std = float(log_mel_mean), float(log_mel_std)
        mel = librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=f_min)
        self.register_buffer("mel_basis", torch.from_numpy(mel).float(), persistent=False)
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        blocks, width = [], 1
        for out in self.channels:
            blocks += [nn.Conv2d(width, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU(),
                       nn.MaxPool2d(2)]
            width = out
        self.blocks = nn.Sequential(*blocks)
        bands = n_mels // 2 ** len(self.channels)  # frequency stays: pitch is where energy is
        self.project = nn.Linear(width * bands, positive("embedding", embedding))
        self.dropout = nn.Dropout(0.2)
        self.head = nn.Linear(embedding, len(self.labels))

    def log_mel(self, waves: Tensor) -> Tensor:
        """``(batch, samples)`` → standardised natural-log mel ``(batch, 1, n_mels, frames)``."""
        spectrum = torch.stft(waves, self.n_fft, self.hop_length, window=self.window,
                              center=True, return_complex=True).abs()
        log_mel = torch.log(torch.clamp(self.mel_basis @ spectrum, min=1e-5))
        return ((log_mel - self.log_mel_mean) / self.log_mel_std)[:, None]

    def embed(self, waves: Tensor) -> Tensor:
        """The penultimate layer ``(batch, embedding)``, non-negative (after ReLU)."""
        features = self.blocks(self.log_mel(waves)).mean(dim=3)  # mean over time
        return functional.relu(self.project(features.flatten(1)))

    def forward(self, waves: Tensor) -> Tensor:
        return self.head(self.dropout(self.embed(waves)))

    @property
    def window_samples(self) -> int:
        return round(self.window_seconds * self.sample_rate)


# ------------------------------------------------------------------------------ files


def save_classifier(model: NoteClassifier, folder: str | os.PathLike, training: dict,
                    log: list[dict]) -> Path:
    """Write the classifier folder atomically (a crash leaves the old folder or none)."""
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=LOG_FIELDS)
    writer.writeheader()
    writer.writerows(log)
    with replacing_folder(folder) as staging:
        text = json.dumps({"network": model.config(), "training": training}, indent=1)
        (staging / CONFIG_FILE).write_text(text + "\n")
        (staging / LOG_FILE).write_text(table.getvalue())
        save_tensors(staging / WEIGHTS_FILE, model.state_dict())
        # safetensors makes its file private (0600); shipped weights must be readable by all.
        os.chmod(staging / WEIGHTS_FILE, (staging / CONFIG_FILE).stat().st_mode)
    return Path(folder)


def load_classifier(path: str | os.PathLike, device: str | torch.device = "cpu"
                    ) -> NoteClassifier:
    """A classifier folder written by ``train_classifier``, in eval mode.

    Its ``training_summary`` is the training summary (data, steps, seed, accuracies).
    A missing or damaged folder is a ``CheckpointError``.
    """
    path = Path(path)
    config = read_json(path / CONFIG_FILE)
    try:
        model = NoteClassifier(**config["network"])
        model.load_state_dict(load_tensors(path / WEIGHTS_FILE))
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        if isinstance(error, CheckpointError):
            raise
        raise CheckpointError(f"{path}: inconsistent classifier files ({error})") from None
    model.training_summary = config.get("training", {})
    return model.to(device).eval()


def shipped_classifier(target: str = "pitch") -> Path:
    """The folder of the classifier shipped inside the package for ``target``."""
    if target not in TARGETS:
        raise ValueError(f"unknown classifier target {target!r}; choose {', '.join(TARGETS)}")
    folder = Path(str(resources.files("cadenza") / "models" / f"classifier-{target}"))
    if not (folder / CONFIG_FILE).exists():
        raise CheckpointError(f"the shipped {target} classifier is missing from this installation")
    return folder


# ------------------------------------------------------------------------------ embedder


class ClassifierEmbedder:
    """A trained classifier as an ``Embedder``: penultimate-layer embeddings and softmax.

    ``target`` picks the shipped pitch or instrument classifier; ``path`` a folder of one's own
    instead, or ``model`` one in memory. ``sample_rate`` is the rate of the clips it will be
    given (default: the classifier's own, 16 kHz); other rates are resampled. ``hop_seconds``
    is the hop between windows of clips longer than the classifier's window (default: half a
    window).
    """

    name = "classifier"

    def __init__(self, target: str = "pitch", path: str | os.PathLike | None = None,
                 sample_rate: int | None = None, hop_seconds: float | None = None,
                 batch_size: int = 64, device: str | torch.device = "cpu",
                 model: NoteClassifier | None = None) -> None:
        if model is not None:
            self.path, self.model = None, model.to(device)
        else:
            self.path = Path(path) if path is not None else shipped_classifier(target)
            self.model = load_classifier(self.path, device)
        self.target, self.labels = self.model.target, self.model.labels
        self.sample_rate = int(sample_rate or self.model.sample_rate)
        self.hop_seconds = hop_seconds or self.model.window_seconds / 2
        self.batch_size, self.device = int(batch_size), device

    @property
    def dim(self) -> int:
        return self.model.embedding

    def embed(self, clips: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings ``(n, dim)`` and class probabilities ``(n, classes)`` in one pass."""
        clips = as_clips(clips)
        if self.sample_rate != self.model.sample_rate:
            clips = audio.resample(clips, self.sample_rate, self.model.sample_rate)
        window = self.model.window_samples
        windows = sliding_windows(clips, window, round(self.hop_seconds * self.model.sample_rate))
        n, count, length = windows.shape
        flat = np.pad(windows.reshape(n * count, length), ((0, 0), (0, window - length)))
        embeddings, probabilities = [], []
        with torch.inference_mode():
            for start in range(0, len(flat), self.batch_size):
                batch = torch.from_numpy(flat[start:start + self.batch_size]).float()
                embedding = self.model.embed(batch.to(self.device))
                embeddings.append(embedding.double().cpu().numpy())
                probabilities.append(self.model.head(embedding).double().softmax(1).cpu().numpy())
        embedding = np.concatenate(embeddings).reshape(n, count, -1).mean(axis=1)
        probability = np.concatenate(probabilities).reshape(n, count, -1).mean(axis=1)
        return embedding, probability / probability.sum(axis=1, keepdims=True)

    def __call__(self, clips: np.ndarray) -> np.ndarray:
        """Clip embeddings ``(n, dim)``: the mean of the windows' penultimate layers."""
        return self.embed(clips)[0]

    def probabilities(self, clips: np.ndarray) -> np.ndarray:
        """Class probabilities ``(n, classes)`` (columns: ``labels``), averaged over windows."""
        return self.embed(clips)[1]

    def predict(self, clips: np.ndarray) -> list[str]:
        """The most probable label of each clip."""
        return [self.labels[i] for i in self.probabilities(clips).argmax(axis=1)]

    def __repr__(self) -> str:
        path = "<in memory>" if self.path is None else str(self.path)
        return (f"ClassifierEmbedder(target={self.target!r}, path={path!r}, "
                f"sample_rate={self.sample_rate}, hop_seconds={self.hop_seconds:g})")
