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

from cadenza.networks import UNet2dLinearAttention, network

# Three levels, time padded to a multiple of 4; linear attention at the two coarsest.
SMALL = {
    "n_mels": 8,
    "width": 16,
    "width_multipliers": (1, 1, 2),
    "hidden_factor": 2,
    "blocks_per_level": 1,
    "attention_levels": (1, 2),
    "attention_heads": 2,
}


def small_unet() -> UNet2dLinearAttention:
    torch.manual_seed(0)
    return randomize_zeros(network("unet2d_linear_attention", **SMALL)).eval()


@pytest.mark.parametrize("frames", [1, 7, 101, 1000])
@pytest.mark.parametrize("channels", [1, 2])
def test_output_has_the_input_shape_for_any_number_of_frames(frames, channels):
    model = small_unet()  # mono and stereo share the weights
    assert model.multiple == 4
    x = torch.randn(2, channels, 8, frames)
    with torch.no_grad():
        out = model(x, torch.tensor([0.2, 900.0]))
    assert out.shape == x.shape
    assert torch.isfinite(out).all()


def test_minutes_of_mel_in_one_pass():
    """Msanii's point: cost linear in time. 8192 frames is 3 minutes at 44.1 kHz, hop 1024."""
    model = small_unet()
    x = torch.randn(1, 2, 8, 8192)
    with torch.no_grad():
        out = model(x, torch.tensor([0.5]))
    assert out.shape == x.shape
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("c_noise", C_NOISE_SCALES.values(), ids=C_NOISE_SCALES.keys())
def test_any_noise_conditioning_scale_works_and_is_deterministic(c_noise):
    model = small_unet()
    x = torch.randn(2, 1, 8, 24)
    c = torch.full((2,), c_noise)
    with torch.no_grad():
        first, second, other = model(x, c), model(x, c), model(x, c + 0.05)
    assert torch.isfinite(first).all()
    assert torch.equal(first, second)
    assert not torch.allclose(first, other)


def test_config_rebuilds_the_same_network():
    model = small_unet()
    copy = rebuilt(model).eval()
    x = torch.randn(1, 2, 8, 13)
    with torch.no_grad():
        assert torch.equal(model(x, torch.tensor([0.5])), copy(x, torch.tensor([0.5])))


def test_a_fresh_network_outputs_zero():
    model = network("unet2d_linear_attention", **SMALL)
    assert model(torch.randn(2, 1, 8, 9), torch.zeros(2)).abs().max() == 0


def test_seed_configuration_is_msaniis_size():
    """Msanii reports 49.8 M parameters for width 256 and 14 U-Net blocks."""
    seed = parameter_count(network("unet2d_linear_attention", **UNet2dLinearAttention.SEED))
    tiny = parameter_count(network("unet2d_linear_attention", **UNet2dLinearAttention.TINY))
    print(f"unet2d_linear_attention seed: {seed:,}; tiny: {tiny:,}")
    assert 49.5e6 < seed < 50.5e6
    assert tiny < 2e6


def test_learns_to_denoise_a_fixed_batch():
    torch.manual_seed(0)
    model = network("unet2d_linear_attention", **SMALL)
    losses = denoising_losses(model, sine_batch((2, 1, 8, 32)), steps=40)
    assert losses[-1] < 0.5 * losses[0]


def test_bad_configs_and_inputs_raise():
    with pytest.raises(ValueError, match="width"):
        network("unet2d_linear_attention", width=-4)
    with pytest.raises(ValueError, match="expects"):
        small_unet()(torch.randn(1, 1, 7, 16), torch.zeros(1))
