#!/usr/bin/env bash
# The mint page end to end in headless Chromium (tests/e2e/mint.test.js), with everything it
# needs built first: the page assets and verifier (CLI, with parameters imported from a
# Powers-of-Tau ceremony file that snarkjs made: scripts/ptau.sh), the wasm prover
# (scripts/wasm.sh), the contracts (solc-js) and the page (webpack). Installs Debian's chromium
# and the npm packages when missing.
#   bash scripts/e2e.sh                 # the test
#   BENCH_OUT=bench/browser.json bash scripts/e2e.sh   # and keep its timings as the benchmark,
#                                   # with the native prove time measured right after it
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-env.sh
ensure_node
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
    echo "installing chromium (Debian package)"
    sudo=""; if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium
fi

cargo build --locked -p section9 --quiet
bin=target/debug/section9
bash scripts/ptau.sh
npm_install contracts
npm_install .
# Two collections, both on parameters imported from the snarkjs ceremony file: the committed
# generator, and a second one unlike it (model/sprite: nearest upsampling + convolutions, a
# 16×16 grey picture, calibrated by `collection new`, its mint circuit laid out for the
# prover: wider rows and two range lanes). Each gets its verifier, compiled contracts (build/)
# and page files (static/).
rm -rf target/e2e
"$bin" collection new --model model/gan.onnx --name "Section 9" --symbol S9 \
    --params target/ptau/mint.srs --out target/e2e/gan 2>/dev/null
"$bin" collection new --model model/sprite/sprite.onnx --name "Sprites" --symbol SPR --royalty-bps 250 --optimize prover \
    --params target/ptau/mint.srs --out target/e2e/sprite 2>/dev/null
"$bin" collection new --model model/sprite/sprite.onnx --name "Private Sprites" --symbol PSPR --private-weights \
    --params target/ptau/mint.srs --out target/e2e/sprite-private 2>/dev/null
bash scripts/wasm.sh
npx webpack --mode production
node --test --test-concurrency=1 --test-reporter=spec tests/e2e/

if [ -n "${BENCH_OUT:-}" ]; then
    # The browser's prove time means little without the native one on the same machine at the
    # same time (shared machines drift by 10% over hours): measure it now and record both.
    cargo build --release --locked -p section9 --quiet
    ./target/release/section9 bench --dev-srs --repeat 5 --json target/native-bench.json
    node -e '
const fs = require("fs");
const [out, native] = process.argv.slice(1).map((f) => JSON.parse(fs.readFileSync(f, "utf8")));
out.native_prove_s = native.prove_s;
out.prove_vs_native = Number((out.prove_s / native.prove_s).toFixed(2));
fs.writeFileSync(process.argv[1], JSON.stringify(out, null, 2) + "\n");
console.log(`browser ${out.prove_s.toFixed(2)} s, native ${native.prove_s.toFixed(2)} s: ${out.prove_vs_native}x`);
' "$BENCH_OUT" target/native-bench.json
fi
