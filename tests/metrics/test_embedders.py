import numpy as np
import pytest

from cadenza.metrics.embedders import (
    Embedder,
    FrameEmbedder,
    MelStats,
    ThirdPartyModelError,
    embedder,
)
from cadenza.metrics.frechet import fad

RATE = 16000


def chords(count: int, seed: int, seconds: float = 1.0) -> np.ndarray:
    """Random three-note chords of decaying harmonic tones, one per clip."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * RATE)) / RATE
    clips = np.zeros((count, t.size))
    for clip in clips:
        for midi in rng.integers(48, 84, 3):
            frequency = 440 * 2 ** ((midi - 69) / 12)
            clip += sum(np.sin(2 * np.pi * h * frequency * t) / h**2 for h in (1, 2, 3))
        clip *= 0.1 * np.exp(-3 * t)
    return clips


def test_mel_stats_embeds_clips_as_mean_and_std_of_frame_features():
    mel_stats = embedder("mel_stats", sample_rate=RATE, n_fft=1024, hop_length=256, n_mels=32)
    assert isinstance(mel_stats, Embedder) and isinstance(mel_stats, FrameEmbedder)
    clips = chords(3, seed=0)
    embeddings = mel_stats(clips)
    assert embeddings.shape == (3, mel_stats.dim) and len(mel_stats.names) == mel_stats.dim
    assert embeddings.dtype == np.float64 and np.isfinite(embeddings).all()
    frames = mel_stats.frames(clips)
    assert frames.shape == (3, RATE // 256 + 1, mel_stats.dim // 2)
    # A clip's embedding does not depend on the batch it came in.
    np.testing.assert_allclose(mel_stats(clips[1:2])[0], embeddings[1], rtol=1e-10, atol=1e-10)
    assert np.isfinite(mel_stats(np.zeros((1, RATE)))).all()  # silence is fine


def test_fad_on_mel_stats_tells_music_from_noise():
    mel_stats = MelStats(sample_rate=RATE, n_fft=1024, hop_length=256, n_mels=32, n_mfcc=13)
    reference = mel_stats(chords(60, seed=1))
    same_kind = mel_stats(chords(60, seed=2))
    noisy = mel_stats(chords(60, seed=3) + 0.01 * np.random.default_rng(4).standard_normal(RATE))
    assert fad(same_kind, reference) < fad(noisy, reference) / 3


def test_third_party_models_are_never_downloaded(tmp_path):
    with pytest.raises(ThirdPartyModelError, match="never downloads"):
        embedder("vggish")
    with pytest.raises(ThirdPartyModelError, match=r"CLAP.*local weights path"):
        embedder("clap", path=tmp_path)
    with pytest.raises(ValueError, match="unknown embedder"):
        embedder("inception-v3")


def test_a_torchscript_export_is_an_embedder_from_a_local_file(tmp_path):
    import torch

    class FrameStats(torch.nn.Module):  # stands in for an exported VGGish / CLAP audio tower
        def forward(self, clips: torch.Tensor) -> torch.Tensor:
            frames = clips.reshape(clips.shape[0], -1, 400)
            return torch.stack([frames.std(-1), frames.abs().amax(-1)], -1)  # (n, frames, 2)

    path = tmp_path / "frame_stats.pt"
    torch.jit.script(FrameStats()).save(str(path))
    model = embedder(str(path), model_rate=8000)
    assert model.sample_rate == 8000 and isinstance(model, Embedder)
    clips = np.random.default_rng(0).standard_normal((5, 8000)) * np.arange(1, 6)[:, None]
    embeddings = model(clips)
    assert embeddings.shape == (5, 2)
    assert np.allclose(embeddings[:, 0], np.arange(1, 6), rtol=0.1)  # std of each clip
    assert embedder("vggish", path=str(path)).name == "vggish"
    with pytest.raises(ThirdPartyModelError, match="not a TorchScript model"):
        (tmp_path / "broken.pt").write_bytes(b"not a model")
        embedder(str(tmp_path / "broken.pt"))


def test_a_torch_export_program_is_an_embedder_from_a_local_file(tmp_path):
    import torch

    class FrameStats(torch.nn.Module):  # a tiny stand-in for an exported embedding model
        def forward(self, clips: torch.Tensor) -> torch.Tensor:
            frames = clips.reshape(clips.shape[0], -1, 400)
            return torch.stack([frames.std(-1), frames.abs().amax(-1)], -1)  # (n, frames, 2)

    example = (torch.zeros(3, 8000),)
    dynamic = tmp_path / "dynamic.pt2"
    torch.export.save(torch.export.export(
        FrameStats(), example, dynamic_shapes=({0: torch.export.Dim("batch")},)), dynamic)
    fixed = tmp_path / "fixed.pt2"  # batch 3 and 8000 samples frozen in by the export
    torch.export.save(torch.export.export(FrameStats(), example), fixed)

    clips = np.random.default_rng(0).standard_normal((5, 8000)) * np.arange(1, 6)[:, None]
    for path in (dynamic, fixed):
        model = embedder(str(path), model_rate=8000)
        assert isinstance(model, Embedder) and model.sample_rate == 8000
        embeddings = model(clips)  # 5 clips: the fixed batch of 3 runs as 3 + (2 padded)
        assert embeddings.shape == (5, 2)
        assert np.allclose(embeddings[:, 0], np.arange(1, 6), rtol=0.1)  # std of each clip
    assert embedder("clap", path=str(dynamic)).name == "clap"
    with pytest.raises(ThirdPartyModelError, match="exactly 8000 samples"):
        embedder(str(fixed), model_rate=8000)(clips[:, :4000])
    (tmp_path / "broken.pt2").write_bytes(b"not a model")
    with pytest.raises(ThirdPartyModelError, match=r"not a torch\.export program"):
        embedder(str(tmp_path / "broken.pt2"))
    with pytest.raises(ThirdPartyModelError, match=r"no such torch\.export file"):
        embedder(str(tmp_path / "missing.pt2"))
