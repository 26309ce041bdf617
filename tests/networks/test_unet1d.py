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

from cadenza.networks import UNet1d, network

# Two levels of 16 and 32 channels: time is padded to a multiple of 2 ** (3 - 1) = 4.
SMALL = {
    "base_channels": 16,
    "channel_multipliers": (1, 2, 2),
    "blocks_per_level": 1,
    "attention_levels": (2,),
    "attention_heads": 2,
}


def small_unet(channels: int = 1, freq: int = 8) -> UNet1d:
    torch.manual_seed(0)
    return randomize_zeros(network("unet1d", channels=channels, freq=freq, **SMALL)).eval()


@pytest.mark.parametrize("frames", [1, 7, 101, 1000])
def test_output_has_the_input_shape_for_any_number_of_frames(frames):
    model = small_unet(channels=3, freq=8)  # e.g. a packed mel: 3 x freq x frames
    assert model.multiple == 4
    x = torch.randn(2, 3, 8, frames)
    with torch.no_grad():
        out = model(x, torch.tensor([0.2, 900.0]))
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
    model = small_unet(channels=2, freq=6)
    copy = rebuilt(model).eval()
    x = torch.randn(1, 2, 6, 13)
    with torch.no_grad():
        assert torch.equal(model(x, torch.tensor([0.5])), copy(x, torch.tensor([0.5])))


def test_a_fresh_network_outputs_zero():
    model = network("unet1d", freq=8, **SMALL)
    assert model(torch.randn(2, 1, 8, 9), torch.zeros(2)).abs().max() == 0


def test_seed_and_tiny_sizes():
    seed = parameter_count(network("unet1d", **UNet1d.SEED))
    tiny = parameter_count(network("unet1d", **UNet1d.TINY))
    print(f"unet1d seed (3 x 128 x 128): {seed:,}; tiny (128 mels): {tiny:,}")
    assert 20e6 < seed < 40e6
    assert tiny < 1e6


def test_learns_to_denoise_a_fixed_batch():
    torch.manual_seed(0)
    model = network("unet1d", freq=8, **SMALL)
    losses = denoising_losses(model, sine_batch((2, 1, 8, 32)), steps=40)
    assert losses[-1] < 0.5 * losses[0]


def test_bad_configs_and_inputs_raise():
    with pytest.raises(ValueError, match="attention_levels"):
        network("unet1d", channel_multipliers=(1, 2), attention_levels=(2,))
    with pytest.raises(ValueError, match="divisible"):
        network("unet1d", base_channels=64, attention_heads=3)
    with pytest.raises(ValueError, match="expects"):
        small_unet(freq=8)(torch.randn(1, 1, 9, 16), torch.zeros(1))


def test_input_skip_passes_noise_the_narrow_first_layer_cannot():
    # 72 channels squeezed into 8: without the skip the identity map of white noise (what a
    # v-target is around sigma ~ sigma_data) is out of reach; the gated skip learns it.
    narrow = {**SMALL, "base_channels": 8, "attention_heads": 1}
    losses = {}
    for skip in (False, True):
        torch.manual_seed(0)
        model = network("unet1d", channels=3, freq=24, input_skip=skip, **narrow)
        assert model(torch.randn(2, 3, 24, 8), torch.zeros(2)).abs().max() == 0  # fresh: zero
        optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
        for _ in range(60):
            x = torch.randn(8, 3, 24, 16)
            loss = (model(x, torch.full((8,), 0.5)) - x).square().mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        losses[skip] = loss.item()
    assert losses[True] < 0.2 < 0.6 < losses[False]
