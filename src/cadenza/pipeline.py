"""A trained model as one self-describing artefact, and what you do with it.

A pipeline folder holds ``pipeline.json`` (representation, network and objective configs, the
data's sigma_data, default sampler, steps and schedule, the sampling range if narrower than the
objective's, versions), ``network.safetensors`` (the EMA weights), ``representation.safetensors``
(fitted statistics, if any) and optionally a vocoder (``vocoder.json`` + ``vocoder.safetensors``).
``cadenza.load(path)`` rebuilds everything and checks it; a wrong or damaged folder is a clear
error naming the file.

Besides ``generate``, a pipeline edits audio: ``inpaint``, ``outpaint`` and ``extend`` sample
part of the signal with the rest known (:func:`cadenza.edit.inpaint`), ``transfer`` (SDEdit)
and ``interpolate`` start part-way down the schedule from noised encodings of their inputs.
Audio goes in and comes out as ``(channels, samples)`` or ``(batch, channels, samples)`` at
``sample_rate``; durations are in seconds; the same seed gives the same audio.
"""

from __future__ import annotations

import math
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from cadenza import edit
from cadenza.checkpoint import CheckpointError, load_tensors, read_json, write_checkpoint_folder
from cadenza.data.audio import open_wav
from cadenza.objectives import objective as build_objective
from cadenza.representations import Representation
from cadenza.representations import representation as build_representation
from cadenza.sampling import sample, start_noise
from cadenza.schedules import schedule
from cadenza.version import __version__

SHIPPED = ("tiny-piano-mel", "tiny-piano-diffwave")
"""Models inside the package (see cadenza/models/README.md); the first is the default."""

FORMAT = "cadenza-pipeline"
FORMAT_VERSION = 1

EDIT_SAMPLER = "ddpm"
"""Default sampler when part of the signal is known: on the oracle (benchmarks/editing.py),
``replace`` with ancestral DDPM steps is 2.8x closer to the exact conditional than with any
deterministic sampler, whose trajectory the fresh noise of each replacement throws off."""

FAST_REPAINT = {"sampler": "dpmpp_2m_sde", "steps": 50, "jump_length": 4, "resample": 16,
                "resample_band": (0.01, 1.0)}
"""Strategy ``repaint-fast``: RePaint's fidelity at about a sixth of its model calls
(benchmarks/RESULTS.md, editing): a second-order SDE sampler, 50 steps, and RePaint's jumps
(4 steps back, 16 passes) only where sigma is between 0.01 and 1 sigma_data, the noise levels
where resampling pays. Sampler and steps given by the caller win."""

SEAM_SECONDS = 0.02
"""Crossfade where decoded audio meets known audio, for representations that lose the phase."""


