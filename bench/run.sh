#!/usr/bin/env bash
# Section 9 vs EZKL on the same generator (model/gan.onnx), in one command:
#   bash bench/run.sh [extra ezkl_bench.py options, e.g. --keep]
# and the general compiler vs EZKL on the zoo models and the generator (bench/models.py):
#   bash bench/run.sh models [bench/models.py options, e.g. --reuse-ezkl]
#
# 1. makes the venv bench/.venv and installs the pinned bench/requirements.txt;
# 2. builds Section 9 and writes bench/section9.json (`section9 bench`);
# 3. runs EZKL's pipeline and writes bench/ezkl.json (bench/ezkl_bench.py);
# 4. prints the side-by-side table (bench/compare.py).
#
# Needs python3 (3.11), cargo and the PyPI registry. The EZKL half takes about ten
# minutes and, at its peak, over 10 GB of memory on a 2-core machine.
# Set SKIP_SECTION9=1 or SKIP_EZKL=1 to rerun only the other half.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=bench/.venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt

if [ "${1:-}" = models ]; then
    shift
    cargo build --release -p section9
    exec "$venv/bin/python" bench/models.py "$@"
fi

if [ "${SKIP_SECTION9:-0}" != 1 ]; then
    echo "== Section 9"
    cargo build --release -p section9
    ./target/release/section9 bench --dev-srs --repeat 5 --json bench/section9.json
fi

if [ "${SKIP_EZKL:-0}" != 1 ]; then
    echo "== EZKL"
    "$venv/bin/python" bench/ezkl_bench.py "$@"
fi

echo
"$venv/bin/python" bench/compare.py
