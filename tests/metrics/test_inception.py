import numpy as np
import pytest

from cadenza.metrics.inception import inception_score


def test_confident_evenly_spread_classifier_scores_the_number_of_classes():
    classes = 10
    one_hot = np.eye(classes)[np.arange(1000) % classes]
    assert inception_score(one_hot).mean == pytest.approx(classes)
    # Nearly confident rows score nearly K.
    soft = 0.99 * one_hot + 0.01 / classes
    assert 8.5 < inception_score(soft).mean < classes


def test_constant_classifier_scores_one():
    rows = np.tile([0.7, 0.2, 0.1], (100, 1))
    assert inception_score(rows).mean == pytest.approx(1.0)


def test_splits_give_a_spread():
    rng = np.random.default_rng(0)
    logits = 3 * rng.standard_normal((500, 5))
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    score = inception_score(probabilities, splits=5)
    assert score.splits == 5 and score.std > 0 and 1 < score.mean < 5


def test_rows_must_be_probabilities():
    with pytest.raises(ValueError, match="sum to 1"):
        inception_score(np.ones((4, 3)))
