"""Log-mel spectrograms with Msanii's scaling, and seed 001's packed variant."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import librosa
import torch
from torch import Tensor, nn
from torch.nn import functional

from cadenza.representations.base import CentredFrames
from cadenza.spectral import griffin_lim, pack, stft, unpack


class Mel(CentredFrames):
    """Log-mel spectrogram scaled as in Msanii: ``(batch, channels, n_mels, frames)`` in [-1, 1].

    ``log_mel``: log of the mel filterbank (``librosa.filters.mel``, Slaney) applied to
    ``|STFT|**power``, clamped below at ``log_floor``. Scaling: ``(x - mean) / std`` with scalar
    statistics, then min-max to [-1, 1] with scalar ``minimum``/``maximum`` of the standardised
    values (clipped to [-1, 1] when ``clip``). The statistics are running averages: the first
    ``update_statistics`` copies the batch's, later ones move by ``momentum``, which is
    multiplied by ``momentum_decay`` after every update, so the statistics settle. ``freeze()``
    fixes them; ``encode`` only reads them, it never updates them.

    Decoding: a vocoder when given one (a model folder ships its own); otherwise undo the
    scaling, ``mel_to_linear`` (pseudo-inverse of the filterbank, clamped at 0) and fast
    Griffin-Lim.
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
        return stft(wave, self.n_fft, self.hop_length, self.window, self.pad_mode).abs()

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

    def unpacked(self, tensor: Tensor) -> Tensor:
        """Encoded tensor -> scaled mel ``(batch, channels, n_mels, frames)`` (packing undone)."""
        return tensor

    def decode_log_mel(self, tensor: Tensor) -> Tensor:
        """Encoded tensor -> unscaled log-mel ``(batch, channels, n_mels, frames)``: what a
        waveform vocoder (``vocos``) reads, so that it does not depend on fitted statistics."""
        return self.unscale(self.unpacked(tensor))

    def decode_magnitude(self, tensor: Tensor) -> Tensor:
        """Encoded tensor -> estimated linear STFT magnitude ``(batch, channels, freq, frames)``."""
        return self.mel_to_linear(torch.exp(self.decode_log_mel(tensor)))

    def decode(self, tensor: Tensor, samples: int | None = None,
               vocoder: nn.Module | None = None) -> Tensor:
        """Through ``vocoder`` if given, else magnitude by ``decode_magnitude`` and phase by fast
        Griffin-Lim (zero initial phase). A vocoder with ``outputs == "wave"`` (Vocos) reads the
        unscaled log-mel and returns the wave; an older one reads the scaled mel and returns the
        magnitude, whose phase Griffin-Lim finds."""
        if vocoder is None:
            magnitude = self.decode_magnitude(tensor)
        else:
            if self.clip:
                # The vocoder was trained on clipped mels; an unclipped outlier from a few-step
                # sampler otherwise blows up.
                tensor = tensor.clamp(-1, 1)
            if getattr(vocoder, "outputs", "magnitude") == "wave":
                return vocoder(self.decode_log_mel(tensor), samples=samples)
            magnitude = vocoder(self.unpacked(tensor))
        return griffin_lim(magnitude, self.n_fft, self.hop_length, self.window,
                           self.griffin_lim_iterations, self.griffin_lim_momentum,
                           samples=samples, pad_mode=self.pad_mode)

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

    def unpacked(self, tensor: Tensor) -> Tensor:
        batch, stacked, n_mels, width = tensor.shape
        return unpack(tensor.reshape(batch, stacked // self.groups, self.groups, n_mels, width))

    def config(self) -> dict[str, Any]:
        return {**super().config(), "groups": self.groups}
