"""Where a sampled canvas ends: does the default model fade there, and do extensions dip?

    python benchmarks/edges.py --corpus CORPUS [--clips 6] [--prompts 4] [--record edges]

The default model's U-Net zero-pads its time axis to a multiple of 8 frames, and it was
trained on crops of one length, so it saw one amount of padding. Sampled at other lengths it
can treat the canvas's end as the end of the music. Two measurements, each with cadenza's
remedy on and off:

- **generate**: ``--clips`` clips at lengths with every padding the network can meet (4 s is
  the training crop's), 20 deis steps as shipped; per clip the level of the last 0.3 s (and
  the first 0.3 s) against the whole clip's, in dB, median over clips. "padded as trained"
  is :class:`cadenza.networks.common.PaddedAsTrained` (the pipeline's default); "as it comes"
  feeds the network the canvas as it is.
- **extend**: ``--prompts`` held-out pieces (the corpus's validation and test splits, 5 s from
  10 s in) extended by 10 s in 5 s windows with 4 s of context (a join every second), with
  the model's own editing strategy, each
  with two seeds; per join the quietest 20 ms of the 200 ms before it against the
  continuation's median level (``cadenza.metrics.continuity.join_dips``): the share of joins
  more than 12 dB down, and the median depth, for each combination of padding and
  ``margin_seconds`` (0: the window's end is kept; 0.25 or 0.5, the default: sampled and
  dropped).
  The same measure on the pieces' real continuations is the floor.

Writes ``benchmarks/results/NAME.json``, ``NAME.md`` and ``NAME.png`` (the median 50 ms level
envelope of the generated clips at one length, both ways; one extension's level, both ways).
"""

from __future__ import annotations

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import argparse  # noqa: E402
import datetime  # noqa: E402
import platform  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from editing_real import held_out  # noqa: E402

from cadenza import __version__, tasks  # noqa: E402
from cadenza.atomic import write_json, write_text  # noqa: E402
from cadenza.metrics.continuity import join_dips  # noqa: E402
from cadenza.pipeline import Pipeline, load, shipped  # noqa: E402

RESULTS = Path(__file__).parent / "results"
EDGE_SECONDS = 0.3
LENGTHS = (4.0, 5.0, 5.056, 5.088, 5.104, 6.0)  # padding 5 (trained), 7, 3, 1, 0, 0 frames
PROMPT_SECONDS, EXTEND_SECONDS = 5.0, 10.0
ENVELOPE_SECONDS = 0.05
MARGINS = (0.5, 0.25, 0.0)  # extend's default first


def default_model(padded: bool) -> Pipeline:
    """The shipped default; without ``describe`` it does not know its crops, so it is not
    padded as trained."""
    model = load(shipped())
    if not padded:
        model.describe = {}
    return model


def level_db(wave: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(wave.astype(np.float64) ** 2) + 1e-12))


def envelope(wave: np.ndarray, rate: int) -> np.ndarray:
    block = round(ENVELOPE_SECONDS * rate)
    blocks = len(wave) // block
    return 10 * np.log10((wave[: blocks * block].reshape(blocks, block) ** 2).mean(1) + 1e-12)


def generated_edges(clips: int) -> tuple[list[dict], dict]:
    rows, envelopes = [], {}
    for padded in (True, False):
        model = default_model(padded)
        rate, edge = model.sample_rate, round(EDGE_SECONDS * model.sample_rate)
        for seconds in LENGTHS:
            waves = tasks.generate(model, seconds, clips, seed=0)[:, 0].numpy()
            frames = model.representation.frames(model.representation.samples_for(seconds))
            rows.append({
                "padded": padded, "seconds": seconds, "padding_frames": -frames % 8,
                "end_db": float(np.median([level_db(w[-edge:]) - level_db(w) for w in waves])),
                "start_db": float(np.median([level_db(w[:edge]) - level_db(w) for w in waves])),
            })
            if seconds == LENGTHS[-1]:
                envelopes[padded] = np.median([envelope(w, rate) for w in waves], axis=0)
            print(rows[-1], flush=True)
    return rows, envelopes


