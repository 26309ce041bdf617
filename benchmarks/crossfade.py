"""The crossfade where made audio meets the user's (cadenza.joins.paste): its level against
the two signals it joins, with the equal-power law and with the law that follows their
correlation.

    python benchmarks/crossfade.py --corpus CORPUS [--pieces 10]

On the held-out pieces ``editing_real.py`` uses (16 kHz mono), a ``SEAM_SECONDS`` crossfade
at 4 s into a region, from the user's audio to:

- **the same music at 8 kHz** (the piece brought to an 8 kHz model's band and back), as a
  waveform model's continuation of the known audio is: the two are nearly the same signal;
- **another piece** (a cut): two unrelated signals, as a decoded phase is against the original.

The level over the crossfade against the level the two signals' mix should keep (the made
audio's for the same music; the mean power of the two for unrelated ones), in dB; 0 is no bump
and no dip. Writes ``benchmarks/results/crossfade.json``.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import platform
from pathlib import Path

import numpy as np
import torch
from editing_real import RATE, held_out

from cadenza import __version__
from cadenza.atomic import write_json
from cadenza.data import audio
from cadenza.joins import SEAM_SECONDS, correlation, fade_in, paste

MODEL_RATE = 8000
SEAM_AT = 4.0


def equal_power(old: torch.Tensor, new: torch.Tensor, gain: torch.Tensor) -> torch.Tensor:
    """The law cadenza used before: ``old`` goes out as ``sqrt(1 - gain^2)`` whatever ``new`` is."""
    return old * torch.sqrt(1 - gain**2) + new * gain


def bump_db(old: torch.Tensor, new: torch.Tensor, joined: torch.Tensor, same: bool) -> float:
    def power(x: torch.Tensor) -> float:
        return float(x.double().pow(2).mean())
    kept = power(new) if same else (power(old) + power(new)) / 2
    return 10 * np.log10(power(joined) / kept)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--pieces", type=int, default=10)
    args = parser.parse_args()
    pieces = held_out(Path(args.corpus), args.pieces + 1, SEAM_AT + 1.0)
    fade, start = round(SEAM_SECONDS * RATE), round(SEAM_AT * RATE)
    gain = fade_in(fade, fade, torch.zeros(1, dtype=torch.float64))
    rows: dict[str, dict[str, list[float]]] = {"same music at 8 kHz": {}, "another piece": {}}
    for row in rows.values():
        row.update({"equal-power": [], "correlation-following": [], "correlation": []})
    for (_, wave), (_, other) in itertools.pairwise(pieces):
        old = torch.from_numpy(wave[:, start: start + fade].astype(np.float64))
        band_limited = audio.resample(audio.resample(wave, RATE, MODEL_RATE), MODEL_RATE, RATE)
        for name, made in (("same music at 8 kHz", band_limited), ("another piece", other)):
            new = torch.from_numpy(made[:, start: start + fade].astype(np.float64))
            same = name.startswith("same")
            rows[name]["equal-power"].append(bump_db(old, new, equal_power(old, new, gain), same))
            rows[name]["correlation-following"].append(
                bump_db(old, new, paste(old, new, gain), same))
            rows[name]["correlation"].append(float(correlation(old, new).mean()))
    record = {"date": datetime.date.today().isoformat(), "machine": (
        f"{platform.system()} {platform.machine()}, torch {torch.__version__}, "
        f"cadenza {__version__}"), "pieces": args.pieces, "seam_seconds": SEAM_SECONDS,
        "rows": {name: {key: {"median": float(np.median(values)),
                              "max_abs": float(np.max(np.abs(values)))}
                        for key, values in row.items()} for name, row in rows.items()}}
    print("| joined to | correlation (median) | equal-power: dB (median, worst) "
          "| correlation-following: dB (median, worst) |\n|---|---:|---:|---:|")
    for name, row in record["rows"].items():
        print(f"| {name} | {row['correlation']['median']:.2f} | "
              f"{row['equal-power']['median']:+.2f}, {row['equal-power']['max_abs']:.2f} | "
              f"{row['correlation-following']['median']:+.2f}, "
              f"{row['correlation-following']['max_abs']:.2f} |")
    write_json(Path(__file__).parent / "results" / "crossfade.json", record)


if __name__ == "__main__":
    main()
