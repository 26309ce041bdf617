import json

import pytest
import torch
from torch import nn

from cadenza.networks import DIFFUSION_NETWORKS, NETWORKS, network, network_class


def test_names():
    assert NETWORKS == ("diffwave", "unet1d", "unet2d_linear_attention", "unet2d", "vocoder")
    assert set(DIFFUSION_NETWORKS) == set(NETWORKS) - {"vocoder"}


@pytest.mark.parametrize("name", NETWORKS)
def test_tiny_configurations_build_and_rebuild_from_json(name):
    cls = network_class(name)
    model = network(name, **cls.TINY)
    assert isinstance(model, nn.Module) and model.name == name
    config = json.loads(json.dumps(model.config()))
    copy = network(name, **config)
    copy.load_state_dict(model.state_dict())  # same names and shapes
    assert copy.config() == model.config()


def test_every_diffusion_network_keeps_the_shape_of_its_input():
    layouts = {
        "diffwave": (2, 1, 257),
        "unet1d": (2, 1, 128, 19),
        "unet2d_linear_attention": (2, 1, 128, 19),
        "unet2d": (2, 2, 33, 19),
    }
    for name in DIFFUSION_NETWORKS:
        model = network(name, **network_class(name).TINY)
        x = torch.randn(layouts[name])
        with torch.no_grad():
            assert model(x, torch.tensor([0.1, 0.9])).shape == x.shape


def test_unknown_names_and_options_raise_value_error():
    with pytest.raises(ValueError, match="unknown network 'wavenet'"):
        network("wavenet")
    with pytest.raises(ValueError, match="no option"):
        network("diffwave", residual_chanels=64)
    with pytest.raises(ValueError, match="positive integer"):
        network("unet1d", base_channels="64")
