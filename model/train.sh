#!/usr/bin/env bash
# Section 9 generator: one command from nothing to the committed artifacts.
#   creates model/.venv from requirements.txt, fetches Twemoji with npm into
#   model/.data, trains (float + QAT), exports model/gan.onnx, then writes
#   tests/vectors/gan.json, model/samples.png and model/fidelity.json, runs
#   the integer simulation's self-check and measures how well the prompt steers
#   the picture (model/evaluation.json).
# Extra arguments are passed to train.py (e.g. --epochs 1 --qat-epochs 1 for a smoke run).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"

DATASET_PKG="emoji-datasource-twitter@16.0.0"
PYTHON="${PYTHON:-python3}"

# 1. virtualenv with pinned packages
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/pip install --quiet -r requirements.txt

# 2. dataset (Twemoji PNGs, CC-BY 4.0) from the npm registry; no install scripts run
IMG_DIR=".data/package/img/twitter/64"
if [ ! -d "$IMG_DIR" ]; then
    mkdir -p .data
    (cd .data && npm pack --silent "$DATASET_PKG" >/dev/null && tar xzf emoji-datasource-twitter-16.0.0.tgz)
fi

# 3. train + export (wall time is measured and written to training.json)
.venv/bin/python train.py "$@"

# 4. test vectors, sample grid, fidelity, self-check
.venv/bin/python outputs.py
.venv/bin/python intsim.py

# 5. does the prompt steer the picture? (a real-Twemoji classifier; EVAL_BASELINE=path scores
#    another generator the same way)
.venv/bin/python evaluate.py ${EVAL_BASELINE:+--baseline "$EVAL_BASELINE"}
