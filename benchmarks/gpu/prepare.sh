#!/usr/bin/env bash
# Here, before a GPU loan: what run.sh needs that the GPU image lacks, into .gpu/ (ignored,
# carried by the device tool): Python 3.12 wheels of the audio packages, about 20 minutes
# of the piano corpus's training split as 16 kHz FLAC (the default recipe's rate), and the
# twelve held-out clips benchmarks/decoders.py scores decoders on (validation and test splits).
#     bash benchmarks/gpu/prepare.sh CORPUS_TRAIN_FOLDER
set -euo pipefail
cd "$(dirname "$0")/../.."
SOURCE="${1:?give the train/ folder of the corpus}"
mkdir -p .gpu/whl .gpu/data .gpu/heldout
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform any -d .gpu/whl \
    soundfile soxr librosa audioread pooch lazy-loader decorator auraloss pyloudnorm \
    standard-aifc standard-sunau
.venv/bin/python - "$SOURCE" <<'PY'
import sys
from pathlib import Path

import soundfile

from cadenza.data import audio

files = sorted(Path(sys.argv[1]).glob("*.wav"))[::8]  # every 8th piece: about 20 minutes
for path in files:
    wave, rate = audio.load(path, 16000, channels=1)
    soundfile.write(Path(".gpu/data") / (path.stem + ".flac"), wave.T, 16000)
print(f"{len(files)} pieces into .gpu/data")

sys.path.insert(0, "benchmarks")
from decoders import held_out_clips

clips, names = held_out_clips(Path(sys.argv[1]).parent, 12)
for clip, name in zip(clips, names, strict=True):
    soundfile.write(Path(".gpu/heldout") / f"{name}.flac", clip[0].numpy(), 16000)
print(f"{len(names)} held-out clips into .gpu/heldout")
PY
du -sh .gpu
