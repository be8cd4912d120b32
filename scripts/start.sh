#!/usr/bin/env bash
# The main job: generate a picture from a prompt with the committed integer-only generator.
#   bash scripts/start.sh "a prompt" [out.png]
set -euo pipefail
cd "$(dirname "$0")/.."
prompt="${1:-a quiet robot watering a tiny plant}"
out="${2:-art.png}"
cargo build --release --locked -p section9 --quiet
./target/release/section9 info | head -1
./target/release/section9 generate --prompt "$prompt" --out "$out" --scale 8
