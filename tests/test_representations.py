"""Representations: exact round trips, fitted mel statistics, Griffin-Lim, time axis in seconds.

The audio is real music: Bach's BWV 846 rendered by cadenza's piano synthesiser, unless the
environment variable CADENZA_TEST_AUDIO names a folder of audio files; then clips of those are
used instead. The measured numbers quoted below are for the rendered Bach.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
import torch

from cadenza.representations import KINDS, Mel, representation
from cadenza.spectral import griffin_lim, pack, unpack

SAMPLE_RATE = 22050


def piano_notes(
    seconds: float, notes: tuple[int, ...] = (60, 64, 67, 72), seed: int = 0
) -> torch.Tensor:
    """Piano-like mono clip ``(1, samples)``: notes struck in turn, each a sum of stretched
    (inharmonic) partials whose higher members decay faster; peak 0.5."""
    generator = torch.Generator().manual_seed(seed)
    time = torch.arange(round(seconds * SAMPLE_RATE), dtype=torch.float64) / SAMPLE_RATE
    wave = torch.zeros_like(time)
    for index, note in enumerate(notes):
        fundamental = 440 * 2 ** ((note - 69) / 12)
        since_onset = (time - index * seconds / (len(notes) + 1)).clamp_min(0)
        sounding = (since_onset > 0).double()
        attack = 1 - torch.exp(-since_onset / 0.002)
        for partial in range(1, 16):
            frequency = partial * fundamental * math.sqrt(1 + 4e-4 * partial**2)
            if frequency > SAMPLE_RATE / 2.5:
                break
            decay = torch.exp(-(1.5 + 0.8 * partial) * since_onset)
            phase = 2 * math.pi * float(torch.rand((), generator=generator))
            tone = torch.sin(2 * math.pi * frequency * since_onset + phase)
            wave += sounding * attack * decay * tone / partial
    return (0.5 * wave / wave.abs().max()).float()[None]


def piano_clips(count: int, seconds: float, seed: int = 0) -> torch.Tensor:
    """``(count, 1, samples)`` consecutive clips of a real composition (the first piece of
    cadenza's piano corpus, Bach's BWV 846, rendered by cadenza's piano synthesiser), or of
    the files in CADENZA_TEST_AUDIO when that is set."""
    folder = os.environ.get("CADENZA_TEST_AUDIO")
    if folder:
        from cadenza.data import audio

        paths = sorted(p for p in Path(folder).iterdir() if p.suffix in audio.AUDIO_SUFFIXES)
        waves = [
            audio.load(path, SAMPLE_RATE, channels=1, seconds=seconds)[0] for path in paths[:count]
        ]
        return torch.stack([torch.from_numpy(wave) for wave in waves])
    from cadenza.data.catalogue import catalogue
    from cadenza.data.scores import piece_notes
    from cadenza.data.synth import render_notes

    total = count * seconds
    notes = piece_notes(catalogue()[0], seed=seed, piece_seconds=total + 1)
    wave = render_notes(notes, SAMPLE_RATE, seconds=total, seed=seed)
    samples = round(seconds * SAMPLE_RATE)
    return torch.from_numpy(wave[0, : count * samples].copy()).reshape(count, 1, samples)


def fitted(kind: str, clips: torch.Tensor, **config) -> Mel:
    return representation(kind, **config).fit([clips])


def spectral_convergence(reference: torch.Tensor, estimate: torch.Tensor) -> float:
    """||S - S_hat||_F / ||S||_F on STFT magnitudes (n_fft 1024, hop 256)."""

    def magnitude(wave: torch.Tensor) -> torch.Tensor:
        flat = wave.reshape(-1, wave.shape[-1])
        window = torch.hann_window(1024)
        return torch.stft(flat, 1024, 256, window=window, return_complex=True).abs()

    target = magnitude(reference)
    return float(torch.linalg.norm(target - magnitude(estimate)) / torch.linalg.norm(target))


def snr_db(reference: torch.Tensor, estimate: torch.Tensor) -> float:
    error = (reference - estimate).double().pow(2).sum()
    return float(10 * torch.log10(reference.double().pow(2).sum() / error))


# ---------------------------------------------------------------------------- complex_stft


def test_complex_stft_compresses_magnitude_and_keeps_phase():
    clip = piano_clips(1, 1.0)
    stft = representation("complex_stft")
    encoded = stft.encode(clip)
    assert encoded.shape == (1, 2, 256, stft.frames(clip.shape[-1]))

    spectrum = torch.stft(clip[0], 510, 128, window=torch.hann_window(510), return_complex=True)
    compressed = torch.complex(encoded[:, 0], encoded[:, 1])
    torch.testing.assert_close(compressed.abs(), 0.3 * spectrum.abs() ** 0.5)
    loud = spectrum.abs() > 1e-3
    unit = spectrum[loud] / spectrum[loud].abs()
    torch.testing.assert_close(compressed[loud] / compressed[loud].abs(), unit)


def test_complex_stft_round_trip_exceeds_60_db():
    clips = piano_clips(2, 2.0)
    stft = representation("complex_stft")
    decoded = stft.decode(stft.encode(clips), samples=clips.shape[-1])
    # Measured 137 dB (float32 rounding); the requirement is 60 dB.
    assert snr_db(clips, decoded) > 100


# ------------------------------------------------------------------------------- packing


def test_pack_layout_is_the_documented_serpentine():
    mel = torch.tensor([[0.0, 1, 2, 3, 4, 5], [10, 11, 12, 13, 14, 15]])  # mel[f, t] = 10f + t
    # Walk (f, k): (0,0) (0,1) (0,2) (1,2) (1,1) (1,0), two rows per channel; column j = t // 3.
    expected = torch.tensor([[[0.0, 3], [1, 4]], [[2, 5], [12, 15]], [[11, 14], [10, 13]]])
    assert torch.equal(pack(mel), expected)
    assert torch.equal(unpack(expected), mel)


def test_pack_unpack_is_bit_exact():
    generator = torch.Generator().manual_seed(0)
    noise = torch.randn(2, 1, 128, 384, generator=generator) * 1e3
    packed = pack(noise)
    assert packed.shape == (2, 1, 3, 128, 128)
    assert torch.equal(unpack(packed), noise)

    mel = fitted("mel", piano_clips(2, 4.5)).encode(piano_clips(2, 4.5))[..., :384]
    assert torch.equal(unpack(pack(mel)), mel)


def test_packed_mel_encodes_128_by_384_to_3_by_128_by_128():
    clips = piano_clips(2, 4.5)
    packed_mel = fitted("packed_mel", clips)
    samples = packed_mel.samples_for_frames(128)  # 383 hops, about 4.45 s
    clips = clips[..., :samples]
    encoded = packed_mel.encode(clips)
    assert encoded.shape == (2, 3, 128, 128)
    assert torch.equal(unpack(encoded[:, None]), Mel.encode(packed_mel, clips))
    assert packed_mel.decode(encoded).shape == clips.shape

    stereo = torch.cat([clips[:1], clips[1:]], dim=1)
    assert packed_mel.encode(stereo).shape == (1, 6, 128, 128)


# ------------------------------------------------------------------------ mel statistics


def crops(song: torch.Tensor, batches: int, size: int, seed: int) -> list[torch.Tensor]:
    """Random ``(4, 1, size)`` crops of a ``(1, 1, samples)`` song, as a data loader would give."""
    generator = torch.Generator().manual_seed(seed)
    starts = torch.randint(0, song.shape[-1] - size, (batches, 4), generator=generator)
    return [torch.stack([song[0, :, s : s + size] for s in row.tolist()]) for row in starts]


def test_mel_running_statistics_converge_then_freeze():
    song = piano_clips(6, 2.0).reshape(1, 1, -1)
    batches = crops(song, batches=40, size=SAMPLE_RATE // 2, seed=0)
    mel = representation("mel")
    log_mels = [mel.log_mel(batch) for batch in batches]
    pooled = torch.cat([log_mel.flatten() for log_mel in log_mels])
    for log_mel in log_mels:
        mel.update_statistics(log_mel)

    # The momentum decays after every update but the first; the running statistics end near the
    # pooled ones (measured: mean off by 0.018, std by 0.007, on a std of 2.9).
    assert float(mel.momentum) == pytest.approx(0.1 * 0.99**39, rel=1e-5)
    assert float(mel.mean) == pytest.approx(float(pooled.mean()), abs=0.15)
    assert float(mel.var.sqrt()) == pytest.approx(float(pooled.std()), abs=0.15)

    mel.freeze()
    before = {name: value.clone() for name, value in mel.state_dict().items()}
    mel.train()
    for batch in batches[:3]:
        mel.encode(batch)
    with pytest.raises(RuntimeError, match="frozen"):
        mel.update_statistics(log_mels[0])
    assert all(torch.equal(before[name], value) for name, value in mel.state_dict().items())


def test_mel_encode_spans_unit_range_on_fitting_data():
    song = piano_clips(6, 2.0).reshape(1, 1, -1)
    batches = crops(song, batches=40, size=SAMPLE_RATE // 2, seed=1)
    mel = representation("mel", clip=False).fit(batches)
    encoded = torch.cat([mel.encode(batch).flatten() for batch in batches])
    # Measured range [-0.995, 1.006]: running extremes, so slightly inside or outside.
    assert -1.1 < float(encoded.min()) < -0.9
    assert 0.9 < float(encoded.max()) < 1.1


def test_mel_needs_fitted_statistics():
    mel = representation("mel")
    with pytest.raises(RuntimeError, match="not fitted"):
        mel.encode(piano_clips(1, 0.5))


def test_mel_statistics_travel_in_state_dict():
    clips = piano_clips(2, 1.0)
    mel = fitted("mel", clips)
    rebuilt = representation(**json.loads(json.dumps(mel.config())))
    rebuilt.load_state_dict(mel.state_dict())
    assert bool(rebuilt.frozen)
    assert torch.equal(rebuilt.encode(clips), mel.encode(clips))


# -------------------------------------------------------------------------- Griffin-Lim


def test_mel_griffin_lim_spectral_convergence():
    clips = piano_clips(2, 2.0)
    mel = fitted("mel", clips)
    decoded = mel.decode(mel.encode(clips), samples=clips.shape[-1])
    # Measured on the rendered Bach: 0.212 at 32 iterations (0.235 at 16, 0.203 at 64); most of
    # it is the 128-band mel pseudo-inverse, which a vocoder (the training issue) replaces.
    assert spectral_convergence(clips, decoded) < 0.25


def test_fast_griffin_lim_beats_classic_and_is_deterministic():
    clips = piano_clips(2, 1.0)
    window = torch.hann_window(1024)
    spectrum = torch.stft(clips.reshape(2, -1), 1024, 256, window=window, return_complex=True)
    magnitude = spectrum.abs().reshape(2, 1, *spectrum.shape[-2:])

    def reconstruct(momentum: float, seed: int | None = None) -> torch.Tensor:
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        return griffin_lim(
            magnitude, 1024, 256, window, 32, momentum, generator, samples=clips.shape[-1]
        )

    fast, classic = reconstruct(0.99), reconstruct(0.0)
    assert fast.shape == clips.shape
    # Measured 0.092 (momentum 0.99) against 0.165 (classic).
    assert spectral_convergence(clips, fast) < spectral_convergence(clips, classic)
    assert torch.equal(reconstruct(0.99, seed=3), reconstruct(0.99, seed=3))
    assert not torch.equal(reconstruct(0.99, seed=3), reconstruct(0.99, seed=4))


# ----------------------------------------------------------------- every representation


def build(kind: str, clips: torch.Tensor):
    return fitted(kind, clips) if kind in ("mel", "packed_mel") else representation(kind)


@pytest.mark.parametrize("kind", KINDS)
def test_frames_per_second_matches_encoded_frames(kind):
    clips = piano_clips(1, 2.0)
    rep = build(kind, clips)
    frames = rep.encode(clips).shape[-1]
    assert frames == rep.frames_for(2.0)
    assert abs(frames - 2.0 * rep.frames_per_second) <= 1


@pytest.mark.parametrize("kind", KINDS)
def test_config_round_trips_through_the_factory(kind):
    rep = representation(kind)
    config = json.loads(json.dumps(rep.config()))
    assert config["kind"] == kind
    rebuilt = representation(**config)
    assert type(rebuilt) is type(rep)
    assert rebuilt.config() == rep.config()


@pytest.mark.parametrize("kind", KINDS)
def test_decode_returns_the_encoded_shape(kind):
    clips = piano_clips(2, 1.0)
    rep = build(kind, clips)
    # A whole number of hops comes back at its own length ...
    whole = clips[..., : rep.samples_for_frames(rep.frames(clips.shape[-1]) - 1)]
    assert rep.decode(rep.encode(whole)).shape == whole.shape
    # ... any other length when asked for it (the end is cropped or zero-padded).
    odd = clips[..., :20001]
    assert rep.decode(rep.encode(odd), samples=odd.shape[-1]).shape == odd.shape


def test_unknown_kind_names_the_choices():
    with pytest.raises(ValueError, match="complex_stft"):
        representation("spectrogram")


# ----------------------------------------------------------------------------- decoders


class RecordingVocoder(torch.nn.Module):
    """A stand-in vocoder that keeps what it was given."""

    def __init__(self, outputs: str):
        super().__init__()
        self.outputs, self.seen = outputs, None

    def forward(self, mel, samples=None):
        self.seen = mel
        if self.outputs == "wave":
            return torch.zeros(mel.shape[0], mel.shape[1], samples or 100)
        return torch.ones(mel.shape[0], mel.shape[1], 1024 // 2 + 1, mel.shape[-1])


@pytest.mark.parametrize("outputs", ["wave", "magnitude"])
def test_packed_mel_unpacks_before_its_vocoder(outputs):
    packed = representation("packed_mel", sample_rate=SAMPLE_RATE)
    packed.fit([piano_notes(4.0)[None]])
    encoded = packed.encode(piano_notes(4.0)[None])
    vocoder = RecordingVocoder(outputs)
    packed.decode(encoded, 4000, vocoder=vocoder)
    unpacked = packed.unpacked(encoded)
    assert vocoder.seen.shape == (1, 1, packed.n_mels, 3 * encoded.shape[-1])
    expected = packed.unscale(unpacked) if outputs == "wave" else unpacked
    assert torch.equal(vocoder.seen, expected)


@pytest.mark.parametrize("kind", ["waveform", "complex_stft"])
def test_exact_representations_refuse_a_vocoder(kind):
    rep = representation(kind, sample_rate=SAMPLE_RATE)
    encoded = rep.encode(piano_notes(0.5)[None])
    with pytest.raises(ValueError, match="takes no vocoder"):
        rep.decode(encoded, vocoder=RecordingVocoder("wave"))
