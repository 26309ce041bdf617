"""Quality against model calls: training-free samplers and distilled students on real models.

    python benchmarks/steps_study.py run NAME MODEL [--students RUN] [--clips 64] [--seconds 4]
    python benchmarks/steps_study.py report

``run`` measures one model (a pipeline folder or a shipped model's name) under the name NAME:

- the teacher with ddpm / ddim / dpmpp_2m / deis / heun at 1000, 200, 50, 20, 10 and 5 model
  calls on one schedule (``karras``, rho 7, from sigma 80 down to the objective's smallest
  sigma; Heun pays 2 calls a step but the last, so it gets the most steps that fit);
- the same samplers on cadenza's ``tuned`` schedule at the small budgets (does its advantage
  on the Gaussian oracle survive a real network?);
- with ``--cap SIGMA``: every sampler at the small budgets on karras from ``SIGMA`` instead of
  80 (for a model whose denoiser is poor at high noise);
- DDIM on the distillation grid (``cosine_grid``) at 64 ... 1 steps, the undistilled baseline;
- with ``--students RUN`` (a ``cadenza distill`` run folder): each round's student at its own
  step count (DDIM on the same grid).

Every row generates ``--clips`` clips of ``--seconds`` from the same seed and scores them
against the piano corpus's train split (the reference of ``benchmarks/metric_floors.py``):
FAD (bootstrap 95% interval) and KID on ``mel_stats`` embeddings, FAD and KID on the pitch
classifier's embeddings (PKID), the pitch inception score PIS, and the clips' loudness. A
"held-out" row scores as many real clips from the validation and test splits: the best any
model can expect at this clip count. Rows are cached in ``benchmarks/results/steps_study-NAME
.json`` as they finish, so an interrupted run resumes; ``report`` turns every cached model into
``benchmarks/results/steps_study.md`` (the tables) and ``steps_study.png`` (the plot).
"""

from __future__ import annotations

import os

# One core for every library, set before numpy and torch start their thread pools.
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import datetime  # noqa: E402
import fcntl  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from cadenza import __version__  # noqa: E402
from cadenza.atomic import write_json, write_text  # noqa: E402
from cadenza.clips import ClipSet, load_clips  # noqa: E402
from cadenza.distill import student_noise_range  # noqa: E402
from cadenza.measure import (  # noqa: E402
    classifier_embedders,
    classify_clips,
    embed_clips,
    inception_over_splits,
)
from cadenza.metrics.continuity import level_db  # noqa: E402
from cadenza.metrics.embedders import embedder  # noqa: E402
from cadenza.metrics.frechet import bootstrap_ci, fad  # noqa: E402
from cadenza.metrics.kernel import kid  # noqa: E402
from cadenza.pipeline import Pipeline, load, model_folder  # noqa: E402
from cadenza.sampling import model_calls, sample, start_noise  # noqa: E402
from cadenza.schedules import schedule  # noqa: E402

RESULTS = Path(__file__).parent / "results"
SAMPLERS = ("ddpm", "ddim", "dpmpp_2m", "deis", "heun")
CALLS = (1000, 200, 50, 20, 10, 5)
# At 1000 calls only the ancestral sampler (the slowest to converge) and DDIM (the ODE
# reference): the ODE solvers already agree within 1% of each other's FAD at 50 and 200 calls
# on the shipped model, and each 1000-call row costs about 10 minutes of one core.
LONG_SAMPLERS = ("ddpm", "ddim")
TUNED_CALLS = (50, 20, 10, 5)
TUNED_SAMPLERS = ("ddim", "dpmpp_2m", "deis")
GRID_STEPS = (64, 32, 16, 8, 4, 2, 1)
SIGMA_MAX = 80.0  # EDM's; the karras grid's top
BATCH = 32  # clips generated at once
PKID_BOOTSTRAP_SUBSETS = 10  # KID subsets per resample: 100 resamples already average
SAMPLER_COLOURS = {"ddpm": "tab:red", "ddim": "tab:orange", "dpmpp_2m": "tab:blue",
                   "deis": "tab:green", "heun": "tab:purple"}