def extension_joins(corpus: Path, prompts: int) -> tuple[list[dict], dict]:
    joins = [PROMPT_SECONDS + t for t in np.arange(1.0, EXTEND_SECONDS)]
    rows, levels = [], {}
    rate = load(shipped()).sample_rate  # 16 kHz, editing_real's rate
    pieces = [wave for _, wave in held_out(corpus, prompts, PROMPT_SECONDS + EXTEND_SECONDS)]
    real = [join_dips(w, rate, joins, since=PROMPT_SECONDS) for w in pieces]
    rows.append({"row": "real continuation (floor)", **summarise(real)})
    for padded in (True, False):
        model = default_model(padded)
        for margin in MARGINS:
            scores = []
            for index, piece in enumerate(pieces):
                prompt = torch.from_numpy(piece[:, : round(PROMPT_SECONDS * rate)])
                for seed in (0, 1):
                    wave = tasks.extend(model, prompt, EXTEND_SECONDS, seed=seed,
                                        margin_seconds=margin).numpy()
                    scores.append(join_dips(wave, rate, joins, since=PROMPT_SECONDS))
                    if index == 0 and seed == 0:
                        levels[(padded, margin)] = envelope(wave[0], rate)
            name = (f"{'padded as trained' if padded else 'as it comes'}, "
                    f"margin {margin:g} s")
            rows.append({"row": name, **summarise(scores)})
            print(rows[-1], flush=True)
    return rows, levels


def summarise(scores: list[dict]) -> dict:
    return {"joins_dipping": float(np.mean([s["joins_dipping"] for s in scores])),
            "median_dip_db": float(np.median([s["join_dip_db"] for s in scores]))}


def report(record: dict) -> str:
    lines = [f"{record['machine']}; {record['date']}.", "",
             "| clip length | padding (frames; trained: 5) | sampled as | last 0.3 s, dB | "
             "first 0.3 s, dB |", "|---:|---:|---|---:|---:|"]
    for row in record["generate"]:
        lines.append(f"| {row['seconds']:g} s | {row['padding_frames']} | "
                     f"{'padded as trained' if row['padded'] else 'as it comes'} | "
                     f"{row['end_db']:+.1f} | {row['start_db']:+.1f} |")
    lines += ["", "| extension | joins > 12 dB down | median dip, dB |", "|---|---:|---:|"]
    for row in record["extend"]:
        lines.append(f"| {row['row']} | {row['joins_dipping']:.0%} | "
                     f"{row['median_dip_db']:+.1f} |")
    return "\n".join(lines) + "\n"


def draw(envelopes: dict, levels: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (top, bottom) = plt.subplots(2, 1, figsize=(10, 5.5))
    for padded, curve in envelopes.items():
        top.plot(np.arange(len(curve)) * ENVELOPE_SECONDS, curve,
                 label="padded as trained" if padded else "as it comes")
    top.set_title(f"generated {LENGTHS[-1]:g} s clips: median 50 ms level", fontsize=9,
                  loc="left")
    top.set_ylabel("dB")
    top.legend(fontsize=8)
    for (padded, margin), curve in levels.items():
        if (padded, margin) in ((True, MARGINS[0]), (False, 0.0)):
            bottom.plot(np.arange(len(curve)) * ENVELOPE_SECONDS, curve,
                        label=f"{'padded as trained' if padded else 'as it comes'}, "
                              f"margin {margin:g} s")
    for join in np.arange(PROMPT_SECONDS, PROMPT_SECONDS + EXTEND_SECONDS):
        bottom.axvline(join, color="grey", linewidth=0.5)
    bottom.set_title("one held-out prompt extended (grey: the seam and window joins)",
                     fontsize=9, loc="left")
    bottom.set_xlabel("seconds")
    bottom.set_ylabel("dB")
    bottom.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=80)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--clips", type=int, default=6)
    parser.add_argument("--prompts", type=int, default=4)
    parser.add_argument("--record", default="edges")
    args = parser.parse_args()
    torch.set_num_threads(1)
    generate_rows, envelopes = generated_edges(args.clips)
    extend_rows, levels = extension_joins(Path(args.corpus), args.prompts)
    record = {"settings": vars(args), "generate": generate_rows, "extend": extend_rows,
              "machine": f"{platform.system()} {platform.machine()}, one thread, "
                         f"torch {torch.__version__}, cadenza {__version__}",
              "date": datetime.date.today().isoformat()}
    RESULTS.mkdir(exist_ok=True)
    write_json(RESULTS / f"{args.record}.json", record)
    text = report(record)
    write_text(RESULTS / f"{args.record}.md", text)
    draw(envelopes, levels, RESULTS / f"{args.record}.png")
    print(text)


if __name__ == "__main__":
    main()
