"""The tasks over a model: generate, inpaint, outpaint, extend, transfer, interpolate."""

import itertools
import json
import math

import pytest
import torch

import cadenza
from cadenza import tasks
from cadenza.checkpoint import CheckpointError
from cadenza.networks import network
from cadenza.pipeline import Pipeline, shipped
from cadenza.plan import EDIT_STRATEGY, Plan
from cadenza.representations import representation

STEPS = 6  # the shipped model's fewest steps that still give sane audio (3 or 4 blow up)


@pytest.fixture(scope="module")
def pipeline():
    return cadenza.load(shipped())


def tone(pipeline, seconds: float = 2.0, pitch: float = 261.6, decay: float = 2.0) -> torch.Tensor:
    """A mono piano-like tone, one note every half second: (1, samples)."""
    t = torch.arange(round(seconds * pipeline.sample_rate)) / pipeline.sample_rate
    return (0.2 * torch.sin(2 * math.pi * pitch * t) * torch.exp(-decay * (t % 0.5)))[None]


def decoded(pipeline, clip: torch.Tensor) -> torch.Tensor:
    """``clip`` (channels, samples) encoded and decoded: what the model's decoder makes of it."""
    return pipeline.decode(pipeline.representation.encode(clip[None]), clip.shape[-1])[0]


