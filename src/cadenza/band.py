"""The band above a model's, continued in the audio it made from the user's audio around it.

A model at 16 kHz makes nothing above 8 kHz. Joined into a 44.1 kHz master, a gap it filled is
a dull patch: the top of the spectrum stops at the seam and comes back at the other one, which
is heard (and measured as spectral flux) even where the music continues well. Where the user's
audio holds that band, the made audio's band is continued as spectral band replication does
(HE-AAC's SBR): the octave under the model's edge is copied up, bin by bin, with the gain that
makes its spectral envelope the known audio's. The copy keeps the made audio's timing (an
attack below the edge is an attack above it); the gain keeps the known audio's tilt. A gap
between known audio on both sides moves from the envelope before it to the envelope after it.
"""

from __future__ import annotations

import numpy as np

FILL_FROM = 0.95
"""Where filling starts, as a share of the model's band: soxr's very-high-quality resampler is
flat to about there and falls away above it."""

N_FFT = 2048
HOP = N_FFT // 4
PIECE = 64 * HOP
"""Samples :func:`fill` hands its :class:`Filler` at a time."""
SMOOTH_SHARE = 1 / 8
"""Envelopes are averaged over this share of the copied octave's bins, so that one strong
partial in the known audio does not decide the gain of a bin."""

FLOOR = 1e-4
"""Envelopes of the copied octave are taken as at least this share (-40 dB) of its mean."""

MAX_GAIN = 4.0
"""The most a copied bin is raised (12 dB), as SBR limits its gains: known audio whose copied
octave is nearly silent must not turn the made audio's into a loud band."""


