"""Everything a short loan of a GPU machine should measure and make, in one go.

    python benchmarks/gpu/device_run.py --data DIR --heldout DIR --out DIR [--train-seconds 300]
        [--dry-run]

Run by ``benchmarks/gpu/run.sh`` (which installs the carried wheels and runs the CUDA tests
first). In order, each step's result written to ``--out`` as soon as it exists, so a run cut
short still brings back what it finished:

1. ``presets``: bf16-autocast training throughput of every full seed preset (examples per
   second and seconds of audio per second, peak GPU memory), each preset's own step: its batch
   of crops encoded by its representation, its objective's loss, backward, AdamW.
2. ``sampling``: the real-time factor of the shipped default model generating 30 s on the GPU
   with its own default sampler, and of the same in float32 on the CPU for comparison.
3. ``training``: side by side on the one GPU for about ``--train-seconds``, the default recipe
   at GPU size (``piano-mel-gpu``), the shipped Vocos's network from scratch at GPU batch size
   (``vocos-gpu``) and the shipped Vocos fine-tuned with discriminators (``vocos-gan``) on the
   carried corpus, their steps set from the speeds measured in step 1 and each stopped by its
   time budget whatever the speed; the new Vocos and the shipped one scored on the carried
   held-out clips as ``benchmarks/decoders.py`` scores them (auraloss MR-STFT); a 10 s sample
   of the new model decoded by the best. Model, vocoders (float16), sample and training logs
   come back as one tar in parts of at most 15 MiB.

``--dry-run`` does the same on the CPU with the tiny presets, tiny crops and a few steps: the
test suite runs it, so the script is known to work before a GPU is lent.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import torch

from cadenza.atomic import write_json

FULL_PRESETS = ("msanii-mel", "pdd-mel", "diffwave-piano", "edmsound-stft", "vocoder",
                "piano-mel-gpu", "vocos-gpu", "vocos-gan")
TINY_PRESETS = ("tiny-msanii-mel", "tiny-diffwave-piano", "tiny-vocos", "tiny-vocos-gan")
RECIPES = {  # dry run -> role -> (preset, bf16): what step 3 trains
    False: {"model": ("piano-mel-gpu", True), "vocoder": ("vocos-gpu", False),
            "vocoder-gan": ("vocos-gan", False)},
    True: {"model": ("tiny-msanii-mel", False), "vocoder": ("tiny-vocos", False),
           "vocoder-gan": ("tiny-vocos-gan", False)},
}
VOCODER_ROLES = {"vocoder": "trained here", "vocoder-gan": "shipped, fine-tuned with a GAN here"}
PART_BYTES = 15 * 2**20


def preset_step(name: str, device: torch.device, dry_run: bool):
    """(step function, examples per step, seconds of audio per example, parameters)."""
    from cadenza.networks import network
    from cadenza.objectives import objective as build_objective
    from cadenza.presets import load_preset
    from cadenza.representations import representation as build_representation
    from cadenza.train import VOCODER_OBJECTIVES

    preset = load_preset(name)
    rep = build_representation(**preset["representation"])
    seconds = 0.25 if dry_run else preset["data"]["crop_seconds"]
    batch = 2 if dry_run else preset["training"]["batch_size"]
    generator = torch.Generator().manual_seed(0)
    waves = 0.1 * torch.randn(batch, preset["data"].get("channels", 1),
                              round(seconds * rep.sample_rate), generator=generator)
    if hasattr(rep, "fit"):
        rep.fit([waves])
    rep, waves = rep.to(device), waves.to(device)
    config = dict(preset["objective"])
    objective_name = config.pop("name")
    torch.manual_seed(0)
    model = network(**preset["network"]).to(device)
    if objective_name in VOCODER_OBJECTIVES:
        objective, encode = VOCODER_OBJECTIVES[objective_name](rep), None
    else:
        objective, encode = build_objective(objective_name, **config), rep.encode
    optimizer = torch.optim.AdamW(model.parameters(), 1e-4)
    dtype = torch.bfloat16

    def step() -> None:
        with torch.no_grad():
            x0 = encode(waves) if encode else waves
        with torch.autocast(device.type, dtype=dtype):
            loss = objective.loss(model, x0, generator=None)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step, batch, seconds, sum(p.numel() for p in model.parameters())


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def measure_presets(names, device, dry_run: bool, timed_steps: int) -> list[dict]:
    rows = []
    for name in names:
        if device.type == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        try:
            step, batch, seconds, parameters = preset_step(name, device, dry_run)
            step()  # warm-up: kernels chosen, optimizer state allocated
            synchronize(device)
            started = time.perf_counter()
            for _ in range(timed_steps):
                step()
            synchronize(device)
            per_step = (time.perf_counter() - started) / timed_steps
        except RuntimeError as error:  # out of memory, say: the row says so, the run goes on
            rows.append({"preset": name, "error": str(error).splitlines()[0]})
            continue
        peak = torch.cuda.max_memory_allocated() / 2**30 if device.type == "cuda" else None
        rows.append({"preset": name, "parameters": parameters, "batch": batch,
                     "crop_seconds": seconds, "seconds_per_step": per_step,
                     "examples_per_second": batch / per_step,
                     "audio_seconds_per_second": batch * seconds / per_step,
                     "peak_memory_gib": peak})
        print(f"preset {name}: {rows[-1]['examples_per_second']:.2f} examples/s", flush=True)
    return rows


def measure_sampling(device: torch.device, dry_run: bool) -> list[dict]:
    from cadenza.pipeline import load, model_folder
    from cadenza.tasks import generate

    seconds = 1.0 if dry_run else 30.0
    rows = []
    devices = [device] if dry_run or device.type == "cpu" else [device, torch.device("cpu")]
    for where in devices:
        pipeline = load(model_folder("tiny-piano-mel"), device=where)
        steps = 2 if dry_run else None
        generate(pipeline, min(seconds, 1.0), seed=0, steps=steps)  # warm-up
        synchronize(where)
        started = time.perf_counter()
        generate(pipeline, seconds, seed=0, steps=steps)
        synchronize(where)
        took = time.perf_counter() - started
        rows.append({"model": "tiny-piano-mel", "device": where.type, "seconds": seconds,
                     "sampler": pipeline.defaults.sampler,
                     "steps": steps or pipeline.defaults.steps,
                     "compute_seconds": took, "real_time_factor": seconds / took})
        print(f"sampling on {where.type}: {seconds / took:.1f}x real time", flush=True)
    return rows


def train(preset: str, data: Path, run: Path, steps: int, minutes: float,
          dry_run: bool, bf16: bool) -> subprocess.Popen:
    """``cadenza train`` of ``preset`` for ``steps`` (its schedule's length), stopped after
    ``minutes`` of CPU time (about the wall time of one busy process) whatever the speed."""
    overrides = [f"training.steps={steps}", f"training.checkpoint_every={max(1, steps // 4)}",
                 "training.sample_every=0", "training.log_every=10",
                 f"training.max_cpu_minutes={minutes:g}"]
    if dry_run:
        overrides += ["data.crop_seconds=0.5", "training.batch_size=2",
                      "training.warmup_steps=1"]
    elif bf16:
        overrides += ["training.mixed_precision=bf16"]
    command = [sys.executable, "-m", "cadenza", "train", "--preset", preset,
               "--data", str(data), "--out", str(run)]
    for override in overrides:
        command += ["--set", override]
    return subprocess.Popen(command)


def train_both(data: Path, work: Path, speeds: dict[str, float], train_seconds: float,
               dry_run: bool) -> dict:
    """The default recipe, its Vocos from scratch and the shipped Vocos fine-tuned with
    discriminators, side by side on the one GPU, each budgeted at 30% of its bare speed (three
    runs share the device; ``cadenza train`` adds data loading and EMA to the bare step)."""
    started, runs, rows = time.perf_counter(), {}, {}
    for role, (preset, bf16) in RECIPES[dry_run].items():
        steps = 3 if dry_run else max(10, int(0.3 * speeds.get(preset, 1.0) * train_seconds))
        runs[role] = (preset, steps, train(preset, data, work / role, steps,
                                           train_seconds / 60, dry_run, bf16))
    for role, (preset, steps, process) in runs.items():
        rows[role] = {"preset": preset, "steps_planned": steps, "returncode": process.wait()}
        done = sorted((work / role / "checkpoints").glob("step-*"))
        rows[role]["steps_done"] = int(done[-1].name.split("-")[1]) if done else 0
    rows["wall_seconds"] = time.perf_counter() - started
    return rows


def heldout_clips(folder: Path, dry_run: bool) -> torch.Tensor:
    """The carried held-out clips (16 kHz mono, 4 s; 1 s in a dry run): ``(clips, 1, samples)``."""
    from cadenza.clips import load_clips

    clips = load_clips(folder, 16000, 1.0 if dry_run else 4.0, progress=False).clips
    return torch.from_numpy(clips).float()[:, None]


def measure_decoders(clips: torch.Tensor, vocoders: dict[str, torch.nn.Module],
                     device: torch.device) -> list[dict]:
    """benchmarks/decoders.py's measure (auraloss's MultiResolutionSTFTLoss with its defaults,
    mean over clips) of each vocoder decoding the clips' 64-bin mel, on the device."""
    import auraloss

    from cadenza.pipeline import load, model_folder

    rep = load(model_folder("tiny-piano-mel")).representation.to(device)
    loss = auraloss.freq.MultiResolutionSTFTLoss()
    clips, rows = clips.to(device), []
    for name, vocoder in vocoders.items():
        with torch.no_grad():
            decoded = vocoder.to(device)(rep.log_mel(clips), samples=clips.shape[-1])
        scores = [float(loss(decoded[i : i + 1].float(), clips[i : i + 1]))
                  for i in range(len(clips))]
        rows.append({"vocoder": name, "clips": len(clips), "mr_stft": sum(scores) / len(scores)})
        print(f"decoder {name}: MR-STFT {rows[-1]['mr_stft']:.3f}", flush=True)
    return rows


