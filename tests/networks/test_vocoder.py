import pytest
import torch
from network_checks import parameter_count, rebuilt

from cadenza.networks import Vocoder, network, vocoder_loss
from cadenza.representations import Mel

SMALL = {"n_mels": 16, "n_fft": 64, "width": 16, "hidden_factor": 2}


@pytest.mark.parametrize("frames", [1, 7, 101])
@pytest.mark.parametrize("channels", [1, 2])
def test_mel_to_non_negative_linear_magnitude(frames, channels):
    torch.manual_seed(0)
    vocoder = network("vocoder", **SMALL).eval()
    mel = torch.rand(2, channels, 16, frames) * 2 - 1  # scaled mel lies in [-1, 1]
    with torch.no_grad():
        magnitude = vocoder(mel)
    assert magnitude.shape == (2, channels, 64 // 2 + 1, frames)
    assert torch.isfinite(magnitude).all() and (magnitude >= 0).all()
    with torch.no_grad():
        assert torch.equal(rebuilt(vocoder).eval()(mel), magnitude)


def test_seed_configuration_is_msaniis_size():
    seed = parameter_count(network("vocoder", **Vocoder.SEED))
    print(f"vocoder seed: {seed:,}; tiny: {parameter_count(network('vocoder', **Vocoder.TINY)):,}")
    assert 1.35e6 < seed < 1.45e6  # Msanii: 1.4 M


def test_loss_is_zero_at_the_target_and_positive_elsewhere():
    target = torch.rand(2, 1, 33, 10) + 0.1
    assert vocoder_loss(target, target).abs() < 1e-6
    assert vocoder_loss(2 * target, target) > 0.5
    with pytest.raises(ValueError, match="shape"):
        vocoder_loss(target, target[..., :5])


def test_fits_one_real_example():
    """Encode a chirp with cadenza's mel, then fit its linear magnitude."""
    torch.manual_seed(0)
    sample_rate, n_fft, hop = 8000, 256, 64
    time = torch.arange(4000) / sample_rate
    wave = torch.sin(2 * torch.pi * (200 + 1500 * time) * time).reshape(1, 1, -1)
    mel = Mel(sample_rate, n_fft=n_fft, hop_length=hop, n_mels=32).fit([wave])
    target = torch.stft(
        wave.reshape(1, -1), n_fft, hop, window=torch.hann_window(n_fft), return_complex=True
    ).abs()[:, None]
    vocoder = network("vocoder", n_mels=32, n_fft=n_fft, width=32, hidden_factor=2)
    optimizer = torch.optim.Adam(vocoder.parameters(), 3e-3)
    losses = []
    for _ in range(60):
        loss = vocoder_loss(vocoder(mel.encode(wave)), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
