import pytest

from cadenza.pipeline import SHIPPED, load, model_folder
from cadenza.plan import Plan


@pytest.mark.parametrize("name", SHIPPED)
def test_no_default_schedule_leaves_the_noise_range_the_model_was_trained_on(name):
    """Above its trained range a network extrapolates; every step count must stay inside."""
    pipeline = load(model_folder(name))
    low, high = pipeline.sigma_range or pipeline.objective.sigma_range
    for steps in (5, 10, 20, 50, 200):
        sigmas = pipeline.sigmas(pipeline.plan(steps=steps))
        assert sigmas[-1] == 0 and (sigmas[:-1] >= low * (1 - 1e-6)).all()
        assert float(sigmas[0]) <= high * (1 + 1e-6), (steps, float(sigmas[0]), high)


def test_the_default_mel_model_decodes_through_its_vocos():
    pipeline = load(model_folder("tiny-piano-mel"))
    assert pipeline.vocoder is not None and pipeline.vocoder.name == "vocos"
    assert pipeline.defaults == Plan("deis", 20, "tuned")
