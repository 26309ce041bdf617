import pytest
import torch
from network_checks import parameter_count, rebuilt

from cadenza.networks import Vocos, network
from cadenza.representations import Mel

SMALL = {"n_mels": 16, "n_fft": 64, "hop_length": 16, "width": 16, "hidden": 32, "layers": 2}


@pytest.mark.parametrize("frames", [1, 7, 101])
@pytest.mark.parametrize("channels", [1, 2])
def test_log_mel_to_a_wave_of_the_asked_length(frames, channels):
    torch.manual_seed(0)
    vocos = network("vocos", **SMALL).eval()
    log_mel = torch.randn(2, channels, 16, frames) - 4
    samples = (frames - 1) * 16 + 5
    with torch.no_grad():
        wave = vocos(log_mel, samples=samples)
        assert wave.shape == (2, channels, samples) and torch.isfinite(wave).all()
        assert torch.equal(rebuilt(vocos).eval()(log_mel, samples=samples), wave)
        if frames > 1:  # without a length, the centred STFT's own: a hop a frame after the first
            assert vocos(log_mel).shape[-1] == (frames - 1) * 16


def test_channels_are_vocoded_independently():
    vocos = network("vocos", **SMALL).eval()
    log_mel = torch.randn(1, 2, 16, 9)
    with torch.no_grad():
        both = vocos(log_mel)
        assert torch.allclose(both[:, 1:], vocos(log_mel[:, 1:]), atol=1e-6)


def test_seed_configuration_is_the_papers_size():
    seed = parameter_count(network("vocos", **Vocos.SEED))
    assert 13.0e6 < seed < 14.0e6  # Vocos' mel model: 13.5 M


def test_learns_a_chirp_through_its_inverse_stft():
    """Fit one chirp from its log-mel: the multi-resolution STFT loss falls by half."""
    import auraloss

    torch.manual_seed(0)
    sample_rate, n_fft, hop = 8000, 256, 64
    time = torch.arange(4000) / sample_rate
    wave = 0.5 * torch.sin(2 * torch.pi * (200 + 1500 * time) * time).reshape(1, 1, -1)
    mel = Mel(sample_rate, n_fft=n_fft, hop_length=hop, n_mels=32)
    vocos = network("vocos", n_mels=32, n_fft=n_fft, hop_length=hop, width=32, hidden=64,
                    layers=2)
    stft_loss = auraloss.freq.MultiResolutionSTFTLoss(
        fft_sizes=[256, 512, 128], hop_sizes=[32, 64, 16], win_lengths=[256, 512, 128])
    optimizer = torch.optim.Adam(vocos.parameters(), 1e-2)
    log_mel = mel.log_mel(wave)
    losses = []
    for _ in range(150):
        loss = stft_loss(vocos(log_mel, samples=wave.shape[-1]), wave)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    print(f"{losses[0]:.2f} -> {losses[-1]:.2f}")
    assert losses[-1] < 0.5 * losses[0]