@dataclass
class Pipeline:
    representation: Representation
    network: nn.Module
    objective_name: str
    objective_options: dict[str, Any]
    sigma_data: float  # std of the training data in the network's space
    sampler: str = "deis"
    steps: int = 10
    schedule_kind: str = "tuned"
    vocoder: nn.Module | None = None
    describe: dict[str, Any] = field(default_factory=dict)
    sigma_range: tuple[float, float] | None = None  # sampling's; None: the objective's range

    @property
    def objective(self):
        return build_objective(self.objective_name, **self.objective_options)

    @property
    def sample_rate(self) -> int:
        return self.representation.sample_rate

    @property
    def channels(self) -> int:
        return int(self.describe.get("channels", 1))

    @property
    def device(self) -> torch.device:
        return next(self.network.parameters()).device

    def denoiser(self):
        return self.objective.denoiser(self.network)

    def sigmas(self, steps: int | None = None) -> torch.Tensor:
        """The default schedule, kept inside the sigma range the model was trained on (or the
        narrower ``sigma_range`` it was made for, e.g. by distillation)."""
        steps = _chosen(steps, self.steps)
        low, high = self.sigma_range or self.objective.sigma_range
        if self.schedule_kind == "tuned":
            sigmas = schedule("tuned", steps, sigma_data=self.sigma_data)
        else:
            sigmas = schedule(self.schedule_kind, steps, sigma_min=low, sigma_max=high)
        inside = sigmas[:-1].clamp(low, high).unique_consecutive()
        return torch.cat([inside, sigmas[-1:]])

    def shape_for(self, seconds: float, batch: int = 1) -> tuple[int, ...]:
        """Shape of the network-space tensor that decodes to at least ``seconds`` of audio."""
        rep = self.representation
        wanted = rep.samples_for(seconds)
        frames = rep.frames(wanted)
        if rep.samples_for_frames(frames) < wanted:  # frames cover whole hops: one more
            frames += 1
        with torch.no_grad():
            probe = rep.encode(torch.zeros(1, self.channels, rep.samples_for_frames(frames)))
        return (batch, *probe.shape[1:])

    def decode(self, tensor: torch.Tensor, samples: int | None = None) -> torch.Tensor:
        """Network-space tensor -> wave; ``samples`` crops or pads to that length."""
        if self.vocoder is not None and hasattr(self.representation, "unscale"):
            from cadenza.representations import griffin_lim

            rep = self.representation
            if getattr(rep, "clip", False):
                # The vocoder was trained on clipped mels; an unclipped outlier from a few-step
                # sampler otherwise blows up (measured: 9e10 peak at 3 steps).
                tensor = tensor.clamp(-1, 1)
            with torch.no_grad():
                if getattr(self.vocoder, "outputs", "magnitude") == "wave":
                    return self.vocoder(rep.decode_log_mel(tensor.float()), samples=samples)
                magnitude = self.vocoder(tensor)
            return griffin_lim(magnitude, rep.n_fft, rep.hop_length, rep.window,
                               rep.griffin_lim_iterations, rep.griffin_lim_momentum,
                               samples=samples)
        return self.representation.decode(tensor, samples)

    @torch.no_grad()
    def generate(
        self,
        seconds: float,
        batch: int = 1,
        *,
        seed: int = 0,
        steps: int | None = None,
        sampler: str | None = None,
        progress: bool = False,
        **sampler_options,
    ) -> torch.Tensor:
        """Unconditional audio ``(batch, channels, round(seconds * sample_rate))``; the same
        seed, the same audio."""
        sigmas = self.sigmas(steps)
        generator = self._generator(seed)
        x = start_noise(self.shape_for(seconds, batch), float(sigmas[0]),
                        sigma_data=self.sigma_data, generator=generator, device=self.device)
        return self._sample_and_decode(x, sigmas, self.representation.samples_for(seconds),
                                       generator=generator, sampler=sampler, progress=progress,
                                       **sampler_options)

    # ------------------------------------------------------------------ editing

    @torch.no_grad()
    def inpaint(
        self,
        audio: Tensor,
        gaps: list[tuple[float, float]],
        *,
        seed: int = 0,
        sampler: str | None = None,
        steps: int | None = None,
        strategy: str = "replace",
        progress: bool = False,
        **options,
    ) -> Tensor:
        """Regenerate the ``gaps`` (``[start, end)`` in seconds) of ``audio``; keep the rest.

        Outside the gaps the result is ``audio`` bit for bit; representations that lose the
        phase (mel) meet the known audio through a short crossfade inside each gap.
        ``strategy`` and ``options`` (``jump_length``, ``resample``, ``lambda_curve``, sampler
        options) go to :func:`cadenza.edit.inpaint`; ``resample_band`` is given here in units
        of the model's sigma_data. The sampler defaults to ``EDIT_SAMPLER``.
        """
        wave, single = self._as_batch(audio)
        seconds = wave.shape[-1] / self.sample_rate
        if not gaps:
            raise ValueError("inpaint needs at least one gap")
        for start, end in gaps:
            if not 0 <= start < end <= seconds:
                raise ValueError(f"gap {start:g}-{end:g} s is empty or outside the clip "
                                 f"(0-{seconds:g} s); give start < end inside it")
        run = self._edit_run(seed, sampler, steps, strategy, progress, options)
        return self._unbatch(self._fill(wave, gaps, **run), single)

    @torch.no_grad()
    def outpaint(
        self,
        audio: Tensor,
        seconds: float,
        side: str = "after",
        *,
        seed: int = 0,
        sampler: str | None = None,
        steps: int | None = None,
        strategy: str = "replace",
        progress: bool = False,
        **options,
    ) -> Tensor:
        """``audio`` with ``seconds`` of new audio ``after`` or ``before`` it, kept verbatim.

        The result is ``round(seconds * sample_rate)`` samples longer than ``audio``.
        """
        if side not in ("after", "before"):
            raise ValueError(f"side must be 'after' or 'before', got {side!r}")
        if seconds <= 0:
            raise ValueError(f"outpaint needs a positive number of seconds, got {seconds:g}")
        wave, single = self._as_batch(audio)
        known, added = wave.shape[-1], self.representation.samples_for(seconds)
        canvas = _mirror_extend(wave, added, side)
        rate = self.sample_rate
        gap = (known / rate, (known + added) / rate) if side == "after" else (0.0, added / rate)
        run = self._edit_run(seed, sampler, steps, strategy, progress, options)
        return self._unbatch(self._fill(canvas, [gap], **run), single)

    @torch.no_grad()
    def extend(
        self,
        prompt: Tensor,
        seconds: float,
        *,
        window_seconds: float = 5.0,
        context_seconds: float = 4.0,
        keep_prompt: bool = True,
        crossfade_seconds: float = 0.05,
        out: str | Path | None = None,
        progress: bool = False,
        seed: int = 0,
        sampler: str | None = None,
        steps: int | None = None,
        strategy: str = "replace",
        **options,
    ) -> Tensor | Path:
        """Continue ``prompt`` by ``seconds``, window by window, without limit (seed 003).

        Each pass samples a window of ``window_seconds`` whose first ``context_seconds`` are the
        last ``context_seconds`` of the audio so far (known) and the rest new. The result is
        exactly ``prompt`` plus ``seconds`` long. ``keep_prompt`` keeps the prompt and everything
        generated verbatim; without it, as the seed's authors did, each pass replaces the last
        ``context_seconds`` with its regenerated version, joined by a ``crossfade_seconds``
        crossfade. With ``out`` the audio streams to that wav (pcm16) and only the last context
        stays in memory; the path is returned instead of the tensor.
        """
        wave, single = self._as_batch(prompt)
        rate = self.sample_rate
        context = self.representation.samples_for(context_seconds)
        window = self.representation.samples_for(window_seconds)
        fade = self.representation.samples_for(crossfade_seconds)
        total = self.representation.samples_for(seconds)
        if total <= 0:
            raise ValueError(f"extend needs a positive number of seconds, got {seconds:g}")
        if not 0 < context < window:
            raise ValueError("extend needs 0 < context_seconds < window_seconds")
        if not keep_prompt and not 0 <= fade <= context:
            raise ValueError("crossfade_seconds must be between 0 and context_seconds")
        if wave.shape[-1] < context:
            raise ValueError(f"the prompt is {wave.shape[-1] / rate:.2f} s; extend needs at least "
                             f"context_seconds = {context_seconds:g} s of prompt")
        if out is not None and wave.shape[0] != 1:
            raise ValueError("extend streams one clip to a file; give a (channels, samples) prompt")
        run = self._edit_run(seed, sampler, steps, strategy, False, options)
        gap = [(context / rate, window / rate)]
        pieces: list[Tensor] = []
        with ExitStack() as stack:
            write = pieces.append
            if out is not None:
                append = stack.enter_context(open_wav(out, rate, self.channels))

                def write(piece: Tensor) -> None:
                    append(piece[0].cpu().numpy())

            bar = stack.enter_context(tqdm(total=seconds, unit="s", desc="extend",
                                           disable=not progress, leave=False))
            write(wave[..., :-context])
            tail, done = wave[..., -context:], 0
            while done < total:
                take = min(window - context, total - done)
                canvas = _mirror_extend(tail, window - context, "after")
                if keep_prompt:
                    joined = self._fill(canvas, gap, **run)[..., : context + take]
                else:  # the whole window, context included, crossfaded in over the old context
                    regenerated = self._regenerate(canvas, gap, verbatim=False, **run)
                    length = context + take
                    joined = _paste(canvas[..., :length], regenerated[..., :length],
                                    _fade_in(length, fade, canvas))
                write(joined[..., :-context])
                tail, done = joined[..., -context:], done + take
                bar.update(take / rate)
            write(tail)
        if out is not None:
            return Path(out)
        return self._unbatch(torch.cat(pieces, dim=-1), single)

    @torch.no_grad()
    def transfer(
        self,
        audio: Tensor,
        strength: float,
        *,
        seed: int = 0,
        sampler: str | None = None,
        steps: int | None = None,
        progress: bool = False,
        **sampler_options,
    ) -> Tensor:
        """Audio-to-audio (SDEdit): noise the encoding of ``audio``, then denoise it.

        ``strength`` in (0, 1] is the fraction of the schedule that runs: 1 starts from (almost)
        pure noise, small values stay close to ``audio``.
        """
        wave, single = self._as_batch(audio)
        sigmas = self._remaining_schedule(strength, steps)
        generator = self._generator(seed)
        encoded = self.representation.encode(wave)
        x = encoded + float(sigmas[0]) * _noise_like(encoded, generator)
        result = self._sample_and_decode(x, sigmas, wave.shape[-1], generator=generator,
                                         sampler=sampler, progress=progress, **sampler_options)
        return self._unbatch(result, single)

    @torch.no_grad()
    def interpolate(
        self,
        audio_a: Tensor,
        audio_b: Tensor,
        ratio: float,
        *,
        strength: float = 0.5,
        mode: str = "slerp",
        seed: int = 0,
        sampler: str | None = None,
        steps: int | None = None,
        progress: bool = False,
        **sampler_options,
    ) -> Tensor:
        """A blend of two clips: both noised with the same noise, mixed by ``ratio``, denoised.

        ``ratio`` 0 is ``audio_a``'s side, 1 ``audio_b``'s; ``strength`` is as in ``transfer``;
        ``mode`` mixes the noisy tensors linearly or spherically (``slerp``). Clips of different
        lengths are cropped to the shorter one (from the start).
        """
        if not 0 <= ratio <= 1:
            raise ValueError(f"ratio must be in [0, 1], got {ratio:g}")
        if mode not in ("slerp", "linear"):
            raise ValueError(f"mode must be 'slerp' or 'linear', got {mode!r}")
        wave_a, single = self._as_batch(audio_a)
        wave_b, _ = self._as_batch(audio_b)
        if wave_a.shape[0] != wave_b.shape[0]:
            raise ValueError("interpolate needs the same batch size on both sides")
        length = min(wave_a.shape[-1], wave_b.shape[-1])
        sigmas = self._remaining_schedule(strength, steps)
        generator = self._generator(seed)
        encoded_a = self.representation.encode(wave_a[..., :length])
        encoded_b = self.representation.encode(wave_b[..., :length])
        noise = float(sigmas[0]) * _noise_like(encoded_a, generator)
        mix = _slerp if mode == "slerp" else torch.lerp
        x = mix(encoded_a + noise, encoded_b + noise, ratio)
        result = self._sample_and_decode(x, sigmas, length, generator=generator,
                                         sampler=sampler, progress=progress, **sampler_options)
        return self._unbatch(result, single)

    # -- shared by the tasks

    def sampler_and_steps(self, strategy: str | None, sampler: str | None = None,
                          steps: int | None = None) -> tuple[str, int]:
        """The sampler and steps a task runs with when the caller leaves them out (None):
        ``repaint-fast``'s own, ``EDIT_SAMPLER`` for any other known-region strategy, and the
        model's defaults for tasks without one (``strategy=None``: generate, transfer, ...)."""
        if strategy == "repaint-fast":
            return sampler or FAST_REPAINT["sampler"], _chosen(steps, FAST_REPAINT["steps"])
        if strategy is not None:
            return sampler or EDIT_SAMPLER, _chosen(steps, self.steps)
        return sampler or self.sampler, _chosen(steps, self.steps)

    def _generator(self, seed: int) -> torch.Generator:
        return torch.Generator(device=self.device).manual_seed(seed)

    def _as_batch(self, audio: Tensor) -> tuple[Tensor, bool]:
        """``audio`` as ``(batch, channels, samples)`` on the model's device, and whether the
        caller gave a single clip ``(channels, samples)`` (so the result drops the batch axis)."""
        wave = torch.as_tensor(audio, dtype=torch.float32, device=self.device)
        single = wave.dim() == 2
        if single:
            wave = wave[None]
        if wave.dim() != 3 or wave.shape[1] != self.channels or wave.shape[-1] == 0:
            raise ValueError(f"expected {self.channels}-channel audio (channels, samples) or "
                             f"(batch, channels, samples), got shape {tuple(wave.shape)}")
        return wave, single

    @staticmethod
    def _unbatch(wave: Tensor, single: bool) -> Tensor:
        return (wave[0] if single else wave).cpu()

    def _edit_run(self, seed, sampler, steps, strategy, progress, options) -> dict[str, Any]:
        """The keywords of ``_regenerate`` shared by every pass of one editing call."""
        return {"generator": self._generator(seed), "sampler": sampler, "steps": steps,
                "strategy": strategy, "progress": progress, **options}

    def _sample_and_decode(self, x, sigmas, samples, *, generator, sampler, progress,
                           **sampler_options) -> Tensor:
        x = sample(self.denoiser(), x, sigmas, sampler or self.sampler, generator=generator,
                   progress=progress, **sampler_options)
        return self.decode(x.float(), samples).cpu()

    def _remaining_schedule(self, strength: float, steps: int | None) -> torch.Tensor:
        """The tail of the schedule holding the last ``strength`` of its steps (at least one)."""
        if not 0 < strength <= 1:
            raise ValueError(f"strength must be in (0, 1], got {strength:g}")
        sigmas = self.sigmas(steps)
        count = len(sigmas) - 1
        return sigmas[min(round((1 - strength) * count), count - 1):]

    def _regenerate(
        self,
        canvas: Tensor,
        gaps: list[tuple[float, float]],
        *,
        generator: torch.Generator,
        sampler: str | None,
        steps: int | None,
        strategy: str,
        verbatim: bool = True,
        progress: bool = False,
        **options,
    ) -> Tensor:
        """Decoded ``canvas`` with the frames under ``gaps`` (seconds) sampled, the rest known.

        A gap ``[a, b)`` covers frames ``floor(a * fps)`` to ``ceil(b * fps)``: every frame
        whose analysis window is centred in it or on its edge.
        """
        reference = self.representation.encode(canvas)
        fps = self.representation.frames_per_second
        known = torch.ones(reference.shape[-1], dtype=torch.bool, device=reference.device)
        for start, end in gaps:
            known[math.floor(start * fps): math.ceil(end * fps) + 1] = False
        sampler, steps = self.sampler_and_steps(strategy, sampler, steps)
        if strategy == "repaint-fast":
            fast = {**FAST_REPAINT, **options}
            options = {k: v for k, v in fast.items() if k not in ("sampler", "steps")}
            strategy = "repaint"
        if options.get("resample_band") is not None:  # sigma_data units -> sigmas
            band = tuple(self.sigma_data * value for value in options["resample_band"])
            options = {**options, "resample_band": band}
        x = edit.inpaint(self.denoiser(), reference, known, self.sigmas(steps),
                         sampler=sampler, strategy=strategy,
                         generator=generator, sigma_data=self.sigma_data, verbatim=verbatim,
                         progress=progress, **options)
        return self.decode(x.float(), canvas.shape[-1])

    def _fill(self, canvas: Tensor, gaps: list[tuple[float, float]], **run) -> Tensor:
        """``canvas`` with its ``gaps`` (seconds) regenerated and pasted in; the rest verbatim."""
        decoded = self._regenerate(canvas, gaps, **run)
        # A waveform model's output already joins its known samples; only a decoded phase
        # (Griffin-Lim, vocoder) differs from the original's and needs a crossfade.
        fade = 0 if self.representation.kind == "waveform" else round(
            SEAM_SECONDS * self.sample_rate)
        gain = torch.zeros(canvas.shape[-1], dtype=canvas.dtype, device=canvas.device)
        for start, end in gaps:
            first, last = round(start * self.sample_rate), round(end * self.sample_rate)
            span = last - first
            length = min(fade, span // 2)
            # No crossfade where the gap meets the clip's edge: there is nothing to join.
            rising = _fade_in(span, length if first > 0 else 0, canvas)
            falling = _fade_in(span, length if last < canvas.shape[-1] else 0, canvas).flip(0)
            gain[first:last] = torch.maximum(gain[first:last], torch.minimum(rising, falling))
        return _paste(canvas, decoded, gain)

    # ------------------------------------------------------------------ persistence

    def save(self, path: str | Path) -> Path:
        files: dict[str, Any] = {
            "pipeline.json": {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "representation": self.representation.config(),
                "network": {"name": self.network.name, **self.network.config()},
                "objective": {"name": self.objective_name, **self.objective_options},
                "sigma_data": self.sigma_data,
                "sampler": self.sampler,
                "steps": self.steps,
                "schedule": self.schedule_kind,
                "describe": self.describe,
                **({} if self.sigma_range is None else {"sigma_range": list(self.sigma_range)}),
                "cadenza": __version__,
            },
            "network.safetensors": self.network.state_dict(),
            "representation.safetensors": self.representation.state_dict(),
        }
        if self.vocoder is not None:
            files["vocoder.json"] = {"name": self.vocoder.name, **self.vocoder.config()}
            files["vocoder.safetensors"] = self.vocoder.state_dict()
        return write_checkpoint_folder(Path(path), files)


def _fade_in(length: int, fade: int, like: Tensor) -> Tensor:
    """Gain of the incoming signal: rises from 0 to 1 over the first ``fade`` of ``length``
    samples (a sine, so that with the outgoing gain sqrt(1 - g^2) the power stays constant:
    decoded and original phases are unrelated), then stays exactly 1."""
    gain = torch.ones(length, dtype=like.dtype, device=like.device)
    if fade > 0:
        angles = torch.linspace(0, math.pi / 2, fade + 2, dtype=torch.float64)[1:-1]
        gain[:fade] = torch.sin(angles).to(gain)
    return gain


def _paste(base: Tensor, new: Tensor, gain: Tensor) -> Tensor:
    """``new`` over ``base`` with ``gain`` per sample (equal-power); ``base`` exact where gain 0."""
    mixed = base * torch.sqrt(1 - gain**2) + new * gain
    return torch.where(gain == 0, base, torch.where(gain == 1, new, mixed))


def _mirror_extend(wave: Tensor, samples: int, side: str) -> Tensor:
    """``wave`` extended by ``samples`` on ``side``: its mirror image, then zeros.

    The mirror continues the known audio smoothly, so the frames next to a gap encode as they
    would at a clip's edge (the STFT pads by reflection too) and the seam's crossfade starts
    from something continuous with the known side.
    """
    if side == "before":
        return _mirror_extend(wave.flip(-1), samples, "after").flip(-1)
    mirror = wave.flip(-1)[..., 1: samples + 1]
    zeros = wave.new_zeros(*wave.shape[:-1], samples - mirror.shape[-1])
    return torch.cat([wave, mirror, zeros], dim=-1)


def _noise_like(x: Tensor, generator: torch.Generator) -> Tensor:
    return torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)


