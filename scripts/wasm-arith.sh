#!/usr/bin/env bash
# Field arithmetic for the browser build. halo2curves-axiom's multiplication builds on
# 64 x 64 -> 128-bit products, which wasm lacks (each becomes a call to `__multi3`);
# crate/patches/halo2curves-axiom-wasm.patch (ours) multiplies on 29-bit limbs on wasm instead
# and carries with plain overflow flags (see its comments). This script applies it to a copy
# of the exact registry release in target/wasm-patched/halo2curves-axiom (rebuilt when the
# patch or Cargo.lock changes), which only the wasm builds use; native builds use the crate
# unchanged.
#   bash scripts/wasm-arith.sh          # prepare the copy (scripts/wasm.sh does this)
#   bash scripts/wasm-arith.sh test     # and run the crate's own BN254 field and curve tests
#                                       # on the wasm arithmetic, natively
set -euo pipefail
cd "$(dirname "$0")/.."

patch_file=crate/patches/halo2curves-axiom-wasm.patch
patched=target/wasm-patched
stamp=$(cat "$patch_file" Cargo.lock | sha256sum | cut -d' ' -f1)
if [ "$(cat "$patched/stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "patching halo2curves-axiom for wasm"
    manifest=$(cargo metadata --format-version 1 --locked | python3 -c '
import json, sys
packages = json.load(sys.stdin)["packages"]
print(next(p["manifest_path"] for p in packages if p["name"] == "halo2curves-axiom"))')
    rm -rf "$patched"
    mkdir -p "$patched"
    cp -r "$(dirname "$manifest")" "$patched/halo2curves-axiom"
    git apply --directory="$patched/halo2curves-axiom" --unsafe-paths "$patch_file"
    echo "$stamp" > "$patched/stamp"
fi

if [ "${1:-}" = test ]; then
    # `--cfg halo2curves_wasm_arith` selects the wasm code paths on any target. The crate's
    # tests check multiplication, squaring, inversion (an independent algorithm), square
    # roots, serialisation and curve arithmetic against each other and known values.
    # The crate's own rust-toolchain file names an old toolchain: use the one this repository
    # builds with.
    toolchain=$(rustup show active-toolchain | cut -d' ' -f1)
    (cd "$patched/halo2curves-axiom" &&
        RUSTFLAGS="--cfg halo2curves_wasm_arith" CARGO_TARGET_DIR="$PWD/../target" \
            cargo +"$toolchain" test --release --locked --lib -- bn256::)
fi
