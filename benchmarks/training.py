"""Training speed and peak memory of cadenza's networks, and DiffWave against lmnt's reference.

    python benchmarks/training.py [--batch 4] [--samples 22016] [--steps 3] [--warmup 1]
                                  [--reference-mels 1 80] [--others tiny default]
                                  [--presets [NAME ...]] [--only-presets] [--device cpu]

The default run takes about 4 minutes on one core; ``--reference-mels 1 80`` adds lmnt's shipped
80-mel configuration (about 1.5 minutes more).

One training step is: draw timesteps and noise, forward, loss, backward, Adam step. DiffWave is
trained as in its paper: 50-step linear beta table (1e-4 to 0.05), eps-prediction, L1 loss.
cadenza's ``diffwave`` at the seed configuration (30 layers, 64 channels, cycle 10) runs side by
side with the reference implementation, the PyPI package ``diffwave`` 0.1.7 (lmnt-com;
``pip install --no-deps diffwave==0.1.7``) at the same batch and crop, the two interleaved step
by step so that load from other processes falls on both alike. The reference only exists as a
mel-conditioned vocoder: it is fed an all-zero mel, with ``--reference-mels`` bins (80 as
shipped; 1 is the closest it gets to unconditional, the seeds' setting). Its upsampler needs
the crop to be a multiple of 256 samples, hence the default 22016 (0.998 s at 22.05 kHz).

The other networks are timed on their own at their ``TINY`` and default configurations with
their representation's layout, eps-prediction and an L2 loss on a 1000-step linear table (the
vocoder with its own loss). With ``--presets`` (no names: every bundled preset), each preset is
timed as ``cadenza train`` runs it: its batch of random crops of its ``crop_seconds`` encoded
by its representation (fitted first where it has statistics), its network and its objective's
loss, backward, AdamW; the table adds the seconds of audio trained on per second and the hours
the preset's whole run would take at that speed. Speed is the median over the timed steps, as
examples per second.
Peak memory is taken in the warm-up steps, which are not timed: the most tensor memory alive
at once above what was alive before the step, from ``torch.cuda.max_memory_allocated`` on CUDA
and from the CPU allocator's running total as recorded by ``torch.profiler`` with
``profile_memory=True`` on CPU (exact, unlike the process's resident set size, which glibc's
heap reuse makes swing by a gigabyte from run to run). It counts activations, gradients,
Adam's two moments (allocated in the first step) and temporaries, not the weights, nor
oneDNN's private scratch memory. Writes ``benchmarks/results/training.md``.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import importlib.util
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import torch
from torch import Tensor, nn
from torch.profiler import ProfilerActivity, profile

from cadenza.networks import DiffWave, network, network_class, vocoder_loss

SAMPLE_RATE = 22050


# ------------------------------------------------------------------------------ memory


class PeakMemory:
    """Peak tensor memory allocated by a block above what was allocated at its start.

    CUDA: ``torch.cuda.max_memory_allocated``. CPU: the running total of the CPU allocator,
    which the profiler records at every allocation and free (``profile_memory=True``); the
    largest value seen is the peak. Both count tensors only, not the allocator's cache or the
    scratch memory of libraries such as oneDNN.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.peak_bytes = 0

    def __enter__(self) -> PeakMemory:
        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self.start = torch.cuda.memory_allocated(self.device)
        else:
            self.profiler = profile(activities=[ProfilerActivity.CPU], profile_memory=True)
            self.profiler.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.peak_bytes = torch.cuda.max_memory_allocated(self.device) - self.start
            return
        self.profiler.__exit__(None, None, None)
        with tempfile.TemporaryDirectory() as folder:
            trace = Path(folder) / "trace.json"
            self.profiler.export_chrome_trace(str(trace))
            events = json.loads(trace.read_text())["traceEvents"]
        # Each allocation or free carries the allocator's running total; the total before the
        # first event of this block is the baseline (the counter carries over between blocks).
        memory = sorted(
            (event["ts"], event["args"]["Total Allocated"], event["args"]["Bytes"])
            for event in events
            if event.get("name") == "[memory]" and event["args"].get("Device Type") == 0
        )
        if memory:
            _, first_total, first_bytes = memory[0]
            self.peak_bytes = max(total for _, total, _ in memory) - (first_total - first_bytes)


# ------------------------------------------------------------------------- the contestants


