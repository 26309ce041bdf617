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

from cadenza.networks import UNet2d, network

# Frequency and time are padded to multiples of 2 ** (3 - 1) = 4.
SMALL = {
    "base_channels": 8,
    "channel_multipliers": (1, 2, 2),
    "blocks_per_level": 1,
    "attention_levels": (2,),
    "attention_heads": 2,
}


def small_unet(channels: int = 2) -> UNet2d:
    torch.manual_seed(0)
    return randomize_zeros(network("unet2d", channels=channels, **SMALL)).eval()


@pytest.mark.parametrize(("freq", "frames"), [(1, 1), (5, 7), (17, 101), (256, 33), (9, 1000)])
def test_output_has_the_input_shape_for_any_size(freq, frames):
    model = small_unet()  # real and imaginary parts of a mono complex STFT
    assert model.multiple == 4
    x = torch.randn(2, 2, freq, frames)
    with torch.no_grad():
        out = model(x, torch.tensor([-2.0, 0.7]))
    assert out.shape == x.shape
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("c_noise", C_NOISE_SCALES.values(), ids=C_NOISE_SCALES.keys())
def test_any_noise_conditioning_scale_works_and_is_deterministic(c_noise):
    model = small_unet(channels=4)  # stereo: 2 x (real, imaginary)
    x = torch.randn(2, 4, 12, 20)
    c = torch.full((2,), c_noise)
    with torch.no_grad():
        first, second, other = model(x, c), model(x, c), model(x, c + 0.05)
    assert torch.isfinite(first).all()
    assert torch.equal(first, second)
    assert not torch.allclose(first, other)


def test_config_rebuilds_the_same_network():
    model = small_unet()
    copy = rebuilt(model).eval()
    x = torch.randn(1, 2, 10, 11)
    with torch.no_grad():
        assert torch.equal(model(x, torch.tensor([0.5])), copy(x, torch.tensor([0.5])))


def test_a_fresh_network_outputs_zero():
    model = network("unet2d", **SMALL)
    assert model(torch.randn(2, 2, 8, 9), torch.zeros(2)).abs().max() == 0


def test_seed_and_tiny_sizes():
    seed = parameter_count(network("unet2d", **UNet2d.SEED))
    tiny = parameter_count(network("unet2d", **UNet2d.TINY))
    print(f"unet2d seed: {seed:,}; tiny: {tiny:,}")
    assert 10e6 < seed < 40e6
    assert tiny < 1e6


def test_learns_to_denoise_a_fixed_batch():
    torch.manual_seed(0)
    model = network("unet2d", **SMALL)
    losses = denoising_losses(model, sine_batch((2, 2, 16, 32)), steps=40)
    assert losses[-1] < 0.5 * losses[0]


def test_bad_configs_and_inputs_raise():
    with pytest.raises(ValueError, match="channel_multipliers"):
        network("unet2d", channel_multipliers=())
    with pytest.raises(ValueError, match="expects"):
        small_unet(channels=2)(torch.randn(1, 1, 8, 8), torch.zeros(1))