def _slerp(a: Tensor, b: Tensor, ratio: float) -> Tensor:
    """Spherical interpolation per example (linear where ``a`` and ``b`` are parallel)."""
    flat_a, flat_b = a.flatten(1).double(), b.flatten(1).double()
    cosine = torch.nn.functional.cosine_similarity(flat_a, flat_b, dim=1).clamp(-1, 1)
    angle = torch.arccos(cosine)
    sine = torch.sin(angle)
    parallel = sine < 1e-6
    safe = torch.where(parallel, torch.ones_like(sine), sine)
    weight_a = torch.where(parallel, 1 - ratio, torch.sin((1 - ratio) * angle) / safe)
    weight_b = torch.where(parallel, torch.full_like(sine, ratio), torch.sin(ratio * angle) / safe)
    shape = (-1,) + (1,) * (a.dim() - 1)
    return (weight_a.view(shape) * a + weight_b.view(shape) * b).to(a.dtype)


def shipped(name: str = SHIPPED[0]) -> Path:
    """The folder of a model shipped inside the package."""
    from importlib import resources

    if name not in SHIPPED:
        raise ValueError(f"unknown shipped model {name!r}; choose one of {', '.join(SHIPPED)}")
    folder = Path(str(resources.files("cadenza") / "models" / name))
    if not (folder / "pipeline.json").exists():
        raise CheckpointError(f"the shipped model {name} is missing from this installation")
    return folder


