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


def test_a_clip_of_a_length_the_default_was_not_trained_on_does_not_fade_out():
    """Trained on 4 s crops, the U-Net learnt where its zero padding starts: at 6 s (no
    padding) its clips faded into silence over their last 0.3 s, 5 to 20 dB down."""
    import numpy as np

    from cadenza import tasks

    pipeline = load(model_folder("tiny-piano-mel"))
    clips = tasks.generate(pipeline, 6.0, 4, steps=10, seed=1)[:, 0].numpy()
    tail = round(0.3 * pipeline.sample_rate)

    def level(audio):
        return 10 * np.log10(np.mean(audio**2) + 1e-12)

    drops = [level(clip[-tail:]) - level(clip) for clip in clips]
    assert np.median(drops) > -6, drops


def test_a_model_knows_the_frames_of_its_training_crops_and_a_student_its_own():
    pipeline = load(model_folder("tiny-piano-mel"))
    assert pipeline.describe["preset"]["data"]["crop_seconds"] == 4.0
    assert pipeline.trained_frames == pipeline.representation.frames(64000) == 251
    pipeline.describe = {**pipeline.describe, "distillation": [{"round": 1, "crop_seconds": 2.0}]}
    assert pipeline.trained_frames == pipeline.representation.frames(32000)
    pipeline.describe = {}  # nothing said: sampled as it comes
    assert pipeline.trained_frames is None
