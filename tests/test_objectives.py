import pytest
import torch
from torch import nn

from cadenza.objectives import OBJECTIVES, objective
from cadenza.oracle import GaussianOracle

LENGTH = 32
ORACLE = GaussianOracle.from_spectrum("pink", LENGTH)


class SpectralFilterNet(nn.Module):
    """F(x, c_noise) = irfft(gain(c_noise) * rfft(x)): can express every oracle denoiser exactly."""

    def __init__(self, hidden: int = 64):
        super().__init__()
        self.register_buffer("frequencies", torch.logspace(-3, 1, 16))
        self.mlp = nn.Sequential(
            nn.Linear(32, hidden),
            nn.SiLU(),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, LENGTH // 2 + 1),
        )

    def forward(self, x, c_noise):
        angles = c_noise.reshape(-1, 1).float() * self.frequencies
        gain = self.mlp(torch.cat([angles.sin(), angles.cos()], dim=1)).unsqueeze(1)
        return torch.fft.irfft(torch.fft.rfft(x, norm="ortho") * gain, n=LENGTH, norm="ortho")


def excess_error(denoiser) -> float:
    """E|D(x, sigma) - D*(x, sigma)|^2 / E|x0|^2 over a sigma grid: zero for the exact denoiser."""
    generator = torch.Generator().manual_seed(123)
    x0 = ORACLE.sample(256, 1, generator=generator)
    total = 0.0
    for sigma in (0.05, 0.2, 1.0, 5.0):
        x = x0 + sigma * torch.randn(x0.shape, generator=generator)
        with torch.no_grad():
            total += float((denoiser(x, sigma) - ORACLE.denoise(x, sigma)).pow(2).mean())
    return total / 4


OPTIONS = {
    "ddpm": [{"betas": "linear"}, {"betas": "cosine", "loss_type": "l1"}],
    "vcosine": [{"weighting": "snr_trunc"}, {"weighting": "snr+1"}],
    "edm": [{"sigma_data": 1.0, "p_mean": -0.5, "p_std": 1.5}],
}


@pytest.mark.parametrize(
    ("name", "options"),
    [(name, options) for name in OBJECTIVES for options in OPTIONS[name]],
)
def test_a_tiny_model_learns_the_exact_denoiser_with_each_objective(name, options):
    torch.manual_seed(0)
    train = objective(name, **options)
    network = SpectralFilterNet()
    denoiser = train.denoiser(network)
    before = excess_error(denoiser)
    optimiser = torch.optim.Adam(network.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(1)
    losses = []
    for _ in range(400):
        x0 = ORACLE.sample(128, 1, generator=generator)
        loss = train.loss(network, x0, generator=generator)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    after = excess_error(denoiser)
    # The loss keeps an irreducible part (the posterior variance), so the sharp test is the
    # distance to the exact denoiser, which training must cut twenty-fold.
    assert after < 0.05 * before, (before, after)
    assert sum(losses[-50:]) / 50 < sum(losses[:10]) / 10


def test_objectives_report_their_sigma_range():
    for name in OBJECTIVES:
        low, high = objective(name).sigma_range
        assert 0 < low < 0.1 and high > 10


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="unknown objective"):
        objective("flow")
    with pytest.raises(ValueError, match="unknown betas"):
        objective("ddpm", betas="quadratic")
    with pytest.raises(ValueError, match="unknown weighting"):
        objective("vcosine", weighting="min-snr")