def source_bins(rate: int, edge_hz: float, n_fft: int = N_FFT) -> tuple[np.ndarray, np.ndarray]:
    """The bins filled (from ``FILL_FROM`` of ``edge_hz`` to half ``rate``) and, for each, the
    bin of the octave below that is copied into it. Every copy moves by a multiple of
    ``n_fft / HOP`` bins: its phase then turns by whole turns from one frame to the next, so the
    overlapping frames add up in phase (other shifts lose level, and flutter)."""
    first = int(np.ceil(FILL_FROM * edge_hz * n_fft / rate))
    turn = n_fft // HOP
    width = max(turn, (first - first // 2) // turn * turn)  # about an octave
    filled = np.arange(first, n_fft // 2 + 1)
    return filled, first - width + (filled - first) % width


def envelope_gain(known: np.ndarray, rate: int, edge_hz: float) -> np.ndarray | None:
    """Per channel and filled bin, the amplitude gain from each copied bin to its filled bin in
    ``known`` (``(channels, samples)``): the square root of the ratio of their spectral
    envelopes. None when ``known`` is shorter than one frame."""
    if known.shape[-1] < N_FFT:
        return None
    filled, source = source_bins(rate, edge_hz)
    # A Hann window here: the sqrt-Hann of the copy leaks too far to read a steep envelope.
    power = (np.abs(_frames_spectrum(known, np.hanning(N_FFT + 1)[:-1])) ** 2).mean(axis=-1)
    smooth = _smoothed(power, max(3, round(SMOOTH_SHARE * (filled[0] - source[0]))))
    # Bins of the copied octave far under its mean (a known band that stops below the edge)
    # are floored there: a ratio of two near-silences says nothing.
    floor = FLOOR * smooth[:, source].mean(axis=-1, keepdims=True)
    ratio = smooth[:, filled] / np.maximum(smooth[:, source], np.maximum(floor, 1e-30))
    return np.minimum(np.sqrt(ratio), MAX_GAIN)


def fill(made: np.ndarray, rate: int, edge_hz: float, gain_start: np.ndarray,
         gain_end: np.ndarray | None = None) -> np.ndarray:
    """The band above ``edge_hz`` for ``made`` (``(channels, samples)`` at ``rate``, nothing above
    ``edge_hz``), to be added to it: each filled bin is its copied bin scaled by the gain,
    which moves from ``gain_start`` to ``gain_end`` (geometrically) across ``made``."""
    filler = Filler(rate, edge_hz, gain_start, gain_end, made.shape[-1])
    pieces = [filler.push(made[:, start: start + PIECE])  # memory bounded however long
              for start in range(0, made.shape[-1], PIECE)]
    return np.concatenate([*pieces, filler.close()], axis=-1).astype(made.dtype)


class Filler:
    """:func:`fill` over a stream: ``push`` takes the made audio a piece at a time and returns
    the band for the samples no later frame reaches, ``close`` the rest. Frames are windowed
    and overlap-added from a frame before the first sample, so the band is the same however
    the stream is cut. A gain that moves (``gain_end``) needs the stream's ``length``."""

    def __init__(self, rate: int, edge_hz: float, gain_start: np.ndarray,
                 gain_end: np.ndarray | None = None, length: int | None = None) -> None:
        if gain_end is not None and not length:
            raise ValueError("a gain that moves needs the stream's length")
        self.filled, self.source = source_bins(rate, edge_hz)
        self.log_start = np.log(np.maximum(gain_start, 1e-12))[..., None]
        self.log_end = None if gain_end is None else np.log(np.maximum(gain_end, 1e-12))[..., None]
        self.frames = None if length is None else (length + N_FFT - HOP) // HOP + 1
        self.pending = np.zeros((gain_start.shape[0], N_FFT - HOP))  # a frame before the start
        self.tail = np.zeros((gain_start.shape[0], N_FFT - HOP))  # overlap-added, not yet final
        self.frame = 0  # frames done
        self.given = self.taken = 0  # samples of the frames' time line passed; samples pushed

    def push(self, made: np.ndarray) -> np.ndarray:
        """The band for as many of the samples pushed so far as every frame over them is in."""
        self.taken += made.shape[-1]
        self.pending = np.concatenate([self.pending, made.astype(np.float64)], axis=-1)
        count = max(0, (self.pending.shape[-1] - N_FFT) // HOP + 1)
        if count == 0:
            return np.zeros((self.pending.shape[0], 0))
        spectrum = _frames_spectrum(self.pending[:, : (count - 1) * HOP + N_FFT])
        band = np.zeros_like(spectrum)
        band[:, self.filled] = spectrum[:, self.source] * self._gain(count)
        added = _overlap_add(band, (count - 1) * HOP + N_FFT)
        added[:, : N_FFT - HOP] += self.tail
        self.pending = self.pending[:, count * HOP:]
        self.tail = added[:, count * HOP:]
        return self._give(added[:, : count * HOP])

    def close(self) -> np.ndarray:
        """The band for the samples not yet returned: frames past the end flush the last."""
        taken = self.taken
        out = self.push(np.zeros((self.pending.shape[0], N_FFT)))
        self.taken = taken
        beyond = self.given - (N_FFT - HOP) - taken  # flushed samples past the end
        return out[:, : max(0, out.shape[-1] - beyond)]

    def _gain(self, count: int) -> np.ndarray:
        if self.log_end is None:
            return np.exp(self.log_start)
        share = np.clip((self.frame + np.arange(count) + 0.5) / self.frames, 0, 1)
        self.frame += count
        return np.exp(self.log_start * (1 - share) + self.log_end * share)

    def _give(self, out: np.ndarray) -> np.ndarray:
        """Drops the samples of the frame before the start."""
        skip = max(0, N_FFT - HOP - self.given)
        self.given += out.shape[-1]
        return out[:, skip:]


def _window() -> np.ndarray:
    # sqrt-Hann analysis and synthesis: their product, a Hann, sums to N_FFT / (2 HOP) = 2.
    return np.sqrt(np.hanning(N_FFT + 1)[:-1])


def _frames_spectrum(wave: np.ndarray, window: np.ndarray | None = None) -> np.ndarray:
    frames = np.lib.stride_tricks.sliding_window_view(wave, N_FFT, axis=-1)[..., ::HOP, :]
    window = _window() if window is None else window
    return np.fft.rfft(frames * window, axis=-1).swapaxes(-1, -2)


def _overlap_add(spectrum: np.ndarray, length: int) -> np.ndarray:
    frames = np.fft.irfft(spectrum.swapaxes(-1, -2), n=N_FFT, axis=-1) * _window() / 2
    out = np.zeros((*spectrum.shape[:-2], length))
    for index in range(frames.shape[-2]):
        out[..., index * HOP: index * HOP + N_FFT] += frames[..., index, :]
    return out


def _smoothed(power: np.ndarray, width: int) -> np.ndarray:
    kernel = np.ones(width) / width
    return np.apply_along_axis(lambda row: np.convolve(row, kernel, mode="same"), -1, power)
