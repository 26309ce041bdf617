import numpy as np
import pytest
import soundfile

from cadenza.data import audio


def chirp(seconds: float = 1.0, rate: int = 22050, channels: int = 2) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    left = 0.4 * np.sin(2 * np.pi * (200 + 300 * t) * t)
    return np.stack([left, 0.5 * left][:channels]).astype(np.float32)


@pytest.mark.parametrize(("subtype", "tolerance"), [("pcm16", 4e-5), ("pcm24", 2e-7), ("float", 0)])
def test_wav_round_trip_at_every_bit_depth(tmp_path, subtype, tolerance):
    wave = chirp()
    path = audio.write(tmp_path / "out.wav", wave, 22050, subtype)
    loaded, rate = audio.load(path)
    assert rate == 22050 and loaded.shape == wave.shape
    assert np.abs(loaded - wave).max() <= tolerance
    assert [p.name for p in tmp_path.iterdir()] == ["out.wav"]  # no temporary left behind


@pytest.mark.parametrize("suffix", [".flac", ".ogg", ".mp3"])
def test_compressed_formats_load(tmp_path, suffix):
    wave = chirp(channels=1)
    path = tmp_path / f"clip{suffix}"
    soundfile.write(path, wave.T, 22050)
    loaded, rate = audio.load(path)
    assert rate == 22050 and loaded.shape[0] == 1
    assert abs(loaded.shape[1] - wave.shape[1]) < 0.1 * 22050  # codecs may pad a frame
    assert audio.info(path).channels == 1


def test_resampling_channels_windows_and_normalisation(tmp_path):
    path = audio.write(tmp_path / "a.wav", chirp(2.0), 22050, "float")
    mono, rate = audio.load(path, 16000, channels=1, start_seconds=0.5, seconds=1.0)
    assert rate == 16000 and mono.shape == (1, 16000)
    assert audio.to_channels(mono, 2).shape == (2, 16000)
    assert np.abs(audio.peak_normalize(mono, 0.9)).max() == pytest.approx(0.9)
    rms = np.sqrt(np.mean(audio.loudness_normalize(mono, -20.0) ** 2))
    assert 20 * np.log10(rms) == pytest.approx(-20.0, abs=1e-3)


def test_unreadable_files_name_themselves(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF....WAVEnot really")
    with pytest.raises(audio.AudioError, match=r"bad\.wav"):
        audio.load(bad)
    with pytest.raises(audio.AudioError, match=r"missing\.flac"):
        audio.info(tmp_path / "missing.flac")
