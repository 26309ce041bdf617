"""How much does C2ST move with its classifier's own seed?

    python benchmarks/c2st_spread.py --corpus corpus-ref [--seeds 5] [--clips 64]

C2ST's interval (``cadenza.metrics.c2st``) is the binomial spread of the judged clips for one
trained classifier; training it again from another seed is a second source of spread, which
the interval does not hold. This trains it ``--seeds`` times, at 64 and at 160 mel bands, on two
of ``benchmarks/tiny_models.py``'s fixed rows, built as that script builds them: the held-out
clips (real against real) and the same clips encoded and decoded by the shipped default (its
decoder's copy synthesis). Prints one line per seed and the range.
"""

from __future__ import annotations

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import argparse  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from tiny_models import RATE, _held_out, through_decoder  # noqa: E402

from cadenza.evaluate import ClipSet, load_clips  # noqa: E402
from cadenza.metrics.c2st import FINE_N_MELS, c2st  # noqa: E402
from cadenza.pipeline import model_folder  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--clips", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--reference-clips", type=int, default=400)
    args = parser.parse_args()
    args.seed = 0  # the clips tiny_models draws with its default seed
    torch.set_num_threads(1)
    corpus = Path(args.corpus)
    reference = load_clips(corpus / "train", RATE, args.seconds, name="train", progress=False)
    if len(reference) > args.reference_clips:  # the subset tiny_models takes
        keep = np.sort(np.random.default_rng(2).permutation(len(reference))
                       [: args.reference_clips])
        reference = ClipSet.from_array("train", reference.clips[keep], RATE)
    judged = reference.clips[np.random.default_rng(3).permutation(len(reference))[: args.clips]]
    held = _held_out(corpus, args)
    rows = {"held-out": held, "held-out through the default's decoder":
            through_decoder(held, model_folder(None))}
    for name, clips in rows.items():
        coarse, fine = [], []
        for seed in range(args.seeds):
            coarse.append(c2st(judged, clips, RATE, seed=seed).accuracy)
            fine.append(c2st(judged, clips, RATE, seed=seed, n_mels=FINE_N_MELS).accuracy)
            print(f"{name}, seed {seed}: {coarse[-1]:.3f} (64 bands), {fine[-1]:.3f} (160)",
                  flush=True)
        print(f"{name}: 64 bands {min(coarse):.2f}-{max(coarse):.2f} (mean "
              f"{np.mean(coarse):.2f}), 160 bands {min(fine):.2f}-{max(fine):.2f} (mean "
              f"{np.mean(fine):.2f})", flush=True)


if __name__ == "__main__":
    main()
