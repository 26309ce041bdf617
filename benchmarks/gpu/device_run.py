"""Everything a short loan of a GPU machine should measure and make, in one go.

    python benchmarks/gpu/device_run.py --data DIR --out DIR [--train-seconds 360] [--dry-run]

Run by ``benchmarks/gpu/run.sh`` (which installs the carried wheels and runs the CUDA tests
first). In order, each step's result written to ``--out`` as soon as it exists, so a run cut
short still brings back what it finished:

1. ``presets``: bf16-autocast training throughput of every full seed preset (examples per
   second and seconds of audio per second, peak GPU memory), each preset's own step: its batch
   of crops encoded by its representation, its objective's loss, backward, AdamW.
2. ``sampling``: the real-time factor of the shipped default model generating 30 s on the GPU
   with its own default sampler, and of the same in float32 on the CPU for comparison.
3. ``training``: the default recipe at GPU size (``piano-mel-gpu``) trained with ``cadenza
   train`` for about ``--train-seconds`` on the carried corpus, its steps set from the speed
   measured in step 1; the exported model comes back as a tar in parts of at most 15 MiB, with
   a 10 s sample decoded by the shipped vocoder.

``--dry-run`` does the same on the CPU with the tiny presets, tiny crops and a few steps, in
seconds: the test suite runs it, so the script is known to work before a GPU is lent.
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
                "piano-mel-gpu")
TINY_PRESETS = ("tiny-msanii-mel", "tiny-diffwave-piano", "tiny-vocos")
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


def train_default(data: Path, out: Path, work: Path, steps_per_second: float,
                  train_seconds: float, dry_run: bool) -> dict:
    preset = "tiny-msanii-mel" if dry_run else "piano-mel-gpu"
    steps = 3 if dry_run else max(10, int(steps_per_second * train_seconds))
    run = work / "run"
    overrides = [f"training.steps={steps}", f"training.checkpoint_every={steps}",
                 "training.sample_every=0", "training.log_every=10"]
    if dry_run:
        overrides += ["data.crop_seconds=0.5", "training.batch_size=2",
                      "training.warmup_steps=1"]
    else:
        overrides += ["training.mixed_precision=bf16"]
    command = [sys.executable, "-m", "cadenza", "train", "--preset", preset,
               "--data", str(data), "--out", str(run)]
    for override in overrides:
        command += ["--set", override]
    started = time.perf_counter()
    subprocess.run(command, check=True)
    took = time.perf_counter() - started

    from cadenza.data import audio
    from cadenza.pipeline import load, load_vocoder, model_folder
    from cadenza.tasks import generate

    pipeline = load(run / "model")
    pipeline.vocoder = load_vocoder(model_folder("tiny-piano-mel"))
    sample = generate(pipeline, 1.0 if dry_run else 10.0, seed=0, steps=2 if dry_run else None)
    audio.write(out / "sample.wav", sample[0].numpy(), pipeline.sample_rate)
    if (run / "log.csv").exists():
        (run / "log.csv").replace(out / "train-log.csv")
    archive = work / "model.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(run / "model", arcname="model")
    payload = archive.read_bytes()
    parts = [payload[i : i + PART_BYTES] for i in range(0, len(payload), PART_BYTES)]
    for index, part in enumerate(parts):
        (out / f"model.tar.{index}").write_bytes(part)
    return {"preset": preset, "steps": steps, "wall_seconds": took, "model_parts": len(parts),
            "reassemble": "cat model.tar.* > model.tar && tar xf model.tar"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of training audio")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=Path("/tmp/cadenza-gpu"))
    parser.add_argument("--train-seconds", type=float, default=360.0)
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
    recipe = "tiny-msanii-mel" if args.dry_run else "piano-mel-gpu"
    speed = next((row.get("examples_per_second", 0) / row["batch"]
                  for row in results["presets"] if row["preset"] == recipe and "batch" in row),
                 1.0)
    # cadenza train adds data loading and EMA to the bare step: budget 80% of the bare speed.
    results["training"] = train_default(args.data, args.out, args.work, 0.8 * speed,
                                        args.train_seconds, args.dry_run)
    write_json(args.out / "results.json", results)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
