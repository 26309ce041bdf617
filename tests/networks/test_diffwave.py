import pytest
import torch
from network_checks import (
    C_NOISE_SCALES,
    denoising_losses,
    parameter_count,
    randomize_zeros,
    rebuilt,
    sine_batch,
)

from cadenza.networks import DiffWave, network
from cadenza.networks.diffwave import gated_tanh

SMALL = {"residual_layers": 4, "residual_channels": 8, "dilation_cycle": 3}


def small_diffwave(channels: int = 1) -> DiffWave:
    torch.manual_seed(0)
    return randomize_zeros(network("diffwave", channels=channels, **SMALL)).eval()


@pytest.mark.parametrize("samples", [1, 7, 101, 1000])
@pytest.mark.parametrize("channels", [1, 2])
def test_output_has_the_input_shape_for_any_length(samples, channels):
    model = small_diffwave(channels)
    x = torch.randn(2, channels, samples)
    with torch.no_grad():
        out = model(x, torch.tensor([0.1, 500.0]))
    assert out.shape == x.shape
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("c_noise", C_NOISE_SCALES.values(), ids=C_NOISE_SCALES.keys())
def test_any_noise_conditioning_scale_works_and_is_deterministic(c_noise):
    model = small_diffwave()
    x = torch.randn(3, 1, 64)
    c = torch.full((3,), c_noise)
    with torch.no_grad():
        first, second = model(x, c), model(x, c)
        other = model(x, c + 0.05)
    assert torch.isfinite(first).all()
    assert torch.equal(first, second)
    assert not torch.allclose(first, other)  # the network hears the noise level


def test_config_rebuilds_the_same_network():
    model = small_diffwave(channels=2)
    copy = rebuilt(model).eval()
    x = torch.randn(1, 2, 50)
    with torch.no_grad():
        assert torch.equal(model(x, torch.tensor([3.0])), copy(x, torch.tensor([3.0])))
    assert copy.config() == model.config()


def test_a_fresh_network_outputs_zero():
    model = network("diffwave", **SMALL)
    assert model(torch.randn(2, 1, 30), torch.tensor([1.0, 2.0])).abs().max() == 0


def test_seed_configuration_size():
    """Seeds 000/003: 30 layers, 64 channels, cycle 10 -> 2.31 M parameters unconditional
    (lmnt's conditional vocoder adds 0.31 M for its 80-mel conditioner: 2.62 M)."""
    model = network("diffwave", **DiffWave.SEED)
    count = parameter_count(model)
    tiny = parameter_count(DiffWave(**DiffWave.TINY))
    print(f"diffwave seed: {count:,} parameters; tiny: {tiny:,}")
    assert count == 2_308_737
    assert DiffWave().config() == model.config()  # the seed is the default


def test_gate_backward_matches_autograd():
    y = torch.randn(2, 6, 9, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(gated_tanh, (y,))
    gate, filter_ = y.detach().chunk(2, dim=1)
    assert torch.allclose(gated_tanh(y), torch.sigmoid(gate) * torch.tanh(filter_))


def test_learns_to_denoise_a_fixed_batch():
    torch.manual_seed(0)
    model = network("diffwave", **SMALL)
    losses = denoising_losses(model, sine_batch((2, 1, 256)), steps=40)
    assert losses[-1] < 0.5 * losses[0]


def test_bad_configs_and_inputs_raise():
    with pytest.raises(ValueError, match="residual_layers"):
        network("diffwave", residual_layers=0)
    with pytest.raises(ValueError, match="dilation_cycle"):
        network("diffwave", dilation_cycle=2.5)
    model = network("diffwave", **SMALL)
    with pytest.raises(ValueError, match="expects"):
        model(torch.randn(2, 100), torch.zeros(2))
    with pytest.raises(ValueError, match="c_noise"):
        model(torch.randn(2, 1, 100), torch.zeros(3))
