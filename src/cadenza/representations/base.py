"""The representation interface, and the frame arithmetic of centred STFTs."""

from __future__ import annotations

from typing import Any, ClassVar

from torch import Tensor, nn


class Representation(nn.Module):
    """Wave ``(batch, channels, samples)`` <-> tensor whose last axis is time.

    ``frames_per_second`` is the rate of that time axis, so code above this layer can work in
    seconds. ``config()`` rebuilds the representation through ``representation(**config)``;
    fitted statistics, if any, live in ``state_dict()``.
    """

    kind: ClassVar[str]

    def __init__(self, sample_rate: int) -> None:
        super().__init__()
        self.sample_rate = int(sample_rate)

    @property
    def frames_per_second(self) -> float:
        raise NotImplementedError

    def frames(self, samples: int) -> int:
        """Length of the time axis that ``encode`` gives for a clip of ``samples`` samples."""
        raise NotImplementedError

    def samples_for_frames(self, frames: int) -> int:
        """The clip length that encodes to exactly ``frames`` frames and decodes to itself."""
        raise NotImplementedError

    def samples_for(self, seconds: float) -> int:
        return round(seconds * self.sample_rate)

    def frames_for(self, seconds: float) -> int:
        return self.frames(self.samples_for(seconds))

    def encode(self, wave: Tensor) -> Tensor:
        raise NotImplementedError

    def decode(self, tensor: Tensor, samples: int | None = None,
               vocoder: nn.Module | None = None) -> Tensor:
        """Back to ``(batch, channels, samples)``; ``samples`` crops or zero-pads the end.
        ``vocoder`` is a network trained to decode this representation (mel only)."""
        raise NotImplementedError

    def forward(self, wave: Tensor) -> Tensor:
        return self.encode(wave)

    def config(self) -> dict[str, Any]:
        return {"kind": self.kind, "sample_rate": self.sample_rate}

    def _refuse_vocoder(self, vocoder: nn.Module | None) -> None:
        if vocoder is not None:
            raise ValueError(f"a {self.kind} representation decodes exactly; it takes no vocoder")

    @staticmethod
    def _check_wave(wave: Tensor) -> None:
        if wave.dim() != 3:
            raise ValueError(f"expected a wave (batch, channels, samples), got {tuple(wave.shape)}")


class CentredFrames(Representation):
    """The time axis of a centred STFT: one frame per hop, plus one."""

    hop_length: int

    @property
    def frames_per_second(self) -> float:
        return self.sample_rate / self.hop_length

    def frames(self, samples: int) -> int:
        return samples // self.hop_length + 1

    def samples_for_frames(self, frames: int) -> int:
        return (frames - 1) * self.hop_length
