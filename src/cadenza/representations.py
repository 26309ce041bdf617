"""Representations: what the diffusion model sees instead of raw audio, and the way back.

A representation maps a wave ``(batch, channels, samples)`` float32 to a tensor whose last axis
is time, and back. Four kinds:

- ``waveform``: the samples themselves (DiffWave), optionally scaled.
- ``mel``: log-mel spectrogram with Msanii's scaling (scalar standardisation, then scalar
  min-max to [-1, 1]) whose statistics are fitted as running averages and then frozen; decoded
  by a mel pseudo-inverse and fast Griffin-Lim, or by a vocoder through ``decode_magnitude``.
- ``packed_mel``: the mel of seed 001 folded 1x128x384 -> 3x128x128 by a serpentine packing.
- ``complex_stft``: EDMSound's real/imaginary STFT with amplitude compression; exact inverse.

Every representation states ``frames_per_second`` so that editing and extension speak in
seconds. STFTs are centred (``torch.stft(center=True)``): a clip of ``samples`` gives
``samples // hop_length + 1`` frames, and ``decode`` returns ``(frames - 1) * hop_length``
samples unless told ``samples``; so clips whose length is a multiple of the hop come back at
their own length. Fitted statistics are buffers (saved in ``state_dict``); everything derived
from the config (windows, filterbanks) is rebuilt, not saved. ``representation(**r.config())``
rebuilds ``r`` up to its statistics.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, ClassVar

import librosa
import torch
from torch import Tensor, nn
from torch.nn import functional

KINDS = ("waveform", "mel", "packed_mel", "complex_stft")


# ------------------------------------------------------------------------- STFT plumbing


def _stft(wave: Tensor, n_fft: int, hop_length: int, window: Tensor, pad_mode: str) -> Tensor:
    """Centred complex STFT, batched: ``(..., samples) -> (..., freq, frames)``."""
    leading = wave.shape[:-1]
    spectrum = torch.stft(
        wave.reshape(-1, wave.shape[-1]),
        n_fft,
        hop_length,
        window=window,
        center=True,
        pad_mode=pad_mode,
        return_complex=True,
    )
    return spectrum.reshape(*leading, *spectrum.shape[-2:])


def _istft(
    spectrum: Tensor, n_fft: int, hop_length: int, window: Tensor, samples: int | None
) -> Tensor:
    """Inverse of ``_stft``: ``(..., freq, frames) -> (..., samples)``."""
    leading = spectrum.shape[:-2]
    wave = torch.istft(
        spectrum.reshape(-1, *spectrum.shape[-2:]),
        n_fft,
        hop_length,
        window=window,
        center=True,
        length=samples,
    )
    return wave.reshape(*leading, wave.shape[-1])


def griffin_lim(
    magnitude: Tensor,
    n_fft: int,
    hop_length: int,
    window: Tensor | None = None,
    iterations: int = 32,
    momentum: float = 0.99,
    generator: torch.Generator | None = None,
    *,
    samples: int | None = None,
    pad_mode: str = "reflect",
) -> Tensor:
    """Fast Griffin-Lim (Perraudin, Balazs and Sondergaard 2013): a wave whose STFT magnitude
    approaches ``magnitude`` ``(..., n_fft // 2 + 1, frames) -> (..., samples)``.

    Each iteration projects onto consistent spectrograms (iSTFT then STFT) and onto the target
    magnitude, extrapolating by ``momentum`` (0 is classic Griffin-Lim). The initial phase is
    zero, or uniform random drawn from ``generator``: the result is deterministic either way.
    Runs batched over the leading axes on the device of ``magnitude``.
    """
    device = magnitude.device
    if window is None:
        window = torch.hann_window(n_fft, device=device)
    if generator is None:
        phase = torch.ones_like(magnitude, dtype=torch.complex64)
    else:
        angle = torch.rand(magnitude.shape, generator=generator, device=generator.device)
        phase = torch.polar(torch.ones_like(angle), 2 * math.pi * angle).to(device)
    previous = None
    for _ in range(iterations):
        # Iterate at the frames' own length, (frames - 1) * hop; crop or pad only at the end.
        wave = _istft(magnitude * phase, n_fft, hop_length, window, None)
        rebuilt = _stft(wave, n_fft, hop_length, window, pad_mode)
        accelerated = rebuilt if previous is None else rebuilt + momentum * (rebuilt - previous)
        phase = accelerated / (accelerated.abs() + 1e-16)
        previous = rebuilt
    return _istft(magnitude * phase, n_fft, hop_length, window, samples)


# ---------------------------------------------------------------------------- base class


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

    def decode(self, tensor: Tensor, samples: int | None = None) -> Tensor:
        """Back to ``(batch, channels, samples)``; ``samples`` crops or zero-pads the end."""
        raise NotImplementedError

    def forward(self, wave: Tensor) -> Tensor:
        return self.encode(wave)

    def config(self) -> dict[str, Any]:
        return {"kind": self.kind, "sample_rate": self.sample_rate}

    @staticmethod
    def _check_wave(wave: Tensor) -> None:
        if wave.dim() != 3:
            raise ValueError(f"expected a wave (batch, channels, samples), got {tuple(wave.shape)}")


# ------------------------------------------------------------------------------ waveform


class Waveform(Representation):
    """The samples themselves, times a fixed ``scale``; one frame per sample."""

    kind = "waveform"

    def __init__(self, sample_rate: int = 22050, scale: float = 1.0) -> None:
        super().__init__(sample_rate)
        self.scale = float(scale)

    @property
    def frames_per_second(self) -> float:
        return float(self.sample_rate)

    def frames(self, samples: int) -> int:
        return samples

    def samples_for_frames(self, frames: int) -> int:
        return frames

    def encode(self, wave: Tensor) -> Tensor:
        self._check_wave(wave)
        return wave * self.scale

    def decode(self, tensor: Tensor, samples: int | None = None) -> Tensor:
        wave = tensor / self.scale
        if samples is None or samples == wave.shape[-1]:
            return wave
        return functional.pad(wave, (0, samples - wave.shape[-1]))  # negative padding crops

    def config(self) -> dict[str, Any]:
        return {**super().config(), "scale": self.scale}


# ------------------------------------------------------------------------------------ mel


class _CentredFrames(Representation):
    """The time axis of a centred STFT: one frame per hop, plus one."""

    hop_length: int

    @property
    def frames_per_second(self) -> float:
        return self.sample_rate / self.hop_length

    def frames(self, samples: int) -> int:
        return samples // self.hop_length + 1

    def samples_for_frames(self, frames: int) -> int:
        return (frames - 1) * self.hop_length


class Mel(_CentredFrames):
    """Log-mel spectrogram scaled as in Msanii: ``(batch, channels, n_mels, frames)`` in [-1, 1].

    ``log_mel``: log of the mel filterbank (``librosa.filters.mel``, Slaney) applied to
    ``|STFT|**power``, clamped below at ``log_floor``. Scaling: ``(x - mean) / std`` with scalar
    statistics, then min-max to [-1, 1] with scalar ``minimum``/``maximum`` of the standardised
    values (clipped to [-1, 1] when ``clip``). The statistics are running averages: the first
    ``update_statistics`` copies the batch's, later ones move by ``momentum``, which is
    multiplied by ``momentum_decay`` after every update, so the statistics settle. ``freeze()``
    fixes them; ``encode`` only reads them, it never updates them.

    Decoding: undo the scaling, ``mel_to_linear`` (pseudo-inverse of the filterbank, clamped at
    0) and fast Griffin-Lim; a vocoder replaces the middle step through ``decode_magnitude``.
    """

    kind = "mel"

    def __init__(
        self,
        sample_rate: int = 22050,
        n_fft: int = 1024,
        hop_length: int = 256,
        n_mels: int = 128,
        power: float = 1.0,
        log_floor: float = 1e-5,
        pad_mode: str = "reflect",
        momentum: float = 0.1,
        momentum_decay: float = 0.99,
        clip: bool = True,
        griffin_lim_iterations: int = 32,
        griffin_lim_momentum: float = 0.99,
    ) -> None:
        super().__init__(sample_rate)
        self.n_fft = int(n_fft)
        self.hop_length = int(hop_length)
        self.n_mels = int(n_mels)
        self.power = float(power)
        self.log_floor = float(log_floor)
        self.pad_mode = pad_mode
        self.initial_momentum = float(momentum)
        self.momentum_decay = float(momentum_decay)
        self.clip = bool(clip)
        self.griffin_lim_iterations = int(griffin_lim_iterations)
        self.griffin_lim_momentum = float(griffin_lim_momentum)

        basis = torch.from_numpy(
            librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels, dtype="float64")
        )
        # Derived from the config, so rebuilt rather than saved.
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.register_buffer("mel_basis", basis.float(), persistent=False)
        self.register_buffer("mel_inverse", torch.linalg.pinv(basis).float(), persistent=False)
        # Fitted statistics (saved).
        self.register_buffer("mean", torch.tensor(0.0))
        self.register_buffer("var", torch.tensor(1.0))
        self.register_buffer("minimum", torch.tensor(-1.0))
        self.register_buffer("maximum", torch.tensor(1.0))
        self.register_buffer("momentum", torch.tensor(self.initial_momentum))
        self.register_buffer("updates", torch.tensor(0))
        self.register_buffer("frozen", torch.tensor(False))

    # -- analysis

    def magnitude(self, wave: Tensor) -> Tensor:
        """Linear STFT magnitude ``(batch, channels, n_fft // 2 + 1, frames)``: vocoder targets."""
        self._check_wave(wave)
        return _stft(wave, self.n_fft, self.hop_length, self.window, self.pad_mode).abs()

    def log_mel(self, wave: Tensor) -> Tensor:
        """Unscaled log-mel ``(batch, channels, n_mels, frames)``; what the statistics describe."""
        return self.log_mel_of_magnitude(self.magnitude(wave))

    def log_mel_of_magnitude(self, magnitude: Tensor) -> Tensor:
        mel = torch.matmul(self.mel_basis, magnitude**self.power)
        return torch.log(mel.clamp_min(self.log_floor))

    def scale(self, log_mel: Tensor) -> Tensor:
        """Standardise, then min-max to [-1, 1], with the current statistics."""
        self._require_statistics()
        # One affine map, x * gain + offset, folded from the two scalers (one pass over x).
        span = self.maximum - self.minimum
        gain = 2 / (span * self._std())
        offset = -self.mean * gain - 2 * self.minimum / span - 1
        scaled = torch.addcmul(offset.to(log_mel.dtype), log_mel, gain.to(log_mel.dtype))
        return scaled.clamp_(-1, 1) if self.clip else scaled

    def unscale(self, tensor: Tensor) -> Tensor:
        """Inverse of ``scale`` (values outside [-1, 1] are clipped first when ``clip``)."""
        self._require_statistics()
        if self.clip:
            tensor = tensor.clamp(-1, 1)
        standard = (tensor + 1) / 2 * (self.maximum - self.minimum) + self.minimum
        return standard * self._std() + self.mean

    def encode(self, wave: Tensor) -> Tensor:
        return self.scale(self.log_mel(wave))

    # -- statistics

    @property
    def fitted(self) -> bool:
        return int(self.updates) > 0

    @torch.no_grad()
    def update_statistics(self, log_mel: Tensor) -> None:
        """One running-average step of the scaling statistics on a batch of ``log_mel`` output."""
        if bool(self.frozen):
            raise RuntimeError("mel statistics are frozen; build a fresh representation to refit")
        log_mel = log_mel.float()
        batch_mean, batch_var = log_mel.mean(), log_mel.var()
        self._blend(self.mean, batch_mean)
        self._blend(self.var, batch_var)
        standard = (log_mel - self.mean) / self._std()
        self._blend(self.minimum, standard.min())
        self._blend(self.maximum, standard.max())
        if self.fitted:
            self.momentum.mul_(self.momentum_decay)
        self.updates.add_(1)

    def fit(self, wave_batches: Iterable[Tensor], freeze: bool = True) -> Mel:
        """Update the statistics on every batch of waves, then (by default) freeze them."""
        for wave in wave_batches:
            self.update_statistics(self.log_mel(wave.to(self.window.device)))
        if freeze:
            self.freeze()
        return self

    def freeze(self) -> None:
        """Fix the statistics for good (the frozen flag is saved in ``state_dict``)."""
        self._require_statistics()
        self.frozen.fill_(True)

    def _blend(self, running: Tensor, batch: Tensor) -> None:
        # The first batch is copied; later ones move the running value by the momentum.
        running.copy_(batch if not self.fitted else torch.lerp(running, batch, self.momentum))

    def _std(self) -> Tensor:
        return torch.sqrt(self.var + 1e-5)

    def _require_statistics(self) -> None:
        if not self.fitted:
            raise RuntimeError("mel statistics are not fitted: call fit() or update_statistics()")

    # -- synthesis

    def mel_to_linear(self, mel: Tensor) -> Tensor:
        """Mel (``|STFT|**power`` domain) -> linear STFT magnitude, by the filterbank's
        pseudo-inverse clamped at 0: ``(..., n_mels, frames) -> (..., n_fft // 2 + 1, frames)``.
        """
        linear = torch.matmul(self.mel_inverse, mel).clamp_min(0)
        return linear if self.power == 1 else linear ** (1 / self.power)

    def decode_log_mel(self, tensor: Tensor) -> Tensor:
        """Encoded tensor -> unscaled log-mel ``(batch, channels, n_mels, frames)``: what a
        waveform vocoder (``vocos``) reads, so that it does not depend on fitted statistics."""
        return self.unscale(tensor)

    def decode_magnitude(self, tensor: Tensor) -> Tensor:
        """Encoded tensor -> estimated linear STFT magnitude ``(batch, channels, freq, frames)``."""
        return self.mel_to_linear(torch.exp(self.decode_log_mel(tensor)))

    def decode(self, tensor: Tensor, samples: int | None = None) -> Tensor:
        """Magnitude by ``decode_magnitude``, phase by fast Griffin-Lim (zero initial phase)."""
        magnitude = self.decode_magnitude(tensor)
        return griffin_lim(
            magnitude,
            self.n_fft,
            self.hop_length,
            self.window,
            self.griffin_lim_iterations,
            self.griffin_lim_momentum,
            samples=samples,
            pad_mode=self.pad_mode,
        )

    def config(self) -> dict[str, Any]:
        return {
            **super().config(),
            "n_fft": self.n_fft,
            "hop_length": self.hop_length,
            "n_mels": self.n_mels,
            "power": self.power,
            "log_floor": self.log_floor,
            "pad_mode": self.pad_mode,
            "momentum": self.initial_momentum,
            "momentum_decay": self.momentum_decay,
            "clip": self.clip,
            "griffin_lim_iterations": self.griffin_lim_iterations,
            "griffin_lim_momentum": self.griffin_lim_momentum,
        }


# ----------------------------------------------------------------------- snake packing


def _serpentine_rows(n_mels: int, groups: int, device: torch.device) -> Tensor:
    """Row ``s`` of the packed stack -> row ``f * groups + k`` of the (bin, phase) grid."""
    s = torch.arange(n_mels * groups, device=device)
    bin_, step = s // groups, s % groups
    phase = torch.where(bin_ % 2 == 0, step, groups - 1 - step)
    return bin_ * groups + phase


def pack(mel: Tensor, groups: int = 3) -> Tensor:
    """Seed 001's snake packing: ``(..., n_mels, groups * width) -> (..., groups, n_mels, width)``.

    Frame ``t = groups * j + k`` of mel bin ``f`` goes to column ``j``; the ``n_mels * groups``
    pairs ``(f, k)`` are walked in serpentine order, ``s = groups * f + (k if f is even else
    groups - 1 - k)``, and the walk is cut into ``groups`` channels of ``n_mels`` rows:
    ``packed[c, r, j] = mel[f, t]`` with ``s = c * n_mels + r``. So each channel is a band of
    neighbouring frequencies (for 128 x 384: about 43 mel bins and all 3 frames of a column per
    channel), consecutive rows are always neighbours in frequency or in time, and the packed
    time axis is ``groups`` times shorter. A pure index permutation: ``unpack`` is exact.
    """
    n_mels, frames = mel.shape[-2:]
    if frames % groups:
        raise ValueError(f"{frames} frames do not pack into {groups} groups")
    width = frames // groups
    grid = mel.reshape(*mel.shape[:-1], width, groups).transpose(-1, -2)  # (..., f, k, j)
    grid = grid.reshape(*mel.shape[:-2], n_mels * groups, width)
    walk = grid.index_select(-2, _serpentine_rows(n_mels, groups, mel.device))
    return walk.reshape(*mel.shape[:-2], groups, n_mels, width)


def unpack(packed: Tensor) -> Tensor:
    """Exact inverse of ``pack``: ``(..., groups, n_mels, width) -> (..., n_mels, frames)``."""
    groups, n_mels, width = packed.shape[-3:]
    walk = packed.reshape(*packed.shape[:-3], n_mels * groups, width)
    rows = torch.argsort(_serpentine_rows(n_mels, groups, packed.device))
    grid = walk.index_select(-2, rows).reshape(*packed.shape[:-3], n_mels, groups, width)
    return grid.transpose(-1, -2).reshape(*packed.shape[:-3], n_mels, groups * width)


class PackedMel(Mel):
    """``mel`` folded by ``pack``: ``(batch, channels * groups, n_mels, frames / groups)``.

    With the defaults a clip of ``samples_for_frames(128)`` samples (383 hops, about 4.45 s)
    is a 128 x 384 mel and packs to 3 x 128 x 128 per audio channel. Other lengths are
    zero-padded at the end up to the next whole packed column (fewer than ``groups`` hops);
    ``decode(..., samples=n)`` crops back. The statistics are those of the unpacked mel.
    """

    kind = "packed_mel"

    def __init__(self, sample_rate: int = 22050, groups: int = 3, **mel_config: Any) -> None:
        super().__init__(sample_rate, **mel_config)
        self.groups = int(groups)

    @property
    def frames_per_second(self) -> float:
        return super().frames_per_second / self.groups

    def frames(self, samples: int) -> int:
        return math.ceil(super().frames(samples) / self.groups)

    def samples_for_frames(self, frames: int) -> int:
        return super().samples_for_frames(frames * self.groups)

    def encode(self, wave: Tensor) -> Tensor:
        self._check_wave(wave)
        padding = max(0, self.samples_for_frames(self.frames(wave.shape[-1])) - wave.shape[-1])
        mel = super().encode(functional.pad(wave, (0, padding)))
        packed = pack(mel, self.groups)  # (batch, channels, groups, n_mels, width)
        return packed.flatten(1, 2)

    def decode_log_mel(self, tensor: Tensor) -> Tensor:
        batch, stacked, n_mels, width = tensor.shape
        packed = tensor.reshape(batch, stacked // self.groups, self.groups, n_mels, width)
        return super().decode_log_mel(unpack(packed))

    def config(self) -> dict[str, Any]:
        return {**super().config(), "groups": self.groups}


# ----------------------------------------------------------------------- complex STFT


class ComplexSTFT(_CentredFrames):
    """EDMSound's STFT: ``alpha * |S|**beta * exp(i angle S)`` as real/imaginary channels.

    Output ``(batch, 2 * channels, n_fft // 2 + 1, frames)``: channel ``2c`` is the real and
    ``2c + 1`` the imaginary part of audio channel ``c``. The compression is undone exactly and
    the STFT inverted by ``torch.istft`` (Hann window, centred), so decode is exact up to
    float32 rounding.
    """

    kind = "complex_stft"

    def __init__(
        self,
        sample_rate: int = 22050,
        n_fft: int = 510,
        hop_length: int = 128,
        alpha: float = 0.3,
        beta: float = 0.5,
        pad_mode: str = "reflect",
    ) -> None:
        super().__init__(sample_rate)
        self.n_fft = int(n_fft)
        self.hop_length = int(hop_length)
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.pad_mode = pad_mode
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)


    def encode(self, wave: Tensor) -> Tensor:
        self._check_wave(wave)
        spectrum = _stft(wave, self.n_fft, self.hop_length, self.window, self.pad_mode)
        compressed = torch.polar(self.alpha * spectrum.abs() ** self.beta, spectrum.angle())
        parts = torch.view_as_real(compressed)  # (batch, channels, freq, frames, 2)
        return parts.permute(0, 1, 4, 2, 3).flatten(1, 2)

    def decode(self, tensor: Tensor, samples: int | None = None) -> Tensor:
        batch, stacked, freq, frames = tensor.shape
        parts = tensor.reshape(batch, stacked // 2, 2, freq, frames).permute(0, 1, 3, 4, 2)
        compressed = torch.view_as_complex(parts.contiguous())
        magnitude = (compressed.abs() / self.alpha) ** (1 / self.beta)
        spectrum = torch.polar(magnitude, compressed.angle())
        return _istft(spectrum, self.n_fft, self.hop_length, self.window, samples)

    def config(self) -> dict[str, Any]:
        return {
            **super().config(),
            "n_fft": self.n_fft,
            "hop_length": self.hop_length,
            "alpha": self.alpha,
            "beta": self.beta,
            "pad_mode": self.pad_mode,
        }


# ---------------------------------------------------------------------------- factory

_CLASSES: dict[str, type[Representation]] = {
    "waveform": Waveform,
    "mel": Mel,
    "packed_mel": PackedMel,
    "complex_stft": ComplexSTFT,
}


def representation(kind: str, **config: Any) -> Representation:
    """Build a representation by name; ``representation(**r.config())`` rebuilds ``r``."""
    if kind not in _CLASSES:
        raise ValueError(f"unknown representation {kind!r}; choose one of {', '.join(KINDS)}")
    return _CLASSES[kind](**config)
