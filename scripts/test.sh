#!/usr/bin/env bash
# Runs every test of Section 9. Installs what a fresh machine lacks; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "Rust tests (library, CLI, test vectors, malformed inputs, properties)"
cargo test --workspace --locked

step "contracts on a real EVM: generated verifier, art token, real proofs, deploy script"
bash scripts/contracts.sh

step "the mint page end to end in headless Chromium: local chain, threaded wasm proof, wallet mint"
bash scripts/e2e.sh

step "all tests passed"