def steps_for(sampler: str, calls: int) -> int:
    """The most steps whose cost fits in ``calls``."""
    return max(1, (calls + 1) // 2) if sampler == "heun" else calls


def teacher_sigmas(pipeline: Pipeline, kind: str, steps: int) -> torch.Tensor:
    low, high = pipeline.noise_range
    if kind == "tuned":
        return _tuned(pipeline, steps)
    if kind == "cosine_grid":  # the grid a distilled student of this model samples on
        student_low, student_high = student_noise_range(pipeline)
        return schedule("cosine_grid", steps, sigma_min=student_low, sigma_max=student_high)
    top = float(kind.removeprefix("karras-max")) if kind.startswith("karras-max") else SIGMA_MAX
    return schedule("karras", steps, sigma_min=low, sigma_max=min(top, high))


def _tuned(pipeline: Pipeline, steps: int) -> torch.Tensor:
    """The pipeline's own ``tuned`` schedule, kept inside the model's sigma range (repeated
    clamped sigmas dropped, so it may have fewer steps than asked)."""
    return pipeline.sigmas(dataclasses.replace(pipeline.defaults, schedule="tuned", steps=steps))


@torch.no_grad()
def generate(pipeline: Pipeline, sigmas: torch.Tensor | None, sampler: str | None, clips: int,
             seconds: float, seed: int) -> tuple[np.ndarray, int, float]:
    """``clips`` mono clips, the model calls each batch cost and the seconds it took.
    ``sigmas=None``: the pipeline's own sampler and schedule (a student)."""
    started = time.perf_counter()
    samples = round(seconds * pipeline.sample_rate)
    out, calls = [], 0
    for index, start in enumerate(range(0, clips, BATCH)):
        batch = min(BATCH, clips - start)
        run_sigmas = pipeline.sigmas() if sigmas is None else sigmas
        generator = torch.Generator().manual_seed(seed + index)
        x = start_noise(pipeline.shape_for(seconds, batch), float(run_sigmas[0]),
                        sigma_data=pipeline.sigma_data, generator=generator)
        denoiser = pipeline.denoiser()
        counted = 0

        def counting(x, sigma, denoiser=denoiser):
            nonlocal counted
            counted += 1
            return denoiser(x, sigma)

        x = sample(counting, x, run_sigmas, sampler or pipeline.defaults.sampler,
                   generator=generator)
        out.append(pipeline.decode(x.float(), samples).mean(dim=1).numpy())
        calls = counted
    return np.concatenate(out), calls, time.perf_counter() - started


class Scorer:
    """Every metric of a set of clips against the reference, embeddings of it computed once."""

    def __init__(self, reference: ClipSet, seed: int = 0) -> None:
        self.seed = seed
        self.rate = reference.sample_rate
        self.mel = embedder("mel_stats", sample_rate=self.rate)
        self.classifiers, why_not = classifier_embedders(self.rate)
        if why_not:
            raise SystemExit(f"the shipped classifiers do not load: {why_not}")
        self.reference_mel = embed_clips(self.mel, reference, False)
        self.reference_rms = float(np.median(rms(reference.clips)))
        self.reference_levelled = embed_clips(self.mel, self._levelled(reference.clips), False)
        self.reference_pitch, probabilities = classify_clips(self.classifiers["pitch"], reference,
                                                        False)
        self.reference_pis = inception_over_splits(probabilities, seed).mean
        self.reference_db = loudness_db(reference.clips)

    def _levelled(self, clips: np.ndarray) -> ClipSet:
        """Every clip scaled to the reference's median RMS: what is left is not loudness."""
        gain = self.reference_rms / np.maximum(rms(clips), 1e-10)
        return ClipSet.from_array("levelled", (clips * gain[:, None]).astype(np.float32),
                                  self.rate)

    def __call__(self, clips: np.ndarray) -> dict:
        generated = ClipSet.from_array("generated", clips.astype(np.float32), self.rate)
        a = embed_clips(self.mel, generated, False)
        interval = bootstrap_ci(a, self.reference_mel, resamples=100, seed=self.seed)
        mean_term = float(np.sum(np.square(a.mean(0) - self.reference_mel.mean(0))))
        levelled = embed_clips(self.mel, self._levelled(clips), False)
        levelled_interval = bootstrap_ci(levelled, self.reference_levelled, resamples=100,
                                         seed=self.seed)
        kernel = kid(a, self.reference_mel, seed=self.seed)
        pitch, probabilities = classify_clips(self.classifiers["pitch"], generated, False)
        pkid = kid(pitch, self.reference_pitch, seed=self.seed)
        # PKID's spread as FAD's: both sets resampled, the bias of the resampling taken out
        pkid_interval = bootstrap_ci(
            pitch, self.reference_pitch, resamples=100, seed=self.seed, floor=None,
            statistic=lambda x, y: kid(x, y, subsets=PKID_BOOTSTRAP_SUBSETS, seed=self.seed).mean)
        pis = inception_over_splits(probabilities, self.seed)
        return {
            "fad": interval.value, "fad_low": interval.low, "fad_high": interval.high,
            "fad_mean_share": mean_term / max(interval.value, 1e-12),
            "fad_levelled": levelled_interval.value,
            "fad_levelled_low": levelled_interval.low, "fad_levelled_high": levelled_interval.high,
            "kid": kernel.mean, "kid_std": kernel.std,
            "fad_pitch": fad(pitch, self.reference_pitch),
            "pkid": pkid.mean, "pkid_std": pkid.std,
            "pkid_low": pkid_interval.low, "pkid_high": pkid_interval.high,
            "pis": pis.mean, "pis_std": pis.std, "reference_pis": self.reference_pis,
            "loudness_db": loudness_db(clips), "reference_loudness_db": self.reference_db,
            "finite": bool(np.isfinite(clips).all()),
        }


def rms(clips: np.ndarray) -> np.ndarray:
    return np.sqrt(np.mean(np.square(clips, dtype=np.float64), axis=1))


def loudness_db(clips: np.ndarray) -> float:
    """Median clip level in dBFS (floored at -200 so that JSON never holds -inf)."""
    return max(float(np.median([level_db(clip) for clip in clips])), -200.0)


def rows_to_run(pipeline: Pipeline, students: Path | None, cap: float | None = None,
                long_samplers: tuple[str, ...] = LONG_SAMPLERS, students_label: str = ""
                ) -> list[dict]:
    rows = [{"kind": "teacher", "sampler": sampler, "schedule": "karras", "budget": calls,
             "steps": steps_for(sampler, calls)}
            for calls in sorted(CALLS) for sampler in SAMPLERS
            if calls < 1000 or sampler in long_samplers]
    rows += [{"kind": "teacher", "sampler": sampler, "schedule": "tuned", "budget": calls,
              "steps": steps_for(sampler, calls)}
             for calls in sorted(TUNED_CALLS) for sampler in TUNED_SAMPLERS]
    if cap is not None:
        rows += [{"kind": "teacher", "sampler": sampler, "schedule": f"karras-max{cap:g}",
                  "budget": calls, "steps": steps_for(sampler, calls)}
                 for calls in sorted(TUNED_CALLS) for sampler in SAMPLERS]
    rows += [{"kind": "teacher", "sampler": "ddim", "schedule": "cosine_grid", "budget": steps,
              "steps": steps} for steps in sorted(GRID_STEPS)]
    if students is not None:
        for folder in sorted(students.glob("round-*/model"),
                             key=lambda path: int(path.parent.name.split("-")[1])):
            student = load(folder)
            plan = student.defaults
            rows.append({"kind": "student", "sampler": plan.sampler, "schedule": plan.schedule,
                         "budget": plan.steps, "steps": plan.steps, "model": str(folder),
                         "round": int(folder.parent.name.split("-")[1]),
                         "label": students_label})
    return sorted(rows, key=lambda row: row["budget"])  # cheap rows first


def key_of(row: dict) -> str:
    kind = f"{row['kind']}-{row['label']}" if row.get("label") else row["kind"]
    return f"{kind}/{row['sampler']}/{row['schedule']}/{row['steps']}"


def run(args: argparse.Namespace) -> None:
    path = RESULTS / f"steps_study-{args.name}.json"
    record = json.loads(path.read_text()) if path.exists() else {}
    settings = {"model": args.model, "clips": args.clips, "seconds": args.seconds,
                "seed": args.seed, "corpus": args.corpus}
    if record and record.get("settings") != settings:
        raise SystemExit(f"{path} was measured with {record['settings']}; move it away first")
    record.setdefault("settings", settings)
    record.setdefault("rows", {})
    record["machine"] = (f"{platform.system()} {platform.machine()}, one thread, torch "
                         f"{torch.__version__}, cadenza {__version__}")
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    corpus = Path(args.corpus)
    reference = load_clips(corpus / "train", 16000, args.seconds, name="train", progress=False)
    scorer = Scorer(reference, args.seed)
    print(f"reference: {len(reference)} clips of {args.seconds} s", flush=True)

    def save() -> None:
        # Rows of another process measuring the same model (say, the students while the
        # teacher's long rows run) are merged in, under a lock, not overwritten.
        with open(path.with_suffix(".json.lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if path.exists():
                record["rows"] = {**json.loads(path.read_text())["rows"], **record["rows"]}
            record["updated"] = datetime.date.today().isoformat()
            write_json(path, record)

    old_rows: dict = {}
    if args.rescore and path.exists():  # every row again, with the metrics of this version
        old_rows = record["rows"]
        path.replace(path.with_suffix(".json.old"))
        record["rows"] = {}
    if "held-out" not in record["rows"]:
        held = [load_clips(corpus / split, 16000, args.seconds, name=split, progress=False)
                for split in ("validation", "test")]
        clips = np.concatenate([clip_set.clips for clip_set in held])
        order = np.random.default_rng(args.seed).permutation(len(clips))[: args.clips]
        record["rows"]["held-out"] = {"kind": "held-out", "clips": len(order),
                                      **scorer(clips[order])}
        save()
    pipeline = load(model_folder(args.model))
    if pipeline.sample_rate != 16000:
        raise SystemExit("the study's reference is 16 kHz; this model is not")
    students = Path(args.students) if args.students else None
    clips_dir = Path(args.keep) / args.name
    for row in rows_to_run(pipeline, students, args.cap, tuple(args.long_samplers),
                           args.students_label):
        key = key_of(row)
        if key in record["rows"] or (args.only and row["kind"] not in args.only):
            continue
        if row["budget"] > args.max_calls:
            continue
        kept = clips_dir / (key.replace("/", "-") + ".npy")
        if kept.exists() and key in old_rows:  # --rescore: the same clips, scored again
            clips = np.load(kept).astype(np.float32)
            facts = {name: old_rows[key][name]
                     for name in ("calls", "expected_calls", "generate_seconds")}
        else:
            if row["kind"] == "student":
                model, sigmas, sampler = load(row["model"]), None, None
            else:
                model = pipeline
                sigmas = teacher_sigmas(pipeline, row["schedule"], row["steps"])
                sampler = row["sampler"]
            clips, calls, seconds = generate(model, sigmas, sampler, args.clips, args.seconds,
                                             args.seed)
            expected = (model_calls(row["sampler"], len(sigmas) - 1) if sigmas is not None
                        else None)
            facts = {"calls": calls, "expected_calls": expected,
                     "generate_seconds": round(seconds, 1)}
            clips_dir.mkdir(parents=True, exist_ok=True)
            np.save(kept, clips.astype(np.float16))  # to score again without generating
        scores = scorer(clips) if np.isfinite(clips).all() else {"finite": False}
        record["rows"][key] = {**row, **facts, **scores}
        calls, seconds = facts["calls"], facts["generate_seconds"]
        save()
        print(f"{key}: calls {calls}, FAD {scores.get('fad', float('nan')):.4g}, "
              f"PKID {scores.get('pkid', float('nan')):.3g}, "
              f"{scores.get('loudness_db', float('nan')):.1f} dB, {seconds:.0f} s", flush=True)


# ---------------------------------------------------------------------------- report


def _f(value, digits: int = 3) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}g}"


def report(_: argparse.Namespace) -> None:
    records = {path.stem.removeprefix("steps_study-"): json.loads(path.read_text())
               for path in sorted(RESULTS.glob("steps_study-*.json"))}
    lines = []
    for name, record in records.items():
        rows = record["rows"]
        settings = record["settings"]
        lines += [f"### {name}: `{settings['model']}`", "",
                  f"{settings['clips']} clips of {settings['seconds']} s per row, seed "
                  f"{settings['seed']}, against {settings['corpus']}/train; {record['machine']};"
                  f" {record.get('updated')}.", "",
                  "| row | model calls | FAD mel_stats [95% CI] | FAD levelled | KID mel_stats "
                  "| FAD pitch | PKID | PIS | loudness dB | generate s |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        ordered = sorted(rows.values(), key=lambda r: (
            {"held-out": 0, "teacher": 1, "student": 2}[r["kind"]], r.get("schedule", ""),
            r.get("label", ""), r.get("sampler", ""), -r.get("calls", 0)))
        for row in ordered:
            if row["kind"] == "held-out":
                label = (f"held-out real clips (best case; the reference's own PIS "
                         f"{row['reference_pis']:.3g} and loudness "
                         f"{row['reference_loudness_db']:.1f} dB)")
                calls = "-"
            else:
                label = (f"student round {row['round']} (ddim, {row['schedule']}"
                         f"{', ' + row['label'] if row.get('label') else ''})"
                         if row["kind"] == "student"
                         else f"{row['sampler']}, {row['schedule']}")
                calls = str(row["calls"])
            if not row.get("finite", True):
                lines.append(f"| {label} | {calls} | not finite | | | | | | | |")
                continue
            lines.append(
                f"| {label} | {calls} | {_f(row['fad'])} [{_f(row['fad_low'])}, "
                f"{_f(row['fad_high'])}] | {_f(row['fad_levelled'])} | {_f(row['kid'])} | "
                f"{_f(row['fad_pitch'])} | {_f(row['pkid'])} | {_f(row['pis'])} | "
                f"{row['loudness_db']:.1f} | {row.get('generate_seconds', '-')} |")
        lines += ["", *goals(rows), ""]
    text = "\n".join(lines)
    write_text(RESULTS / "steps_study.md", text)
    print(text)
    plot(records)


