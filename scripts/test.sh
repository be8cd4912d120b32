#!/usr/bin/env bash
# Runs every test of Section 9. Installs what a fresh machine lacks; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain: wasm32 target"
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

step "Rust tests (library, CLI, test vectors, malformed inputs, properties)"
cargo test --workspace --locked

step "the library builds for the browser (wasm32-unknown-unknown, no ONNX, no PNG)"
cargo build -p section9 --lib --no-default-features --target wasm32-unknown-unknown --locked

step "all tests passed"