def halved(folder: Path) -> None:
    """Every safetensors file in ``folder`` stored as float16 (the loaders read it back into
    float32), as the shipped models are: half the bytes to bring back."""
    from safetensors.torch import load_file, save_file

    for path in folder.glob("*.safetensors"):
        tensors = load_file(path)
        save_file({key: value.half() if value.is_floating_point() else value
                   for key, value in tensors.items()}, path)


def pack(out: Path, work: Path, members: dict[str, Path]) -> int:
    """``members`` (name in the archive -> path) as one tar, in parts of at most PART_BYTES."""
    archive = work / "made.tar"
    with tarfile.open(archive, "w") as tar:
        for name, path in members.items():
            if path.exists():
                tar.add(path, arcname=name)
    payload = archive.read_bytes()
    parts = [payload[i : i + PART_BYTES] for i in range(0, len(payload), PART_BYTES)]
    for index, part in enumerate(parts):
        (out / f"made.tar.{index}").write_bytes(part)
    return len(parts)


def make_and_measure(args: argparse.Namespace, device: torch.device, results: dict) -> dict:
    """Train both, measure the new Vocos against the shipped one on held-out clips, sample the
    new model with the better of the two, and pack what was made."""
    from cadenza.data import audio
    from cadenza.pipeline import load, load_vocoder, model_folder
    from cadenza.tasks import generate

    speeds = {row["preset"]: row["examples_per_second"] / row["batch"]
              for row in results["presets"] if "batch" in row}
    made = train_both(args.data, args.work, speeds, args.train_seconds, args.dry_run)
    shipped = load(model_folder("tiny-piano-mel"))
    vocoders = {"shipped": shipped.vocoder}
    for role, name in VOCODER_ROLES.items():
        if (args.work / role / "vocoder" / "vocoder.json").exists():
            vocoders[name] = load_vocoder(args.work / role / "vocoder")
    made["decoders"] = measure_decoders(heldout_clips(args.heldout, args.dry_run), vocoders,
                                        device)
    best = min(made["decoders"], key=lambda row: row["mr_stft"])["vocoder"]
    pipeline = load(args.work / "model" / "model", device=device)
    pipeline.vocoder = vocoders[best].to(device)
    sample = generate(pipeline, 1.0 if args.dry_run else 10.0, seed=0,
                      steps=2 if args.dry_run else None)
    audio.write(args.work / "sample.wav", sample[0].cpu().numpy(), pipeline.sample_rate)
    made["sample_vocoder"] = best
    folders = {"model": args.work / "model" / "model",
               **{role: args.work / role / "vocoder" for role in VOCODER_ROLES}}
    for folder in folders.values():
        if folder.exists():
            halved(folder)
    made["parts"] = pack(args.out, args.work, {
        **folders, "sample.wav": args.work / "sample.wav",
        **{f"{role}-log.csv": args.work / role / "log.csv" for role in RECIPES[False]}})
    made["reassemble"] = "cat made.tar.* > made.tar && tar xf made.tar"
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of training audio")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=Path("/tmp/cadenza-gpu"))
    parser.add_argument("--heldout", type=Path, required=True,
                        help="held-out clips (prepare.sh: .gpu/heldout) for the decoder measure")
    parser.add_argument("--train-seconds", type=float, default=300.0)
    parser.add_argument("--dry-run", action="store_true", help="CPU, tiny presets, seconds")
    args = parser.parse_args()

    device = torch.device("cpu" if args.dry_run or not torch.cuda.is_available() else "cuda")
    args.out.mkdir(parents=True, exist_ok=True)
    args.work.mkdir(parents=True, exist_ok=True)
    results: dict = {
        "machine": platform.node(), "torch": torch.__version__, "device": device.type,
        "gpu": torch.cuda.get_device_name() if device.type == "cuda" else None,
        "dry_run": args.dry_run,
    }
    names = TINY_PRESETS if args.dry_run else FULL_PRESETS
    results["presets"] = measure_presets(names, device, args.dry_run, 1 if args.dry_run else 5)
    write_json(args.out / "results.json", results)
    results["sampling"] = measure_sampling(device, args.dry_run)
    write_json(args.out / "results.json", results)
    results["training"] = make_and_measure(args, device, results)
    write_json(args.out / "results.json", results)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
