"""The discriminators a GAN-trained Vocos is judged by."""

import pytest
import torch

from cadenza.networks.discriminators import PERIODS, RESOLUTIONS, Discriminators


@pytest.mark.parametrize("samples", [4000, 4001, 4003])  # not a multiple of every period
def test_every_member_judges_any_length_with_logits_and_feature_maps(samples):
    judges = Discriminators(width=2)
    judgements = judges(0.1 * torch.randn(3, 1, samples))
    assert len(judgements) == len(PERIODS) + len(RESOLUTIONS)
    for logits, features in judgements:
        assert logits.shape[0] == 3 and logits.ndim == 2 and torch.isfinite(logits).all()
        assert len(features) == 5 and features[-1].flatten(1).shape == logits.shape


def test_a_wave_of_the_wrong_shape_is_a_clear_error():
    with pytest.raises(ValueError, match="batch, 1, samples"):
        Discriminators(width=2)(torch.zeros(2, 4000))
    with pytest.raises(ValueError, match="discriminator_width"):
        Discriminators(width=0)