def distance(pipeline, a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean absolute difference of the two clips' encodings (mel: phase does not count)."""
    encode = pipeline.representation.encode
    return float((encode(a[None]) - encode(b[None])).abs().mean())


EXTEND = {"window_seconds": 2.0, "context_seconds": 1.5, "steps": STEPS}


@pytest.mark.parametrize("seconds", [0.5, 1.0, 1.23])
def test_generate_gives_exactly_the_seconds_asked_for(pipeline, seconds):
    """Mel frames come in whole hops (256 samples): 1 s used to come back as 0.992 s."""
    wave = tasks.generate(pipeline, seconds, 1, steps=2)
    assert wave.shape == (1, 1, round(seconds * pipeline.sample_rate))


def test_extend_is_prompt_plus_seconds_with_the_prompt_verbatim(pipeline):
    prompt = tone(pipeline)
    added = round(1.3 * pipeline.sample_rate)  # not a whole number of 0.5 s passes
    kept = tasks.extend(pipeline, prompt, 1.3, **EXTEND)
    assert kept.shape == (1, prompt.shape[-1] + added)
    assert torch.equal(kept[:, : prompt.shape[-1]], prompt)
    assert kept[:, prompt.shape[-1]:].abs().max() > 0

    rewritten = tasks.extend(pipeline, prompt, 1.3, keep_prompt=False, **EXTEND)
    assert rewritten.shape == kept.shape
    context = round(1.5 * pipeline.sample_rate)
    assert torch.equal(rewritten[:, : prompt.shape[-1] - context],
                       prompt[:, : prompt.shape[-1] - context])
    assert not torch.equal(rewritten[:, -context:], prompt[:, -context:])


def test_extend_chunks_add_up_to_extend_in_memory(pipeline):
    """The CLI streams the chunks to disk; joined, they are exactly the in-memory result."""
    prompt = tone(pipeline)
    chunks = list(tasks.extend_chunks(pipeline, prompt[None], 1.0, **EXTEND))
    assert len(chunks) > 2 and all(chunk.shape[:2] == (1, 1) for chunk in chunks)
    joined = torch.cat(chunks, dim=-1)[0]
    assert torch.equal(joined, tasks.extend(pipeline, prompt, 1.0, **EXTEND))


def test_an_unknown_strategy_is_refused_with_the_choices(pipeline):
    with pytest.raises(ValueError, match="repaint-fast"):
        tasks.extend(pipeline, tone(pipeline), 1.0, strategy="nope", **EXTEND)


def test_a_prompt_shorter_than_the_context_is_refused_with_the_minimum(pipeline):
    with pytest.raises(ValueError, match=r"at least context_seconds = 1\.5 s"):
        tasks.extend(pipeline, tone(pipeline, 1.0), 1.0, **EXTEND)


TASKS = {
    "inpaint": lambda p, x, **kw: tasks.inpaint(p, x, [(0.5, 1.0)], **kw),
    "outpaint": lambda p, x, **kw: tasks.outpaint(p, x, 0.5, **kw),
    "extend": lambda p, x, **kw: tasks.extend(p, x, 0.6, window_seconds=2.0,
                                              context_seconds=1.5, **kw),
    "repaint": lambda p, x, **kw: tasks.inpaint(p, x, [(0.5, 1.0)], strategy="repaint",
                                                jump_length=2, resample=2, **kw),
    "transfer": lambda p, x, **kw: tasks.transfer(p, x, 0.5, **kw),
    "interpolate": lambda p, x, **kw: tasks.interpolate(p, x, x.flip(-1), 0.5, **kw),
}


@pytest.mark.parametrize("task", TASKS)
def test_the_same_seed_gives_the_same_audio(pipeline, task):
    run, prompt = TASKS[task], tone(pipeline)
    first = run(pipeline, prompt, seed=3, steps=STEPS)
    assert torch.equal(first, run(pipeline, prompt, seed=3, steps=STEPS))
    assert not torch.equal(first, run(pipeline, prompt, seed=4, steps=STEPS))


def test_inpaint_keeps_the_audio_outside_the_gaps_bit_exact(pipeline):
    clip, rate = tone(pipeline), pipeline.sample_rate
    gaps = [(0.5, 0.8), (1.2, 1.5)]
    result = tasks.inpaint(pipeline, clip, gaps, steps=STEPS)
    assert result.shape == clip.shape
    inside = torch.zeros(clip.shape[-1], dtype=torch.bool)
    for start, end in gaps:
        inside[round(start * rate): round(end * rate)] = True
    assert torch.equal(result[:, ~inside], clip[:, ~inside])
    fade = round(0.02 * rate)  # the crossfades lie inside the gaps
    middle = slice(round(0.5 * rate) + fade, round(0.8 * rate) - fade)
    assert (result[:, middle] - clip[:, middle]).abs().mean() > 1e-3


def test_inpaint_takes_batches(pipeline):
    clips = torch.stack([tone(pipeline), tone(pipeline, pitch=392.0)])
    assert tasks.inpaint(pipeline, clips, [(0.5, 1.0)], steps=STEPS).shape == clips.shape


@pytest.mark.parametrize("gaps", [[], [(1.0, 0.5)], [(0.5, 0.5)], [(1.5, 2.5)], [(-0.1, 0.2)]])
def test_empty_or_outside_gaps_are_refused(pipeline, gaps):
    with pytest.raises(ValueError, match="gap"):
        tasks.inpaint(pipeline, tone(pipeline), gaps, steps=STEPS)


@pytest.mark.parametrize("side", ["after", "before"])
def test_outpaint_adds_exactly_the_seconds_asked_for(pipeline, side):
    clip = tone(pipeline, 1.5)
    result = tasks.outpaint(pipeline, clip, 0.77, side, steps=STEPS)
    assert result.shape[-1] == clip.shape[-1] + round(0.77 * pipeline.sample_rate)
    known = result[:, : clip.shape[-1]] if side == "after" else result[:, -clip.shape[-1]:]
    assert torch.equal(known, clip)


def test_transfer_with_a_small_strength_stays_closer_to_the_input(pipeline):
    """Measured against the input through the model's own decoder: a pure tone's round trip
    through the vocoder is already as far from it as a new clip can be."""
    clip = tone(pipeline)
    near = tasks.transfer(pipeline, clip, 0.2, steps=STEPS)
    far = tasks.transfer(pipeline, clip, 1.0, steps=STEPS)
    assert near.shape == far.shape == clip.shape
    assert distance(pipeline, near, decoded(pipeline, clip)) < distance(
        pipeline, far, decoded(pipeline, clip)) / 4
    with pytest.raises(ValueError, match="strength"):
        tasks.transfer(pipeline, clip, 0.0)


@pytest.mark.parametrize("mode", ["slerp", "linear"])
def test_interpolation_ends_lie_near_their_own_side(pipeline, mode):
    a, b = tone(pipeline, pitch=196.0), tone(pipeline, 2.3, pitch=784.0)
    at_a = tasks.interpolate(pipeline, a, b, 0.0, mode=mode, steps=STEPS)
    at_b = tasks.interpolate(pipeline, a, b, 1.0, mode=mode, steps=STEPS)
    assert at_a.shape == at_b.shape == a.shape  # cropped to the shorter clip
    # Against each input through the model's own decoder (a pure tone's round trip through
    # the vocoder is already far from it), and against each other.
    a, b = (decoded(pipeline, clip[:, : a.shape[-1]]) for clip in (a, b))
    assert distance(pipeline, at_a, a) < distance(pipeline, at_b, a)
    assert distance(pipeline, at_b, b) < distance(pipeline, at_a, b)


def tiny_waveform_pipeline() -> Pipeline:
    torch.manual_seed(0)
    net = network("diffwave", residual_layers=2, residual_channels=8)
    torch.nn.init.normal_(net.output_projection.weight, std=0.1)  # not the fresh all-zero output
    return Pipeline(representation("waveform", sample_rate=8000), net, "edm", {}, sigma_data=0.5,
                    defaults=Plan("euler", 4, "karras"))


def test_a_waveform_model_pastes_without_crossfades():
    pipeline = tiny_waveform_pipeline()
    clip = 0.3 * torch.sin(torch.arange(8000) / 5.0)[None]
    result = tasks.inpaint(pipeline, clip, [(0.25, 0.5)])
    first, last = 2000, 4000
    assert torch.equal(result[:, :first], clip[:, :first])
    assert torch.equal(result[:, last:], clip[:, last:])
    assert not torch.isclose(result[:, first], clip[:, first])  # new from the gap's first sample
    extended = tasks.extend(pipeline, clip, 0.3, window_seconds=0.5, context_seconds=0.4)
    assert extended.shape[-1] == 8000 + 2400 and torch.equal(extended[:, :8000], clip)


def test_an_edit_without_a_strategy_runs_the_models_own(tmp_path):
    """Each model names the editing strategy measured best for it (``edit_strategy``, kept in
    its folder); a caller's strategy wins over it."""
    pipeline = tiny_waveform_pipeline()
    pipeline.edit_strategy = "project"
    clip, gap = 0.3 * torch.sin(torch.arange(8000) / 5.0)[None], [(0.25, 0.5)]
    own = tasks.inpaint(pipeline, clip, gap, seed=1)
    assert torch.equal(own, tasks.inpaint(pipeline, clip, gap, seed=1, strategy="project"))
    assert not torch.equal(own, tasks.inpaint(pipeline, clip, gap, seed=1, strategy="replace"))
    assert pipeline.edit_plan().strategy == "project"
    assert pipeline.edit_plan("replace").strategy == "replace"
    assert pipeline.plan().strategy is None  # generate, transfer, interpolate: none
    with pytest.raises(ValueError, match="strategy is 'project', not 'replace'"):
        tasks.inpaint(pipeline, clip, gap, plan=pipeline.edit_plan(), strategy="replace")
    with pytest.raises(ValueError, match="needs an editing strategy"):
        tasks.inpaint(pipeline, clip, gap, plan=pipeline.plan())

    folder = pipeline.save(tmp_path / "model")
    assert cadenza.load(folder).edit_strategy == "project"
    meta = json.loads((folder / "pipeline.json").read_text())
    del meta["edit_strategy"]  # a folder from before models named one
    (folder / "pipeline.json").write_text(json.dumps(meta))
    assert cadenza.load(folder).edit_strategy == EDIT_STRATEGY
    (folder / "pipeline.json").write_text(json.dumps({**meta, "edit_strategy": "paint"}))
    with pytest.raises(CheckpointError, match="unknown edit_strategy 'paint'"):
        cadenza.load(folder)


def test_a_task_runs_the_plan_it_is_given(pipeline):
    plan = pipeline.plan("repaint", steps=STEPS, jump_length=2, resample=2)
    clip = tone(pipeline)
    given = tasks.inpaint(pipeline, clip, [(0.5, 1.0)], plan=plan, seed=1)
    assert torch.equal(given, tasks.inpaint(pipeline, clip, [(0.5, 1.0)], seed=1,
                                            strategy="repaint", steps=STEPS, jump_length=2,
                                            resample=2))
    with pytest.raises(TypeError, match="not both"):
        tasks.inpaint(pipeline, clip, [(0.5, 1.0)], plan=plan, steps=3)
    with pytest.raises(ValueError, match="needs no editing strategy"):
        tasks.generate(pipeline, 0.5, plan=plan)


def test_the_package_exposes_the_tasks():
    assert cadenza.inpaint is tasks.inpaint and set(cadenza.TASKS) <= set(dir(tasks))


def test_generate_brings_each_clip_to_the_loudness_asked_for(pipeline):
    from cadenza.loudness import integrated_loudness

    gains: list[dict] = []
    waves = tasks.generate(pipeline, 1.0, 2, steps=STEPS, loudness=-30.0, gains=gains)
    raw = tasks.generate(pipeline, 1.0, 2, steps=STEPS, loudness=None)
    assert len(gains) == 2
    for wave, before, record in zip(waves, raw, gains, strict=True):
        assert record["target_lufs"] == -30.0 and not record["peak_limited"]
        level = integrated_loudness(wave.numpy(), pipeline.sample_rate)
        assert level == pytest.approx(-30, abs=0.01)
        assert torch.allclose(wave, before * 10 ** (record["gain_db"] / 20), rtol=1e-3, atol=1e-7)


@pytest.fixture(scope="module")
def bach(pipeline) -> torch.Tensor:
    """Four seconds of a Bach prelude from cadenza's synthesiser, peaking at 0.9: (1, samples)."""
    from cadenza.data.catalogue import catalogue
    from cadenza.data.scores import piece_notes
    from cadenza.data.synth import render_notes

    notes = piece_notes(catalogue()[0], seed=0, piece_seconds=5.0)
    wave = torch.from_numpy(render_notes(notes, pipeline.sample_rate, seconds=4.0, seed=0)[:1])
    return 0.9 * wave / wave.abs().max()


@pytest.mark.parametrize("strategy", ["replace", "repaint-fast"])
def test_new_audio_takes_the_loudness_of_its_context_and_never_clips(pipeline, bach, strategy):
    from cadenza.loudness import PEAK_CEILING_DB, integrated_loudness

    rate = pipeline.sample_rate
    gains: list[dict] = []
    result = tasks.inpaint(pipeline, bach, [(1.5, 2.5)], steps=STEPS, gains=gains,
                           strategy=strategy)
    assert len(gains) == 1 and gains[0]["matched"]
    assert 20 * math.log10(float(result.abs().max())) <= max(
        PEAK_CEILING_DB, 20 * math.log10(float(bach.abs().max()))) + 1e-3
    gap = result[:, round(1.5 * rate): round(2.5 * rate)].numpy()
    around = torch.cat([bach[:, :round(1.5 * rate)], bach[:, round(2.5 * rate):]], -1).numpy()
    difference = integrated_loudness(around, rate) - integrated_loudness(gap, rate)
    assert abs(difference) < 1.0, (difference, gains)  # peaks limited, not the whole gain cut


def test_extension_keeps_the_prompts_loudness(pipeline):
    from cadenza.loudness import integrated_loudness

    rate, prompt = pipeline.sample_rate, tone(pipeline, 2.0)
    gains: list[dict] = []
    extended = tasks.extend(pipeline, prompt, 2.0, gains=gains, **EXTEND)
    assert len(gains) == 4 and all(record["matched"] for record in gains)
    assert gains[0]["start_seconds"] == pytest.approx(2.0, abs=1e-3)
    new = extended[:, prompt.shape[-1]:].numpy()
    assert abs(integrated_loudness(new, rate) - integrated_loudness(prompt.numpy(), rate)) < 1.5


def test_an_extension_returns_to_its_prompts_level_after_a_quiet_ending(pipeline):
    """Each window is matched to the audio just before it; the glide brings the level back to
    the prompt's as a whole, so a prompt's quiet last bar does not set the level of the rest."""
    from cadenza.joins import GLIDE_DB_PER_SECOND
    from cadenza.loudness import integrated_loudness

    rate, prompt = pipeline.sample_rate, tone(pipeline, 3.0)
    prompt[:, -round(1.5 * rate):] *= 10 ** (-8 / 20)  # the last 1.5 s 8 dB down
    gains: list[dict] = []
    extended = tasks.extend(pipeline, prompt, 6.0, gains=gains, **EXTEND)
    level = integrated_loudness(prompt.numpy(), rate)
    ending = integrated_loudness(prompt[:, -round(1.5 * rate):].numpy(), rate)
    last = integrated_loudness(extended[:, -round(2.0 * rate):].numpy(), rate)
    assert abs(last - level) < abs(ending - level) - 3, (level, ending, last)
    # Window by window (0.5 s each) the level climbs from the quiet ending, never by more
    # than the glide's rate.
    levels = [ending] + [record["lufs"] for record in gains]
    steps = [after - before for before, after in itertools.pairwise(levels)]
    assert max(steps) > 0 and all(step <= GLIDE_DB_PER_SECOND * 0.5 + 0.01 for step in steps)


def test_each_extension_pass_samples_past_what_it_keeps(pipeline, monkeypatch):
    """The end of a sampled canvas comes out quieter than the rest, so every pass samples
    ``margin_seconds`` more than its window and keeps only the window."""
    seen, fill = [], tasks.fill

    def spy(model, plan, canvas, gaps, *args, **kwargs):
        seen.append((canvas.shape[-1], gaps))
        return fill(model, plan, canvas, gaps, *args, **kwargs)

    monkeypatch.setattr(tasks, "fill", spy)
    rate, prompt = pipeline.sample_rate, tone(pipeline, 2.0)
    extended = tasks.extend(pipeline, prompt, 1.0, margin_seconds=0.25, **EXTEND)
    assert extended.shape[-1] == prompt.shape[-1] + rate
    assert len(seen) == 2 and all(length == round(2.25 * rate) for length, _ in seen)
    assert all(gaps == [(1.5, 2.25)] for _, gaps in seen)
    with pytest.raises(ValueError, match="margin_seconds"):
        tasks.extend(pipeline, prompt, 1.0, margin_seconds=-0.1, **EXTEND)


CALLS = {
    "generate": lambda p, x, **kw: tasks.generate(p, 0.5, **kw),
    "replace": lambda p, x, **kw: tasks.inpaint(p, x, [(0.5, 1.0)], **kw),
    "repaint": lambda p, x, **kw: tasks.inpaint(p, x, [(0.5, 1.0)], strategy="repaint",
                                                jump_length=2, resample=2, **kw),
    "repaint-fast": lambda p, x, **kw: tasks.outpaint(p, x, 0.5, strategy="repaint-fast", **kw),
    "extend": lambda p, x, **kw: tasks.extend(p, x, 1.0, window_seconds=1.5,
                                              context_seconds=1.0, **kw),
    "transfer": lambda p, x, **kw: tasks.transfer(p, x, 0.5, **kw),
}


@pytest.mark.parametrize("task", CALLS)
def test_one_progress_bar_whose_total_is_every_model_call(pipeline, task, monkeypatch):
    """The bar's total is known before the first call and is exactly what runs."""
    bars = []
    close = tasks.CallBar.__exit__

    def seen(bar, *exc):
        bars.append((bar.bar.n, bar.bar.total))
        return close(bar, *exc)

    monkeypatch.setattr(tasks.CallBar, "__exit__", seen)
    CALLS[task](pipeline, tone(pipeline), steps=STEPS, progress=True)
    assert len(bars) == 1 and bars[0][0] == bars[0][1] > 0, bars


@pytest.mark.parametrize("gaps, message", [([(0.5, 1.0), (0.8, 1.2)], "overlap"),
                                           ([(0.0, 2.0)], "whole clip")])
def test_overlapping_or_whole_clip_gaps_are_refused(pipeline, gaps, message):
    with pytest.raises(ValueError, match=message):
        tasks.inpaint(pipeline, tone(pipeline), gaps, steps=STEPS)
