"""Embedders: clips ``(n, samples)`` at the embedder's sample rate → embeddings ``(n, dim)``.

Distances such as FAD and KID are only as meaningful as the embedding they are computed on, so
embedders are pluggable: anything with a ``name``, a ``sample_rate`` and ``__call__(clips)``
is an ``Embedder``. Clips must already be at ``sample_rate`` (resample with
``cadenza.data.audio.resample``).

``MelStats`` needs no model: per-frame log-mel, MFCC, chroma and spectral shape (centroid,
bandwidth, flatness, roll-off), summarised per clip by their mean and standard deviation. It
is cheap and deterministic; it sees timbre, loudness and harmony but not musical structure,
and its numbers are not comparable with FAD computed on VGGish or CLAP.

``classifier`` is cadenza's own pitch or instrument classifier, trained on the labelled note
set and shipped with the package (``cadenza.metrics.classifier``): the penultimate layer of a
small log-mel CNN, and its class probabilities for the inception score (PIS, IIS).

Third-party models (VGGish, CLAP, PANNs, EnCodec) are never downloaded by cadenza:
``third_party`` explains how they can be brought in.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, Protocol, runtime_checkable

import librosa
import numpy as np

from cadenza.metrics.arrays import as_clips

THIRD_PARTY_MODELS = ("vggish", "clap", "panns", "encodec")
_PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


@runtime_checkable
class Embedder(Protocol):
    """Clips ``(n, samples)`` at ``sample_rate`` → one embedding per clip ``(n, dim)``."""

    name: str
    sample_rate: int

    def __call__(self, clips: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class FrameEmbedder(Embedder, Protocol):
    """An embedder that also gives its per-frame features ``(n, frames, dim)``."""

    def frames(self, clips: np.ndarray) -> np.ndarray: ...


class ThirdPartyModelError(RuntimeError):
    """A third-party embedding model that cadenza cannot load here; the message says why."""


class MelStats:
    """Model-free clip embedding: mean and std over frames of log-mel, MFCC, chroma, shape.

    Per frame: ``n_mels`` log-mel values (natural log of the magnitude mel, floor 1e-5, as in
    ``cadenza.representations.Mel``), ``n_mfcc`` MFCCs, 12 chroma values, and the logs of the
    spectral centroid, bandwidth and roll-off (Hz) and of the spectral flatness. Logs keep every
    feature on a scale of a few units, so no single feature dominates distances through its
    units. The clip embedding is ``[mean over frames, std over frames]``, ``2 · frame_dim``.

    ``top_db``: if set, spectrogram bins more than ``top_db`` below the clip's peak are zeroed
    before any feature, so low-level noise and artefacts are ignored (copy detection); left
    unset, everything counts (quality metrics, which should notice added noise).
    """

    name = "mel_stats"

    def __init__(
        self,
        sample_rate: int = 22050,
        n_fft: int = 2048,
        hop_length: int = 512,
        n_mels: int = 64,
        n_mfcc: int = 20,
        batch_size: int = 16,
        top_db: float | None = None,
    ) -> None:
        self.sample_rate = int(sample_rate)
        self.n_fft, self.hop_length = int(n_fft), int(hop_length)
        self.n_mels, self.n_mfcc = int(n_mels), int(n_mfcc)
        self.batch_size = int(batch_size)
        self.top_db = None if top_db is None else float(top_db)
        self._mel_basis = librosa.filters.mel(sr=self.sample_rate, n_fft=self.n_fft,
                                              n_mels=self.n_mels)

    @property
    def frame_names(self) -> list[str]:
        return [
            *(f"log_mel_{i}" for i in range(self.n_mels)),
            *(f"mfcc_{i}" for i in range(self.n_mfcc)),
            *(f"chroma_{name}" for name in _PITCH_CLASSES),
            "log_centroid", "log_bandwidth", "log_flatness", "log_rolloff",
        ]

    @property
    def names(self) -> list[str]:
        """What each dimension of a clip embedding is."""
        return [f"{stat}:{name}" for stat in ("mean", "std") for name in self.frame_names]

    @property
    def dim(self) -> int:
        return 2 * len(self.frame_names)

    def _frames(self, clips: np.ndarray) -> np.ndarray:
        magnitude = np.abs(librosa.stft(clips, n_fft=self.n_fft, hop_length=self.hop_length))
        if self.top_db is not None:
            peak = magnitude.max(axis=(1, 2), keepdims=True)
            magnitude = np.where(magnitude >= peak * 10 ** (-self.top_db / 20), magnitude, 0.0)
        power = magnitude**2
        mel = self._mel_basis @ magnitude  # broadcasts over clips; einsum is far slower
        mel_power = self._mel_basis @ power
        mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel_power, top_db=None),
                                    n_mfcc=self.n_mfcc)
        # tuning=0: an estimated tuning would make a clip's features depend on its batch.
        chroma = librosa.feature.chroma_stft(S=power, sr=self.sample_rate, n_fft=self.n_fft,
                                             tuning=0.0)
        shape = [
            librosa.feature.spectral_centroid(S=magnitude, sr=self.sample_rate),
            librosa.feature.spectral_bandwidth(S=magnitude, sr=self.sample_rate),
            librosa.feature.spectral_flatness(S=magnitude),
            librosa.feature.spectral_rolloff(S=magnitude, sr=self.sample_rate),
        ]
        # Silent frames have centroid 0 and flatness 0: floor them before the log.
        floors = (1.0, 1.0, 1e-10, 1.0)
        shape = [np.log(np.maximum(v, floor)) for v, floor in zip(shape, floors, strict=True)]
        features = np.concatenate([np.log(np.maximum(mel, 1e-5)), mfcc, chroma, *shape], axis=1)
        return features.transpose(0, 2, 1)

    def frames(self, clips: np.ndarray) -> np.ndarray:
        """Per-frame features ``(n, frames, len(frame_names))``, float64."""
        clips = as_clips(clips)
        # Batches bound the memory of the STFTs of many long clips.
        return np.concatenate([
            self._frames(clips[start:start + self.batch_size])
            for start in range(0, len(clips), self.batch_size)
        ])

    def __call__(self, clips: np.ndarray) -> np.ndarray:
        """Clip embeddings ``(n, dim)``: mean then std of the frame features."""
        frames = self.frames(clips)
        return np.concatenate([frames.mean(axis=1), frames.std(axis=1)], axis=1)

    def __repr__(self) -> str:
        return (f"MelStats(sample_rate={self.sample_rate}, n_fft={self.n_fft}, "
                f"hop_length={self.hop_length}, n_mels={self.n_mels}, n_mfcc={self.n_mfcc}, "
                f"top_db={self.top_db})")


def _classifier(**options) -> Embedder:
    # torch loads only when a classifier is asked for.
    from cadenza.metrics.classifier import ClassifierEmbedder

    return ClassifierEmbedder(**options)


EMBEDDERS: dict[str, Callable[..., Embedder]] = {"mel_stats": MelStats, "classifier": _classifier}


TORCHSCRIPT_SUFFIXES = (".pt", ".pth", ".ts", ".torchscript")
EXPORT_SUFFIXES = (".pt2",)  # torch.export.save's archives
MODEL_FILE_SUFFIXES = TORCHSCRIPT_SUFFIXES + EXPORT_SUFFIXES


class TorchModelEmbedder:
    """An embedding model saved from PyTorch, loaded from a local file: the way to use
    VGGish, PANNs, CLAP's audio tower or EnCodec's encoder without cadenza knowing their code.

    The model takes float32 clips ``(n, samples)`` at ``sample_rate`` and returns ``(n, dim)``,
    or ``(n, frames, dim)``, which is averaged over frames (as FAD does with VGGish frames).
    Subclasses load the file into ``self.model`` (a callable on a tensor); ``batch`` is the
    number of clips the model must be given at once, when its export fixed it.
    """

    kind = "PyTorch"

    def __init__(self, path: str | os.PathLike, sample_rate: int = 16000, *,
                 name: str | None = None, batch_size: int = 16):
        path = Path(path)
        if not path.is_file():
            raise ThirdPartyModelError(f"{path}: no such {self.kind} file")
        self.path = path
        self.name = name or f"{self.kind.lower().replace(' ', '_')}:{path.stem}"
        self.sample_rate = int(sample_rate)
        self.batch_size = batch_size
        self.batch: int | None = None  # set by a loader whose model takes a fixed batch
        self.samples: int | None = None  # likewise for a fixed clip length
        self.model: Callable = self.load(path)

    def load(self, path: Path) -> Callable:
        raise NotImplementedError

    def __call__(self, clips: np.ndarray) -> np.ndarray:
        import torch

        clips = np.asarray(clips, dtype=np.float32)
        if self.samples is not None and clips.shape[-1] != self.samples:
            raise ThirdPartyModelError(
                f"{self.name}: the export takes clips of exactly {self.samples} samples "
                f"({self.samples / self.sample_rate:g} s at {self.sample_rate} Hz), got "
                f"{clips.shape[-1]}; export it with a dynamic length or choose that clip length")
        size = self.batch or self.batch_size
        parts = []
        with torch.no_grad():
            for start in range(0, len(clips), size):
                chunk = clips[start:start + size]
                count = len(chunk)
                if self.batch is not None and count < size:  # a fixed batch: pad, then drop
                    chunk = np.concatenate([chunk, np.zeros((size - count, *chunk.shape[1:]),
                                                            dtype=np.float32)])
                out = self.model(torch.from_numpy(chunk))[:count]
                out = out.double().numpy()
                parts.append(out.mean(axis=1) if out.ndim == 3 else out)
        embeddings = np.concatenate(parts)
        if embeddings.ndim != 2 or len(embeddings) != len(clips):
            raise ThirdPartyModelError(
                f"{self.name}: expected (n, dim) or (n, frames, dim) outputs for {len(clips)} "
                f"clips, got shape {embeddings.shape}")
        return embeddings

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, sample_rate={self.sample_rate})"


class TorchScriptEmbedder(TorchModelEmbedder):
    """A TorchScript export (``torch.jit.trace(wrapper, example).save("vggish.pt")``); kept
    while torch still loads TorchScript (deprecated since torch 2.13: prefer ``.pt2``)."""

    kind = "TorchScript"

    def load(self, path: Path) -> Callable:
        import torch

        try:
            return torch.jit.load(str(path), map_location="cpu").eval()
        except (RuntimeError, ValueError) as error:
            raise ThirdPartyModelError(f"{path}: not a TorchScript model ({error})") from None


class ExportedProgramEmbedder(TorchModelEmbedder):
    """A ``torch.export`` program (``.pt2``), e.g.
    ``torch.export.save(torch.export.export(wrapper, (example,), dynamic_shapes=...), "m.pt2")``.

    Export the batch (and clip length) dimension as dynamic (``torch.export.Dim``); a program
    exported with a fixed batch is fed batches of that size (the last one zero-padded), and
    one with a fixed length refuses clips of another length with a message saying so.
    """

    kind = "torch.export"

    def load(self, path: Path) -> Callable:
        import zipfile

        import torch

        # torch.export.load logs a long traceback before raising on a non-archive: check first.
        if not zipfile.is_zipfile(path):
            raise ThirdPartyModelError(f"{path}: not a torch.export program (not a .pt2 archive)")
        try:
            program = torch.export.load(str(path))
        except (RuntimeError, ValueError, KeyError) as error:
            raise ThirdPartyModelError(
                f"{path}: not a torch.export program ({error})") from None
        inputs = [node for node in program.graph.nodes if node.op == "placeholder"
                  and node.name in program.graph_signature.user_inputs]
        if len(inputs) != 1:
            raise ThirdPartyModelError(
                f"{path}: the program takes {len(inputs)} inputs; an embedder takes one, the "
                "clips (n, samples)")
        shape = getattr(inputs[0].meta.get("val"), "shape", ())
        if len(shape) == 2:  # a plain int is a dimension fixed at export, a SymInt is dynamic
            self.batch = shape[0] if isinstance(shape[0], int) else None
            self.samples = shape[1] if isinstance(shape[1], int) else None
        return program.module()


def third_party(path: str | os.PathLike | None, model: str | None = None) -> NoReturn:
    """A third-party embedding model (VGGish, CLAP, PANNs, EnCodec); never downloaded.

    Such models load only from a ``torch.export`` program (``.pt2``) or a TorchScript export
    on disk (``embedder_file``); cadenza has no adapter for their native weight files or for
    ``fadtk``, so for anything else this raises ``ThirdPartyModelError`` with what to do
    instead: export the model with ``torch.export`` (or TorchScript),
    compute the embeddings with the model's own package and pass the arrays to the metrics, or
    implement the ``Embedder`` protocol around the model.
    """
    what = model or "a third-party model"
    where = "no weights path given" if path is None else (
        f"weights at {path}" if Path(path).exists() else f"nothing at {path}"
    )
    fadtk = importlib.util.find_spec("fadtk") is not None
    raise ThirdPartyModelError(
        f"cannot load {what} ({where}). cadenza never downloads embedding models; "
        f"{', '.join(m.upper() for m in THIRD_PARTY_MODELS)} are used only from a local "
        "weights path or through fadtk. "
        + ("fadtk is installed, but cadenza has no fadtk adapter yet. " if fadtk
           else "fadtk is not installed. ")
        + "Export the model with torch.export (or TorchScript) and give the file's path "
        "(--embedder model.pt2 or model.pt), or "
        "compute the embeddings with the model's own package from local weights and pass "
        "the (n, dim) arrays to cadenza.metrics (fad, kid, ...), or wrap the model in a class "
        "with name, sample_rate and __call__(clips) -> (n, dim) (the Embedder protocol). "
        "The model-free embedder 'mel_stats' needs nothing."
    )


def embedder_file(path: str | os.PathLike, sample_rate: int = 16000, *,
                  name: str | None = None) -> TorchModelEmbedder:
    """The embedding model saved at ``path``: a ``.pt2`` is a ``torch.export`` program, any
    other suffix a TorchScript file."""
    if Path(path).suffix.lower() in EXPORT_SUFFIXES:
        return ExportedProgramEmbedder(path, sample_rate, name=name)
    return TorchScriptEmbedder(path, sample_rate, name=name)


def embedder(name: str, **options) -> Embedder:
    """An embedder by name: ``mel_stats`` (options go to ``MelStats``), ``classifier`` (options
    go to ``ClassifierEmbedder``: ``target="pitch"`` or ``"instrument"``, ``path`` of a
    classifier folder, default the shipped one, ``sample_rate`` of the clips); the path of a
    ``torch.export`` program (``.pt2``) or a TorchScript file (``.pt``, ``.ts``, ...) is an
    ``embedder_file`` (option ``model_rate``, the rate it expects, default 16000);
    third-party names (``vggish``, ``clap``, ``panns``, ``encodec``) need such a file as
    option ``path``, else ``third_party`` explains."""
    key = name.lower()
    if key in EMBEDDERS:
        return EMBEDDERS[key](**options)
    if Path(name).suffix.lower() in MODEL_FILE_SUFFIXES:
        return embedder_file(name, options.get("model_rate", 16000))
    if key in THIRD_PARTY_MODELS:
        path = options.get("path")
        if path is not None and Path(path).suffix.lower() in MODEL_FILE_SUFFIXES:
            return embedder_file(path, options.get("model_rate", 16000), name=key)
        return third_party(path, model=key)
    raise ValueError(
        f"unknown embedder {name!r}; choose {', '.join((*EMBEDDERS, *THIRD_PARTY_MODELS))}"
    )
