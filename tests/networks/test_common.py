"""The pieces every network shares; here, sampling at lengths the network was not trained on."""

import pytest
import torch
from torch import nn

from cadenza.networks.common import PaddedAsTrained


class Recorder(nn.Module):
    """A 'U-Net' padding time to a multiple of 8 that remembers the lengths it was given."""

    multiple = 8

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[int] = []

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        self.frames.append(x.shape[-1])
        return 2 * x


@pytest.mark.parametrize("frames", [40, 41, 43, 44, 47, 313, 376])
def test_the_network_always_sees_the_trained_crops_padding_and_the_output_is_cropped_back(frames):
    network = Recorder()
    padded = PaddedAsTrained(network, trained_frames=251)  # 4 s of 16 kHz mel: 5 frames pad
    x = torch.randn(2, 1, 4, frames)
    out = padded(x, torch.zeros(2))
    assert out.shape == x.shape and torch.equal(out, 2 * x)
    seen = network.frames[-1]
    assert seen >= frames and -seen % 8 == -251 % 8 == 5


def test_lengths_padded_as_in_training_pass_through_untouched():
    network = Recorder()
    x = torch.randn(1, 1, 4, 251 + 8)
    assert torch.equal(PaddedAsTrained(network, 251)(x, torch.zeros(1)), 2 * x)
    assert network.frames == [259]


def test_the_added_frames_are_the_mirror_image_of_the_last_ones():
    seen = []

    class Keep(Recorder):
        def forward(self, x, c_noise):
            seen.append(x)
            return x

    x = torch.arange(10.0).view(1, 1, 10)  # padding 6; trained on 3 frames (padding 5)
    PaddedAsTrained(Keep(), 3)(x, torch.zeros(1))
    assert seen[0].flatten().tolist() == [*range(10), 9]
