#!/usr/bin/env bash
# The main job: a local chain with the contracts deployed and the mint page served.
#   bash scripts/start.sh          → http://127.0.0.1:8080 (PORT, CHAIN_PORT to change ports)
#   PARAMS=pot.srs bash scripts/start.sh   → with params imported from a ceremony file
#                                   (`section9 srs import FILE.ptau --out pot.srs`)
# Builds the CLI, the verifier and the page's model and params (by default the insecure
# development SRS, which deploy.js allows on this local chain only), the wasm
# prover and the page; starts `hardhat node` on 127.0.0.1:8545, deploys with its first funded
# account, serves the page until Ctrl-C. Installs what a fresh machine lacks; safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-env.sh
ensure_node
PORT="${PORT:-8080}"
CHAIN_PORT="${CHAIN_PORT:-8545}"
step() { printf '\n==> %s\n' "$*"; }

step "building the CLI"
cargo build --release --locked -p section9 --quiet
bin=target/release/section9
srs=(--dev-srs)
if [ -n "${PARAMS:-}" ]; then srs=(--params "$PARAMS"); fi
"$bin" export-verifier "${srs[@]}" --out contracts/generated/Halo2Verifier.sol
"$bin" export-web "${srs[@]}" --out-dir web/static

step "building the wasm prover (threaded and single-threaded)"
bash scripts/wasm.sh

step "installing npm packages, compiling the contracts, building the page"
npm_install contracts
npm_install .
npm --prefix contracts run build
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
model_id=$("$bin" info | awk '/^model/ { print $2 }')
RPC_URL="http://127.0.0.1:$CHAIN_PORT" MODEL_ID="$model_id" node contracts/scripts/deploy.js

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