def goals(rows: dict) -> list[str]:
    """Issue 7's two goals, on each metric (lower is better for all three)."""
    teacher = [r for r in rows.values() if r["kind"] == "teacher" and r.get("finite", True)]
    students = {(r.get("label") or "", r["steps"]): r for r in rows.values()
                if r["kind"] == "student"}
    lines = ["| goal | metric | measured | reference | ratio | met (within 10%) |",
             "|---|---|---:|---:|---:|---|"]
    for metric in ("fad", "fad_levelled", "pkid"):
        best = min(teacher, key=lambda r: r[metric], default=None)
        if best is None:
            continue
        for (label, steps), four in sorted(students.items()):
            if steps != 4 or not four.get("finite", True):
                continue
            ratio = four[metric] / best[metric]
            lines.append(f"| 4-step student{' (' + label + ')' if label else ''} vs the "
                         f"teacher's best | {metric} | {_f(four[metric])}"
                         f" | {_f(best[metric])} ({best['sampler']}, {best['schedule']}, "
                         f"{best['calls']} calls) | {ratio:.2f} | "
                         f"{'yes' if ratio <= 1.1 else 'no'} |")
        cheap = [r for r in teacher if r["calls"] <= 10 and r["schedule"] != "cosine_grid"]
        at_200 = [r for r in teacher if r["budget"] == 200]
        if cheap and at_200:
            fast = min(cheap, key=lambda r: r[metric])
            slow = min(at_200, key=lambda r: r[metric])
            ratio = fast[metric] / slow[metric]
            lines.append(f"| best sampler at <= 10 calls vs the best at 200 | {metric} | "
                         f"{_f(fast[metric])} ({fast['sampler']}, {fast['schedule']}, "
                         f"{fast['calls']}) | {_f(slow[metric])} ({slow['sampler']}, "
                         f"{slow['schedule']}) | {ratio:.2f} | {'yes' if ratio <= 1.1 else 'no'}"
                         " |")
    return lines


