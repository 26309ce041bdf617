"""Classifier two-sample test (C2ST; Lopez-Paz and Oquab 2017): can a small network tell them apart?

A log-mel CNN is trained to tell reference clips from generated ones on half of each set and
scored on the other half; then the halves swap, so every clip is judged once by a classifier
that never saw it. The accuracy over all judged clips estimates how distinguishable the two
sets are: 0.5 is indistinguishable, 1.0 is told apart every time. The interval is the exact
(Clopper-Pearson) binomial interval over the judged clips. Accuracy saturates at 1.0 for
every set that is clearly unlike the reference; the held-out cross-entropy (``log_loss_bits``,
1 at chance, towards 0 the more surely the classifier is right, above 1 when it is surely
wrong) still orders such sets by how far they are.

Clips are split, not patches: the patches of one clip are never on both sides, or the test
would measure how well the network remembers a clip. A clip is judged by the mean logit over its
one-second patches.

The classifier reads 64 mel bands, about the resolution of the 64-band mel models it judges;
copy synthesis through such a model's decoder loses detail below that resolution, which only a
finer reading (``n_mels=FINE_N_MELS``, through a longer window) tells apart.

``levelled`` (the default) brings every clip of both sets to the same RMS first, so that the
test judges what is played and how it sounds, not how loud: a set that is merely too quiet is
otherwise told apart every time (measured: real piano 20 dB down, accuracy 1.0), which hides
every other difference. Loudness is reported on its own beside it. ``levelled=False`` judges
the absolute level too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import librosa
import numpy as np
import torch
from scipy.stats import binomtest
from torch import nn
from torch.nn import functional

N_MELS = 64
FINE_N_MELS = 160
"""Mel bands of the classifier's input: ``N_MELS`` by default, about the resolution of the
64-band mel models, so it judges what they generate; a decoder's losses lie below that
resolution, where only a finer one (``n_mels=FINE_N_MELS``) sees them."""
PATCH_SECONDS = 1.0


@dataclass(frozen=True)
class C2STResult:
    accuracy: float
    ci_low: float
    ci_high: float
    clips: int  # judged clips, half reference and half generated
    levelled: bool
    log_loss_bits: float  # held-out cross-entropy per clip: 1 at chance, 0 when certain
    confidence: float = 0.95

    def as_dict(self) -> dict:
        return {"accuracy": self.accuracy, "ci_low": self.ci_low, "ci_high": self.ci_high,
                "clips": self.clips, "levelled": self.levelled,
                "log_loss_bits": self.log_loss_bits, "confidence": self.confidence}


LEVEL_RMS = 0.1


def level(clips: np.ndarray) -> np.ndarray:
    """Each clip scaled to RMS ``LEVEL_RMS`` (silent clips left silent)."""
    rms = np.sqrt(np.mean(np.square(clips, dtype=np.float64), axis=-1, keepdims=True))
    return (clips * (LEVEL_RMS / np.maximum(rms, 1e-8))).astype(np.float32)


def log_mel_patches(clips: np.ndarray, sample_rate: int, n_mels: int = N_MELS) -> torch.Tensor:
    """``(n, samples)`` -> ``(n, patches, 1, n_mels, frames)``: dB log-mel cut into 1 s patches."""
    hop = max(1, round(sample_rate / 64))  # 64 frames a second at any rate
    # Finer bands read a longer window (finer FFT bins), or they would only share out the
    # same bins between more bands.
    n_fft = 4 * hop * math.ceil(n_mels / N_MELS)
    mel = librosa.feature.melspectrogram(
        y=clips.astype(np.float32), sr=sample_rate, n_fft=n_fft, hop_length=hop,
        n_mels=n_mels, fmin=30.0, fmax=min(8000.0, sample_rate / 2), power=2.0)
    db = 10 * np.log10(np.maximum(mel, 1e-10))  # absolute: no per-clip reference level
    frames = round(PATCH_SECONDS * 64)
    count = db.shape[-1] // frames
    if count == 0:
        raise ValueError(f"C2ST needs clips of at least {PATCH_SECONDS:g} s")
    patches = db[..., : count * frames].reshape(*db.shape[:-1], count, frames)
    patches = np.moveaxis(patches, -2, 1)  # (n, patches, n_mels, frames)
    # A fixed affine map to about unit scale; the same for both sets.
    return torch.from_numpy((patches[:, :, None] + 40.0) / 40.0).float()


class PatchClassifier(nn.Module):
    """Three strided conv blocks, global average, one logit: trains in seconds on a CPU."""

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 1
        for multiple in (1, 2, 4):
            layers += [nn.Conv2d(channels, width * multiple, 3, stride=2, padding=1),
                       nn.GroupNorm(4, width * multiple), nn.ReLU()]
            channels = width * multiple
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3))).squeeze(-1)


def _train(patches: torch.Tensor, labels: torch.Tensor, steps: int, seed: int) -> nn.Module:
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # the network's initial weights
    network = PatchClassifier()
    optimizer = torch.optim.AdamW(network.parameters(), lr=2e-3, weight_decay=1e-3)
    batch = min(64, len(patches))
    for _ in range(steps):
        index = torch.randint(len(patches), (batch,), generator=generator)
        loss = functional.binary_cross_entropy_with_logits(network(patches[index]),
                                                           labels[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return network.eval()


def c2st(
    reference: np.ndarray,
    generated: np.ndarray,
    sample_rate: int,
    *,
    seed: int = 0,
    steps: int = 300,
    levelled: bool = True,
    n_mels: int = N_MELS,
) -> C2STResult:
    """Two-fold C2ST accuracy of telling ``generated`` ``(n, samples)`` from ``reference``.

    The larger set is subsampled (seeded) to the size of the smaller, so chance is 0.5. Needs at
    least 4 clips in each set (two to train on and two to judge in each fold).
    """
    count = min(len(reference), len(generated))
    if count < 4:
        raise ValueError(f"C2ST needs at least 4 clips in each set, got {len(reference)} "
                         f"reference and {len(generated)} generated")
    rng = np.random.default_rng(seed)
    sets = [x[np.sort(rng.permutation(len(x))[:count])] for x in (reference, generated)]
    if levelled:
        sets = [level(x) for x in sets]
    patches = [log_mel_patches(x, sample_rate, n_mels) for x in sets]
    halves = [rng.permutation(count) % 2 for _ in sets]  # fold of each clip, balanced
    correct = 0
    judged = 0
    log_loss = 0.0
    with torch.enable_grad():
        for fold in (0, 1):
            train_x, train_y, test = [], [], []
            for label, (clips, half) in enumerate(zip(patches, halves, strict=True)):
                train_clips = clips[torch.from_numpy(half != fold)]
                train_x.append(train_clips.flatten(0, 1))
                train_y.append(torch.full((train_x[-1].shape[0],), float(label)))
                test.append((label, clips[torch.from_numpy(half == fold)]))
            network = _train(torch.cat(train_x), torch.cat(train_y), steps, seed + fold)
            with torch.no_grad():
                for label, clips in test:
                    logits = network(clips.flatten(0, 1)).reshape(clips.shape[:2]).mean(dim=1)
                    targets = torch.full_like(logits, float(label))
                    correct += int(((logits > 0).float() == label).sum())
                    log_loss += float(functional.binary_cross_entropy_with_logits(
                        logits, targets, reduction="sum"))
                    judged += len(clips)
    interval = binomtest(correct, judged).proportion_ci(0.95, method="exact")
    return C2STResult(correct / judged, float(interval.low), float(interval.high), judged,
                      levelled, float(log_loss / judged / np.log(2)))
