import json

import pytest
import torch
from torch import nn

from cadenza.networks import DIFFUSION_NETWORKS, NETWORKS, network, network_class


def test_names():
    assert NETWORKS == (
        "diffwave", "unet1d", "unet2d_linear_attention", "unet2d", "vocoder", "vocos", "vocos_gan"
    )
    assert set(DIFFUSION_NETWORKS) == set(NETWORKS) - {"vocoder", "vocos", "vocos_gan"}


@pytest.mark.parametrize("name", NETWORKS)
def test_tiny_configurations_build_and_rebuild_from_json(name):
    cls = network_class(name)
    model = network(name, **cls.TINY)
    assert isinstance(model, nn.Module) and model.name == name
    config = json.loads(json.dumps(model.config()))
    copy = network(name, **config)
    copy.load_state_dict(model.state_dict())  # same names and shapes
    assert copy.config() == model.config()


LAYOUTS = {
    "diffwave": (2, 1, 257),
    "unet1d": (2, 1, 128, 19),
    "unet2d_linear_attention": (2, 1, 128, 19),
    "unet2d": (2, 2, 33, 19),
}


def test_every_diffusion_network_keeps_the_shape_of_its_input():
    for name in DIFFUSION_NETWORKS:
        model = network(name, **network_class(name).TINY)
        x = torch.randn(LAYOUTS[name])
        with torch.no_grad():
            assert model(x, torch.tensor([0.1, 0.9])).shape == x.shape


def test_unknown_names_and_options_raise_value_error():
    with pytest.raises(ValueError, match="unknown network 'wavenet'"):
        network("wavenet")
    with pytest.raises(ValueError, match="no option"):
        network("diffwave", residual_chanels=64)
    with pytest.raises(ValueError, match="positive integer"):
        network("unet1d", base_channels="64")


@pytest.mark.parametrize("name", DIFFUSION_NETWORKS)
def test_every_diffusion_network_trains_under_bf16_autocast(name):
    """What ``mixed_precision: bf16`` does to a training step (on a CPU as on a GPU): the
    forward runs in bf16, the gradients reach every float32 weight and are finite."""
    torch.manual_seed(0)
    model = network(name, **network_class(name).TINY)
    x = torch.randn(LAYOUTS[name])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(x, torch.tensor([0.1, 0.9]))
        loss = (out.float() - x).pow(2).mean()
    loss.backward()
    assert out.dtype == torch.bfloat16 and out.shape == x.shape
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and g.dtype == torch.float32 and torch.isfinite(g).all()
               for g in grads)
