#!/usr/bin/env bash
# The contracts against real proofs:
#   bash scripts/contracts.sh        # EVM tests (in-process Hardhat EVM and a `hardhat node`)
#   bash scripts/contracts.sh gas    # gas report, written to contracts/gas.json
# Generates the verifier and two proofs (Hardhat's first two accounts as minters) with the CLI
# and the development SRS, the verifier of the generator's shape and a proof with its weights
# committed, the generator's collection laid out for the prover with a proof at its layout,
# and a verifier and a proof with parameters imported from a
# Powers-of-Tau ceremony file (scripts/ptau.sh: made by snarkjs); installs the npm packages,
# compiles with solc-js, runs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-env.sh
ensure_node

cargo build --locked -p section9 --quiet
bin=target/debug/section9
gen=contracts/generated
mkdir -p "$gen"
"$bin" export-verifier --dev-srs --out "$gen/Halo2Verifier.sol" 2>/dev/null
"$bin" prove --dev-srs --prompt "a lighthouse at dusk" \
    --minter 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 --out "$gen/proof-alice.json" 2>/dev/null
"$bin" prove --dev-srs --prompt "a paper crane on a windowsill" \
    --minter 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --out "$gen/proof-bob.json" 2>/dev/null

# Committed weights: the generator's shape's verifier and a proof made with its weights (the
# collection names the weight commitment the proof file states).
mkdir -p "$gen/committed"
"$bin" export-verifier --dev-srs --weights committed --out "$gen/committed/Halo2Verifier.sol" 2>/dev/null
"$bin" prove --dev-srs --weights committed --prompt "a fox under the moon" \
    --minter 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 --out "$gen/committed/proof-alice.json" 2>/dev/null

# The generator's collection laid out for the prover (`collection new --optimize prover`: dot
# rows of several outputs and more range lanes at a smaller k): its verifier and a proof at its
# layout.
"$bin" collection new --model model/gan.onnx --name "Section 9" --symbol S9 --optimize prover --dev-srs \
    --out "$gen/prover" >/dev/null 2>&1
read -r width lanes accumulators < <(node -e 'const c = require(process.argv[1]); console.log(c.width, c.lanes, c.accumulators)' "$PWD/$gen/prover/collection.json")
"$bin" prove --dev-srs --width "$width" --lanes "$lanes" --accumulators "$accumulators" --prompt "a kite over the dunes" \
    --minter 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 --out "$gen/prover/proof-alice.json" 2>/dev/null

# Model circuits: the zoo's models compiled, proved (hashed inputs, public outputs) and their
# verifiers exported — split across contracts where one would be over EIP-170.
# The transformer (PyTorch's dynamo export: attention, Softmax, LayerNorm) takes five contracts
# laid out for the prover (the default) and fewer laid out for the verifier (`--optimize verifier`).
mkdir -p "$gen/models"
for m in mlp lenet separable transformer transformer-small; do
    optimize=prover
    case "$m" in
        transformer) onnx=model/zoo/torch_transformer_dynamo.onnx data=model/zoo/torch_transformer ;;
        transformer-small) onnx=model/zoo/torch_transformer_dynamo.onnx data=model/zoo/torch_transformer optimize=verifier ;;
        *) onnx="model/zoo/$m.onnx" data="model/zoo/$m" ;;
    esac
    "$bin" compile "$onnx" --calibrate "$data.calibration.json" --out "$gen/models/$m.s9" >/dev/null 2>&1
    "$bin" prove --dev-srs --model "$gen/models/$m.s9" --input "$data.input.json" --optimize "$optimize" \
        --input-visibility hashed --out "$gen/models/$m.proof.json" >/dev/null 2>&1
    "$bin" export-verifier --dev-srs --model "$gen/models/$m.s9" --input-visibility hashed --optimize "$optimize" \
        --out "$gen/models/$m.sol" >/dev/null 2>&1
done

bash scripts/ptau.sh
mkdir -p "$gen/imported"
"$bin" export-verifier --params target/ptau/mint.srs --out "$gen/imported/Halo2Verifier.sol"
printf 'a harbour in the rain\n' | "$bin" prove --params target/ptau/mint.srs --prompt-file - \
    --minter 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 --out "$gen/imported/proof-alice.json"
"$bin" verify --params target/ptau/mint.srs "$gen/imported/proof-alice.json"

npm_install contracts
(cd contracts && VERIFIER_SOL=generated/imported/Halo2Verifier.sol BUILD_DIR=build/imported node scripts/compile.js >/dev/null)
(cd contracts && VERIFIER_SOL=generated/committed/Halo2Verifier.sol BUILD_DIR=build/committed node scripts/compile.js >/dev/null)
(cd contracts && VERIFIER_SOL=generated/prover/Halo2Verifier.sol BUILD_DIR=build/prover node scripts/compile.js >/dev/null)
case "${1:-test}" in
    test) npm --prefix contracts test ;;
    gas) npm --prefix contracts run gas ;;
    *) echo "usage: bash scripts/contracts.sh [test|gas]" >&2; exit 2 ;;
esac
