#!/usr/bin/env bash
# The main job: a local chain with a collection deployed and its mint page served.
#   bash scripts/start.sh          → the committed generator's collection, http://127.0.0.1:8080
#                                   (PORT, CHAIN_PORT to change ports)
#   bash scripts/start.sh DIR      → the collection `section9 collection new --out DIR` made
#                                   (or COLLECTION=DIR)
#   PARAMS=pot.srs bash scripts/start.sh   → the committed collection with params imported from a
#                                   ceremony file (`section9 srs import FILE.ptau --out pot.srs`)
# Builds the CLI, the committed collection when no DIR is given (by default on the insecure
# development SRS, which deploy.js allows on this local chain only), the wasm prover and the
# page; starts `hardhat node` on 127.0.0.1:8545, deploys the collection's verifier and art
# contract with its first funded account, serves the page until Ctrl-C. Installs what a fresh
# machine lacks; safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-env.sh
ensure_node
PORT="${PORT:-8080}"
CHAIN_PORT="${CHAIN_PORT:-8545}"
step() { printf '\n==> %s\n' "$*"; }

collection="${1:-${COLLECTION:-}}"

step "building the CLI"
cargo build --release --locked -p section9 --quiet
bin=target/release/section9
npm_install contracts
npm_install .
if [ -z "$collection" ]; then
    step "making the committed generator's collection"
    collection=target/collection
    srs=(--dev-srs)
    if [ -n "${PARAMS:-}" ]; then srs=(--params "$PARAMS"); fi
    "$bin" collection new --model model/gan.onnx --name "Section 9" --symbol S9 "${srs[@]}" --out "$collection"
fi
if [ ! -f "$collection/collection.json" ]; then
    echo "error: $collection is not a collection (no collection.json): make one with \`section9 collection new --out $collection\`" >&2
    exit 1
fi
collection=$(cd "$collection" && pwd)

step "building the wasm prover (threaded and single-threaded)"
bash scripts/wasm.sh

step "compiling the contracts, building the page"
mkdir -p web/static
cp "$collection"/static/* web/static/
(cd contracts && VERIFIER_SOL="$collection/Halo2Verifier.sol" node scripts/compile.js)
npx webpack --mode production

for port in "$CHAIN_PORT" "$PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "error: something already listens on 127.0.0.1:$port (set CHAIN_PORT / PORT to use others)" >&2
        exit 1
    fi
done

step "starting the local chain on 127.0.0.1:$CHAIN_PORT"
mkdir -p target
(cd contracts && exec node_modules/.bin/hardhat node --hostname 127.0.0.1 --port "$CHAIN_PORT") > target/hardhat-node.log 2>&1 &
chain_pid=$!
trap 'kill "$chain_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
    grep -q "Started HTTP" target/hardhat-node.log 2>/dev/null && break
    kill -0 "$chain_pid" 2>/dev/null || { cat target/hardhat-node.log; echo "error: the local chain did not start" >&2; exit 1; }
    sleep 1
done

step "deploying the verifier and the art contract"
setting() { node -e 'const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); const v = c[process.argv[2]]; process.stdout.write(v == null ? "" : String(v))' "$collection/collection.json" "$1"; }
receiver=$(setting royalty_receiver)
weights=$(setting weight_commitment)
env RPC_URL="http://127.0.0.1:$CHAIN_PORT" MODEL_ID="$(setting model_id)" NAME="$(setting name)" SYMBOL="$(setting symbol)" \
    ROYALTY_BPS="$(setting royalty_bps)" ${receiver:+ROYALTY_RECEIVER="$receiver"} ${weights:+WEIGHT_COMMITMENT="$weights"} \
    node contracts/scripts/deploy.js

url="http://127.0.0.1:$PORT/"
cat <<EOT

The mint page: $url
MetaMask: add the network "Section 9 local" — RPC URL http://127.0.0.1:$CHAIN_PORT, chain id 31337,
currency ETH — and import one of the funded development accounts printed in
target/hardhat-node.log (e.g. account #1's private key). They are public keys: local use only.
The chain and the page stop with Ctrl-C.
EOT
if [ -n "${DISPLAY:-}" ]; then
    for browser in xdg-open chromium; do
        if command -v "$browser" >/dev/null; then (sleep 3; "$browser" "$url" >/dev/null 2>&1) & break; fi
    done
fi
PORT="$PORT" npx webpack serve --mode production