def plot(records: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = (("fad", "FAD (mel_stats)"), ("fad_levelled", "FAD, clips levelled"),
               ("pkid", "PKID (pitch classifier KID)"))
    figure, axes = plt.subplots(len(metrics), len(records),
                                figsize=(6.5 * len(records), 4 * len(metrics)), squeeze=False)
    for column, (name, record) in enumerate(records.items()):
        rows = [row for row in record["rows"].values() if row.get("finite", True)]
        held = record["rows"].get("held-out")
        for axis, (metric, label) in zip(axes[:, column], metrics, strict=True):
            series: dict[str, list] = {}
            for row in rows:
                if row["kind"] == "held-out":
                    continue
                line = (f"distilled students {row.get('label') or ''}".strip()
                        if row["kind"] == "student" else f"{row['sampler']} ({row['schedule']})")
                series.setdefault(line, []).append((row["calls"], row[metric]))
            for line, points in sorted(series.items()):
                points.sort()
                if line.startswith("distilled students"):
                    colour = "black" if line == "distilled students" else "dimgrey"
                    axis.plot(*zip(*points, strict=True), "-o", color=colour, label=line,
                              linewidth=2.5)
                    continue
                sampler, schedule_kind = line.split(" ", 1)
                style = {"(karras)": "-", "(tuned)": "--", "(cosine_grid)": ":"}.get(
                    schedule_kind, "-.")
                axis.plot(*zip(*points, strict=True), style, marker=".", label=line,
                          color=SAMPLER_COLOURS.get(sampler, "tab:grey"), linewidth=1.2)
            if held:
                axis.axhline(held[metric], color="grey", linewidth=1,
                             label="held-out real clips")
            axis.set_xscale("log")
            axis.set_yscale("log")
            axis.set_xlabel("model calls")
            axis.set_ylabel(label)
            axis.set_title(f"{name}: {label}")
            axis.grid(True, which="both", alpha=0.3)
        axes[0, column].legend(fontsize=7, ncol=2)
    figure.tight_layout()
    figure.savefig(RESULTS / "steps_study.png", dpi=110)
    print(f"wrote {RESULTS / 'steps_study.png'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    measure = commands.add_parser("run", help="measure one model")
    measure.add_argument("name")
    measure.add_argument("model")
    measure.add_argument("--students", help="a `cadenza distill` run folder")
    measure.add_argument("--students-label", default="",
                         help="tells these students from another run's (e.g. longer rounds)")
    measure.add_argument("--clips", type=int, default=64)
    measure.add_argument("--seconds", type=float, default=4.0)
    measure.add_argument("--seed", type=int, default=0)
    measure.add_argument("--corpus", default="corpus/piano")
    measure.add_argument("--max-calls", type=int, default=10**6,
                         help="skip rows costing more (measure them later)")
    measure.add_argument("--only", nargs="*", choices=("teacher", "student"))
    measure.add_argument("--long-samplers", nargs="*", default=list(LONG_SAMPLERS),
                         choices=SAMPLERS, help="the samplers measured at 1000 calls")
    measure.add_argument("--cap", type=float,
                         help="also run every sampler at <= 50 calls on karras from this sigma")
    measure.add_argument("--keep", default="runs/steps_study",
                         help="folder for the generated clips (float16 .npy), for --rescore")
    measure.add_argument("--rescore", action="store_true",
                         help="score every row again; rows whose clips were kept are not "
                              "generated again")
    measure.set_defaults(run=run)
    commands.add_parser("report", help="tables and plot of every measured model").set_defaults(
        run=report)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