@dataclass
class Contestant:
    """One model under test: a name, its parameters, and a function doing one training step."""

    label: str
    parameters: int
    batch: int
    step: Callable[[], None]
    times: list[float] = field(default_factory=list)
    peaks: list[int] = field(default_factory=list)
    crop_seconds: float = 0.0  # presets only: the audio in one example
    run_steps: int = 0  # presets only: the steps of a whole run

    def warm_up(self, device: torch.device) -> None:
        """An untimed step whose peak memory is recorded (profiling would disturb the timing)."""
        with PeakMemory(device) as memory:
            self.step()
        self.peaks.append(memory.peak_bytes)

    def timed(self, device: torch.device) -> None:
        start = time.perf_counter()
        self.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        self.times.append(time.perf_counter() - start)

    @property
    def seconds(self) -> float:
        return statistics.median(self.times)

    @property
    def examples_per_second(self) -> float:
        return self.batch / self.seconds

    @property
    def peak_mb(self) -> float:
        return max(self.peaks) / 2**20


def count(model: nn.Module) -> int:
    return sum(parameter.numel() for parameter in model.parameters())


def eps_step(
    call: Callable[[Tensor, Tensor], Tensor],
    model: nn.Module,
    clean: Tensor,
    betas: Tensor,
    loss: str,
    generator: torch.Generator,
) -> Callable[[], None]:
    """One DDPM training step: random timesteps, noise, eps prediction, loss, Adam."""
    abar = torch.cumprod(1 - betas, 0).to(clean.device, torch.float32)
    optimizer = torch.optim.Adam(model.parameters(), 2e-4)
    shape = (clean.shape[0],) + (1,) * (clean.ndim - 1)

    def step() -> None:
        t = torch.randint(0, len(betas), (clean.shape[0],), generator=generator)
        t = t.to(clean.device)
        noise = torch.randn(clean.shape, generator=generator).to(clean.device)
        a = abar[t].reshape(shape)
        noisy = a.sqrt() * clean + (1 - a).sqrt() * noise
        error = call(noisy, t) - noise
        value = error.abs().mean() if loss == "l1" else error.pow(2).mean()
        value.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step