def model_folder(model: str | Path | None = None) -> Path:
    """Where a model lives: a folder as given, a shipped model's name (``tiny-piano-diffwave``)
    as its folder in the package, nothing as the default shipped model. A folder that is not
    there is returned as it is, for ``load`` to report."""
    if model is None:
        return shipped()
    path = Path(model)
    if not path.exists() and str(model) in SHIPPED:
        return shipped(str(model))
    return path


def _not_a_model(path: Path) -> str:
    """Why ``path`` is no model folder, with the shipped names (and the closest) to choose."""
    import difflib

    what = "not a cadenza model folder" if path.exists() else "no such model folder"
    close = difflib.get_close_matches(path.name, SHIPPED, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{what}, nor a shipped model ({', '.join(SHIPPED)}){hint}"


def _chosen(steps: int | None, default: int) -> int:
    """``steps`` as asked (None: ``default``); 0 or fewer is an error, never the default."""
    if steps is None:
        return default
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    return int(steps)


def load_vocoder(path: str | Path) -> nn.Module:
    """A vocoder folder written by training the ``vocoder`` preset (or a model folder's)."""
    from cadenza.networks import network as build_network

    path = Path(path)
    config = read_json(path / "vocoder.json")
    try:
        vocoder = build_network(config.pop("name"), **config)
        vocoder.load_state_dict(load_tensors(path / "vocoder.safetensors"))
    except (KeyError, TypeError, RuntimeError) as error:
        raise CheckpointError(f"{path}: inconsistent vocoder files ({error})") from None
    return vocoder.eval()


def load(path: str | Path, device: str | torch.device = "cpu") -> Pipeline:
    """Rebuild a saved pipeline; a wrong or damaged folder is a ``CheckpointError``."""
    from cadenza.networks import network as build_network

    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(f"{path}: {_not_a_model(path)}")
    meta = read_json(path / "pipeline.json")
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path / 'pipeline.json'}: not a cadenza pipeline")
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(f"{path}: made by a newer cadenza ({meta.get('cadenza')})")
    try:
        rep = build_representation(**meta["representation"])
        rep.load_state_dict(load_tensors(path / "representation.safetensors"))
        net_config = dict(meta["network"])
        net = build_network(net_config.pop("name"), **net_config)
        net.load_state_dict(load_tensors(path / "network.safetensors"))
        vocoder = load_vocoder(path).to(device) if (path / "vocoder.json").exists() else None
        objective_config = dict(meta["objective"])
        objective_name = objective_config.pop("name")
    except (KeyError, TypeError, RuntimeError) as error:
        raise CheckpointError(f"{path}: inconsistent model files ({error})") from None
    if not math.isfinite(meta["sigma_data"]):
        raise CheckpointError(f"{path / 'pipeline.json'}: sigma_data is not finite")
    return Pipeline(
        representation=rep.to(device),
        network=net.to(device).eval(),
        objective_name=objective_name,
        objective_options=objective_config,
        sigma_data=float(meta["sigma_data"]),
        sampler=meta.get("sampler", "deis"),
        steps=int(meta.get("steps", 10)),
        schedule_kind=meta.get("schedule", "tuned"),
        vocoder=vocoder,
        describe=meta.get("describe", {}),
        sigma_range=tuple(map(float, meta["sigma_range"])) if meta.get("sigma_range") else None,
    )