def load_reference() -> ModuleType | None:
    """lmnt's ``diffwave/model.py``, imported by path so its package ``__init__`` never runs."""
    spec = importlib.util.find_spec("diffwave")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "model.py"
    module_spec = importlib.util.spec_from_file_location("lmnt_diffwave_model", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


class _Params(dict):
    """The AttrDict-style hyper-parameters the reference reads (``params.residual_layers``)."""

    def __getattr__(self, key: str) -> object:
        return self[key]


def diffwave_contestants(
    args: argparse.Namespace, device: torch.device, betas: Tensor
) -> tuple[list[Contestant], str | None]:
    generator = torch.Generator().manual_seed(0)
    clean = (0.5 * torch.randn(args.batch, 1, args.samples, generator=generator)).to(device)
    torch.manual_seed(0)
    ours = DiffWave(**DiffWave.SEED).to(device)
    contestants = [
        Contestant(
            "cadenza `diffwave`",
            count(ours),
            args.batch,
            eps_step(lambda x, t: ours(x, t.float()), ours, clean, betas, "l1", generator),
        )
    ]
    reference = load_reference()
    if reference is None:
        return contestants, "reference not installed: pip install --no-deps diffwave==0.1.7"
    if args.samples % 256:
        return contestants, "reference skipped: --samples must be a multiple of 256 (hop)"
    for n_mels in args.reference_mels:
        params = _Params(
            residual_layers=30,
            residual_channels=64,
            dilation_cycle_length=10,
            n_mels=n_mels,
            noise_schedule=betas.tolist(),
        )
        torch.manual_seed(0)
        theirs = reference.DiffWave(params).to(device)
        mel = torch.zeros(args.batch, n_mels, args.samples // 256, device=device)

        def call(x: Tensor, t: Tensor, model: nn.Module = theirs, mel: Tensor = mel) -> Tensor:
            return model(x.squeeze(1), mel, t).reshape(x.shape)

        label = f"lmnt `diffwave` 0.1.7, {n_mels}-bin zero mel"
        step = eps_step(call, theirs, clean, betas, "l1", generator)
        contestants.append(Contestant(label, count(theirs), args.batch, step))
    return contestants, None


# The layout each network is timed on, per example: its representation at 22.05 kHz.
LAYOUTS = {
    "diffwave": ("waveform", None),  # (1, --samples)
    "unet1d": ("packed mel 3 x 128 x 128 (4.4 s)", (3, 128, 128)),
    "unet2d_linear_attention": ("mel 128 x 256 (3 s, hop 256)", (1, 128, 256)),
    "unet2d": ("complex STFT 256 x 128 (0.74 s, hop 128)", (2, 256, 128)),
    "vocoder": ("mel 128 x 256 -> 513 x 256", (1, 128, 256)),
}


def other_contestants(args: argparse.Namespace, device: torch.device) -> list[Contestant]:
    generator = torch.Generator().manual_seed(1)
    betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
    contestants = []
    for name, (description, shape) in LAYOUTS.items():
        shape = (args.batch, *(shape or (1, args.samples)))
        cls = network_class(name)
        for size in args.others:
            if name == "diffwave" and size == "default":
                continue  # the default is the seed configuration, timed above
            config = dict(cls.TINY) if size == "tiny" else {}
            if name == "unet1d":
                config.update(channels=3, freq=128)
            torch.manual_seed(0)
            model = network(name, **config).to(device)
            x = torch.randn(shape, generator=generator).to(device)
            if name == "vocoder":
                step = vocoder_step(model, x, generator)
            else:
                step = eps_step(
                    lambda x, t, m=model: m(x, t.float()), model, x, betas, "l2", generator
                )
            label = f"`{name}` {size}, {description}"
            if name == "diffwave":
                label += f" {args.samples} samples"
            contestants.append(Contestant(label, count(model), args.batch, step))
    return contestants


def preset_contestants(names: list[str], device: torch.device) -> list[Contestant]:
    """Each preset's own training step: encode its batch of crops, its objective's loss, AdamW."""
    from cadenza.objectives import objective as build_objective
    from cadenza.presets import load_preset
    from cadenza.representations import representation as build_representation
    from cadenza.train import VOCODER_OBJECTIVES

    generator = torch.Generator().manual_seed(2)
    contestants = []
    for name in names:
        preset = load_preset(name)
        rep = build_representation(**preset["representation"])
        channels = preset["data"].get("channels", 1)
        samples = round(preset["data"]["crop_seconds"] * rep.sample_rate)
        batch = preset["training"]["batch_size"]
        # Random crops at a piano-like level: timing does not depend on what is played.
        waves = 0.1 * torch.randn(batch, channels, samples, generator=generator)
        if hasattr(rep, "fit"):
            rep.fit([waves])
        rep = rep.to(device)
        waves = waves.to(device)
        objective_config = dict(preset["objective"])
        objective_name = objective_config.pop("name")
        torch.manual_seed(0)
        model = network(**preset["network"]).to(device)
        if objective_name in VOCODER_OBJECTIVES:
            objective, encode = VOCODER_OBJECTIVES[objective_name](rep), None
        else:
            objective, encode = build_objective(objective_name, **objective_config), rep.encode
        optimizer = torch.optim.AdamW(model.parameters(), preset["training"]["learning_rate"])

        def step(model=model, objective=objective, encode=encode, waves=waves,
                 optimizer=optimizer) -> None:
            with torch.no_grad():
                x0 = encode(waves) if encode else waves
            objective.loss(model, x0, generator).backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)

        contestants.append(Contestant(f"`{name}`", count(model), batch, step,
                                      crop_seconds=preset["data"]["crop_seconds"],
                                      run_steps=preset["training"]["steps"]))
    return contestants


def vocoder_step(model: nn.Module, mel: Tensor, generator: torch.Generator) -> Callable[[], None]:
    target = torch.rand(mel.shape[0], 1, model.n_fft // 2 + 1, mel.shape[-1], generator=generator)
    target = target.to(mel.device)
    optimizer = torch.optim.Adam(model.parameters(), 2e-4)

    def step() -> None:
        vocoder_loss(model(mel), target).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step


# ---------------------------------------------------------------------------------- main


def run(contestants: list[Contestant], device: torch.device, warmup: int, steps: int) -> None:
    """Round robin: every contestant does one step per round, so slow spells hit all alike."""
    for round_ in range(warmup + steps):
        for contestant in contestants:
            if round_ < warmup:
                contestant.warm_up(device)
                took = f"warm-up, peak {contestant.peaks[-1] / 2**20:.0f} MB"
            else:
                contestant.timed(device)
                took = f"{contestant.times[-1]:.2f} s"
            print(f"  round {round_}: {contestant.label}: {took}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--samples", type=int, default=22016, help="DiffWave crop, samples")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per model")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps per model first")
    parser.add_argument(
        "--reference-mels",
        type=int,
        nargs="*",
        default=[1],
        help="mel bins of each reference run (80 is lmnt's shipped model; 1 is the fairest)",
    )
    parser.add_argument("--others", nargs="*", default=["tiny", "default"], help="tiny, default")
    parser.add_argument("--presets", nargs="*", default=None,
                        help="also time these presets' own training steps (none named: all)")
    parser.add_argument("--only-presets", action="store_true",
                        help="time the presets only (no DiffWave comparison, no networks)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/training.md"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    betas = torch.linspace(1e-4, 0.05, 50, dtype=torch.float64)  # DiffWave's training table

    started = time.time()
    diffwave, note, others = [], None, []
    if not args.only_presets:
        print(f"DiffWave, seed configuration, batch {args.batch} x {args.samples} samples")
        diffwave, note = diffwave_contestants(args, device, betas)
        run(diffwave, device, args.warmup, args.steps)
        others = other_contestants(args, device)
    if others:
        print("other networks")
        run(others, device, args.warmup, args.steps)

    presets = []
    if args.presets is not None:
        from cadenza.presets import preset_names

        presets = preset_contestants(args.presets or list(preset_names()), device)
        print("presets")
        run(presets, device, args.warmup, args.steps)

    report = render(args, device, diffwave, note, others, time.time() - started, presets)
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    temporary = args.out.with_suffix(".tmp")
    temporary.write_text(report)
    temporary.replace(args.out)
    print(f"wrote {args.out}")


def render(
    args: argparse.Namespace,
    device: torch.device,
    diffwave: list[Contestant],
    note: str | None,
    others: list[Contestant],
    elapsed: float,
    presets: list[Contestant] = (),
) -> str:
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
    memory = (
        "CUDA max_memory_allocated above the step's start"
        if device.type == "cuda"
        else "CPU allocator's peak above the step's start, from torch.profiler"
    )
    command = "python " + " ".join([sys.argv[0], *sys.argv[1:]])
    lines = [
        f"# Training throughput ({datetime.date.today().isoformat()})",
        "",
        f"`{command}`: {device.type} ({where or platform.machine()}), {args.threads} torch "
        f"thread(s); torch {torch.__version__}. Median of {args.steps} timed steps after "
        f"{args.warmup} warm-up step(s); one step = forward, loss, backward, Adam. Peak memory "
        f"(of the warm-up steps, so including Adam's moments): {memory}. Run took {elapsed:.0f} s.",
    ]
    if diffwave:
        lines += [
            "",
            f"## DiffWave, seed configuration (30 layers, 64 channels, cycle 10), batch "
            f"{args.batch} x {args.samples} samples",
            "",
            "DDPM with DiffWave's 50-step table, eps-prediction, L1 loss; steps interleaved.",
            "",
            "| implementation | parameters | step (s) | examples / s | audio s / s "
            "| peak memory (MB) | speed vs cadenza |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
    for contestant in diffwave:
        ours = diffwave[0]
        audio = contestant.examples_per_second * args.samples / SAMPLE_RATE
        lines.append(
            f"| {contestant.label} | {contestant.parameters:,} | {contestant.seconds:.2f} "
            f"| {contestant.examples_per_second:.3f} | {audio:.3f} | {contestant.peak_mb:.0f} "
            f"| {contestant.examples_per_second / ours.examples_per_second:.2f} |"
        )
    if len(diffwave) > 1:
        ours = diffwave[0]
        fastest = max(diffwave[1:], key=lambda c: c.examples_per_second)
        ratio = ours.examples_per_second / fastest.examples_per_second
        lines += [
            "",
            f"cadenza / fastest reference speed: **{ratio:.2f}x** (against {fastest.label}); "
            f"all steps (s): "
            + "; ".join(f"{c.label}: {', '.join(f'{t:.2f}' for t in c.times)}" for c in diffwave),
        ]
    if note:
        lines += ["", note]
    if others:
        lines += [
            "",
            f"## Other networks, batch {args.batch}",
            "",
            "eps-prediction, L2 loss, 1000-step linear table; the vocoder with `vocoder_loss`.",
            "",
            "| network, configuration, input | parameters | step (s) | examples / s "
            "| peak memory (MB) |",
            "|---|---:|---:|---:|---:|",
        ]
        for contestant in others:
            lines.append(
                f"| {contestant.label} | {contestant.parameters:,} | {contestant.seconds:.2f} "
                f"| {contestant.examples_per_second:.2f} | {contestant.peak_mb:.0f} |"
            )
    if presets:
        lines += [
            "",
            "## Presets, as `cadenza train` runs them",
            "",
            "Each preset's batch of random crops, encoded by its representation, its network "
            "and its objective's loss, AdamW. Whole run: the preset's `training.steps` at this "
            "speed.",
            "",
            "| preset | parameters | batch x crop | step (s) | examples / s | audio s / s "
            "| whole run (h) | peak memory (MB) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for contestant in presets:
            hours = contestant.run_steps * contestant.seconds / 3600
            lines.append(
                f"| {contestant.label} | {contestant.parameters:,} | {contestant.batch} x "
                f"{contestant.crop_seconds:g} s | {contestant.seconds:.2f} "
                f"| {contestant.examples_per_second:.2f} "
                f"| {contestant.examples_per_second * contestant.crop_seconds:.2f} "
                f"| {hours:.2g} | {contestant.peak_mb:.0f} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
